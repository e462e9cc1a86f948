//! Who may call what, and that no team ever sees another's data: the role
//! matrix over every route of the authentication and vulnerability issues,
//! and the two-team isolation check.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use vulntrack_domain::Role;
use vulntrack_store::{teams, users};

use crate::{
    support::{As, PASSWORD, TestApp, TestResponse},
    vulnerabilities::{create, sample},
};

const ADMIN: &str = "admin@example.com";

/// The signed-in callers of the matrix.
struct Callers {
    admin: String,
    analyst: String,
    viewer: String,
}

impl Callers {
    fn cookie(&self, role: Role) -> &str {
        match role {
            Role::Admin => &self.admin,
            Role::Analyst => &self.analyst,
            Role::Viewer => &self.viewer,
        }
    }
}

/// A fresh user of the admin's team, made directly in the store (no
/// sign-in needed), as a target for user administration routes.
async fn fresh_user(app: &TestApp, n: usize) -> String {
    let record = users::find_for_sign_in(app.db.conn(), ADMIN).await.expect("query").expect("admin");
    let email = format!("target{n}@example.com");
    let new = users::NewUser { email: &email, name: "Target User", role: Role::Viewer, password_hash: "$argon2id$x" };
    users::create(app.db.conn(), record.user.scope(), new).await.expect("user").id.to_string()
}

/// One route call: method, path, body; the path may name fresh objects.
type Call = (Method, String, Option<Value>);

/// Builds the call for one attempt. `n` makes each attempt's objects new,
/// so destructive routes always have something of their own to act on.
async fn route(app: &TestApp, admin: &str, name: &str, n: usize) -> Call {
    let vulnerability =
        || async { create(app, admin, sample(&format!("target {n}"))).await["id"].as_str().expect("id").to_string() };
    let admin_comment = || async {
        let id = vulnerability().await;
        let comment = app
            .post(
                &format!("/api/v1/vulnerabilities/{id}/comments"),
                As::Cookie(admin),
                json!({ "body": "admin's note" }),
            )
            .await;
        comment.body["id"].as_str().expect("comment id").to_string()
    };
    let random = uuid::Uuid::now_v7();
    match name {
        "setup" => (
            Method::POST,
            "/api/v1/setup".into(),
            Some(json!({ "team_name": "X", "name": "X", "email": "x@example.com", "password": PASSWORD })),
        ),
        "login" => (Method::POST, "/api/v1/auth/login".into(), Some(json!({ "email": ADMIN, "password": "wrong" }))),
        "register" => (
            Method::POST,
            "/api/v1/auth/register".into(),
            Some(json!({ "token": "nope", "name": "X", "password": PASSWORD })),
        ),
        "reset request" => {
            (Method::POST, "/api/v1/auth/password-reset".into(), Some(json!({ "email": "nobody@example.com" })))
        }
        "reset confirm" => (
            Method::POST,
            "/api/v1/auth/password-reset/confirm".into(),
            Some(json!({ "token": "nope", "new_password": PASSWORD })),
        ),
        "me" => (Method::GET, "/api/v1/me".into(), None),
        "update me" => (Method::PATCH, "/api/v1/me".into(), Some(json!({ "job_title": "Tester" }))),
        "change password" => (
            Method::POST,
            "/api/v1/me/password".into(),
            Some(json!({ "current_password": "wrong", "new_password": PASSWORD })),
        ),
        "sessions" => (Method::GET, "/api/v1/me/sessions".into(), None),
        "revoke session" => (Method::DELETE, format!("/api/v1/me/sessions/{random}"), None),
        "create token" => (Method::POST, "/api/v1/tokens".into(), Some(json!({ "name": format!("token {n}") }))),
        "tokens" => (Method::GET, "/api/v1/tokens".into(), None),
        "revoke token" => (Method::DELETE, format!("/api/v1/tokens/{random}"), None),
        "invite" => (
            Method::POST,
            "/api/v1/invitations".into(),
            Some(json!({ "email": format!("invitee{n}@example.com"), "role": "VIEWER" })),
        ),
        "invitations" => (Method::GET, "/api/v1/invitations".into(), None),
        "delete invitation" => {
            let invite = app
                .post(
                    "/api/v1/invitations",
                    As::Cookie(admin),
                    json!({ "email": format!("gone{n}@example.com"), "role": "VIEWER" }),
                )
                .await;
            (Method::DELETE, format!("/api/v1/invitations/{}", invite.body["id"].as_str().expect("id")), None)
        }
        "users" => (Method::GET, "/api/v1/users".into(), None),
        "update user" => {
            (Method::PATCH, format!("/api/v1/users/{}", fresh_user(app, n).await), Some(json!({ "role": "ANALYST" })))
        }
        "delete user" => (Method::DELETE, format!("/api/v1/users/{}", fresh_user(app, n).await), None),
        "unlock user" => (Method::POST, format!("/api/v1/users/{}/unlock", fresh_user(app, n).await), None),
        "reset link" => (Method::POST, format!("/api/v1/users/{}/password-reset", fresh_user(app, n).await), None),
        "member tokens" => (Method::GET, format!("/api/v1/users/{}/tokens", fresh_user(app, n).await), None),
        "revoke member token" => {
            (Method::DELETE, format!("/api/v1/users/{}/tokens/{random}", fresh_user(app, n).await), None)
        }
        "audit log" => (Method::GET, "/api/v1/audit-logs".into(), None),
        "audit export" => (Method::GET, "/api/v1/audit-logs/export?format=jsonl".into(), None),
        "alerts" => (Method::GET, "/api/v1/security/alerts".into(), None),
        "acknowledge alert" => (Method::POST, format!("/api/v1/security/alerts/{random}/ack"), None),
        "team" => (Method::GET, "/api/v1/team".into(), None),
        "update team" => (Method::PATCH, "/api/v1/team".into(), Some(json!({ "name": "Blue Team" }))),
        "list vulnerabilities" => (Method::GET, "/api/v1/vulnerabilities".into(), None),
        "create vulnerability" => {
            (Method::POST, "/api/v1/vulnerabilities".into(), Some(sample("created in the matrix")))
        }
        "stats" => (Method::GET, "/api/v1/vulnerabilities/stats".into(), None),
        "show vulnerability" => (Method::GET, format!("/api/v1/vulnerabilities/{}", vulnerability().await), None),
        "update vulnerability" => (
            Method::PATCH,
            format!("/api/v1/vulnerabilities/{}", vulnerability().await),
            Some(json!({ "status": "IN_PROGRESS" })),
        ),
        "delete vulnerability" => (Method::DELETE, format!("/api/v1/vulnerabilities/{}", vulnerability().await), None),
        "comments" => (Method::GET, format!("/api/v1/vulnerabilities/{}/comments", vulnerability().await), None),
        "comment" => (
            Method::POST,
            format!("/api/v1/vulnerabilities/{}/comments", vulnerability().await),
            Some(json!({ "body": "seen" })),
        ),
        "edit admin's comment" => {
            (Method::PATCH, format!("/api/v1/comments/{}", admin_comment().await), Some(json!({ "body": "changed" })))
        }
        "delete admin's comment" => (Method::DELETE, format!("/api/v1/comments/{}", admin_comment().await), None),
        "notifications" => (Method::GET, "/api/v1/notifications".into(), None),
        "read notification" => (Method::POST, format!("/api/v1/notifications/{random}/read"), None),
        "read all notifications" => (Method::POST, "/api/v1/notifications/read-all".into(), None),
        other => panic!("unknown route {other}"),
    }
}

const OK: u16 = 200;
const CREATED: u16 = 201;
const ACCEPTED: u16 = 202;
const NO_CONTENT: u16 = 204;
const UNAUTHORIZED: u16 = 401;
const FORBIDDEN: u16 = 403;
const NOT_FOUND: u16 = 404;
const CONFLICT: u16 = 409;
const INVALID: u16 = 422;

/// Route → expected status for anonymous, VIEWER, ANALYST, ADMIN.
const MATRIX: &[(&str, [u16; 4])] = &[
    ("setup", [CONFLICT, CONFLICT, CONFLICT, CONFLICT]),
    ("login", [UNAUTHORIZED, UNAUTHORIZED, UNAUTHORIZED, UNAUTHORIZED]),
    ("register", [INVALID, INVALID, INVALID, INVALID]),
    ("reset request", [ACCEPTED, ACCEPTED, ACCEPTED, ACCEPTED]),
    ("reset confirm", [INVALID, INVALID, INVALID, INVALID]),
    ("me", [UNAUTHORIZED, OK, OK, OK]),
    ("update me", [UNAUTHORIZED, OK, OK, OK]),
    ("change password", [UNAUTHORIZED, INVALID, INVALID, INVALID]),
    ("sessions", [UNAUTHORIZED, OK, OK, OK]),
    ("revoke session", [UNAUTHORIZED, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
    ("create token", [UNAUTHORIZED, CREATED, CREATED, CREATED]),
    ("tokens", [UNAUTHORIZED, OK, OK, OK]),
    ("revoke token", [UNAUTHORIZED, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
    ("invite", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, CREATED]),
    ("invitations", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    ("delete invitation", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, NO_CONTENT]),
    ("users", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    ("update user", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    ("delete user", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, NO_CONTENT]),
    ("unlock user", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, NO_CONTENT]),
    ("reset link", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, CREATED]),
    ("member tokens", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    ("revoke member token", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, NOT_FOUND]),
    ("audit log", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    ("audit export", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    ("alerts", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    ("acknowledge alert", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, NOT_FOUND]),
    ("team", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    ("update team", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    ("list vulnerabilities", [UNAUTHORIZED, OK, OK, OK]),
    ("create vulnerability", [UNAUTHORIZED, FORBIDDEN, CREATED, CREATED]),
    ("stats", [UNAUTHORIZED, OK, OK, OK]),
    ("show vulnerability", [UNAUTHORIZED, OK, OK, OK]),
    ("update vulnerability", [UNAUTHORIZED, FORBIDDEN, OK, OK]),
    ("delete vulnerability", [UNAUTHORIZED, FORBIDDEN, NO_CONTENT, NO_CONTENT]),
    ("comments", [UNAUTHORIZED, OK, OK, OK]),
    ("comment", [UNAUTHORIZED, FORBIDDEN, CREATED, CREATED]),
    ("edit admin's comment", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    ("delete admin's comment", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, NO_CONTENT]),
    ("notifications", [UNAUTHORIZED, OK, OK, OK]),
    ("read notification", [UNAUTHORIZED, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
    ("read all notifications", [UNAUTHORIZED, NO_CONTENT, NO_CONTENT, NO_CONTENT]),
];

async fn call(app: &TestApp, auth: As<'_>, (method, path, body): Call) -> TestResponse {
    app.send(method, &path, auth, body, &[]).await
}

#[tokio::test]
async fn the_role_matrix_holds_for_every_route() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let callers = Callers {
        analyst: app.add_member(&admin, "analyst@example.com", "ANALYST").await,
        viewer: app.add_member(&admin, "viewer@example.com", "VIEWER").await,
        admin,
    };
    let mut attempt = 0;
    let mut failures = Vec::new();
    for (name, expected) in MATRIX {
        for (who, status) in
            [None, Some(Role::Viewer), Some(Role::Analyst), Some(Role::Admin)].into_iter().zip(expected)
        {
            attempt += 1;
            let request = route(&app, &callers.admin, name, attempt).await;
            let auth = who.map_or(As::Anonymous, |role| As::Cookie(callers.cookie(role)));
            let response = call(&app, auth, request).await;
            if response.status.as_u16() != *status {
                failures
                    .push(format!("{name} as {who:?}: expected {status}, got {} {}", response.status, response.body));
            }
        }
    }
    // Signing out is checked last: it ends the callers' sessions.
    for role in [Role::Viewer, Role::Analyst, Role::Admin] {
        let extra = app.login(&format!("{}@example.com", role.as_str().to_lowercase()), PASSWORD).await;
        let logout = app.send(Method::POST, "/api/v1/auth/logout", As::Cookie(&extra), None, &[]).await;
        assert_eq!(logout.status, StatusCode::NO_CONTENT, "logout as {role:?}");
        let all = app.send(Method::POST, "/api/v1/auth/logout-all", As::Cookie(callers.cookie(role)), None, &[]).await;
        assert_eq!(all.status, StatusCode::NO_CONTENT, "logout-all as {role:?}");
    }
    for path in ["/api/v1/auth/logout", "/api/v1/auth/logout-all"] {
        assert_eq!(
            app.send(Method::POST, path, As::Anonymous, None, &[]).await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// Ids of team A's objects, for team B to try.
struct TeamA {
    vulnerability: String,
    key_word: &'static str,
    comment: String,
    invitation: String,
    user: String,
    token: String,
    session: String,
    notification: String,
    cursor: String,
}

async fn seed_team_a(app: &TestApp) -> (String, TeamA) {
    app.setup_admin("Team A", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, "a-analyst@example.com", "ANALYST").await;
    let analyst_id = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].as_str().expect("id").to_string();
    let mut body = sample("Zanzibar gateway exposes admin console");
    body["assignee_id"] = json!(analyst_id);
    body["tags"] = json!(["alpha-only"]);
    let vulnerability = create(app, &admin, body).await["id"].as_str().expect("id").to_string();
    create(app, &admin, sample("Second finding of team A")).await;
    let comment = app
        .post(
            &format!("/api/v1/vulnerabilities/{vulnerability}/comments"),
            As::Cookie(&admin),
            json!({ "body": "A's note" }),
        )
        .await;
    let invitation = app
        .post("/api/v1/invitations", As::Cookie(&admin), json!({ "email": "a-invitee@example.com", "role": "VIEWER" }))
        .await;
    let token = app.post("/api/v1/tokens", As::Cookie(&admin), json!({ "name": "A's CI" })).await;
    let session = app.get_as("/api/v1/me/sessions", As::Cookie(&admin)).await;
    let notifications = app.get_as("/api/v1/notifications", As::Cookie(&analyst)).await;
    let cursor = app.get_as("/api/v1/vulnerabilities?limit=1", As::Cookie(&admin)).await;
    let team_a = TeamA {
        vulnerability,
        key_word: "zanzibar",
        comment: comment.body["id"].as_str().expect("comment").to_string(),
        invitation: invitation.body["id"].as_str().expect("invitation").to_string(),
        user: analyst_id,
        token: token.body["id"].as_str().expect("token").to_string(),
        session: session.body["items"][0]["id"].as_str().expect("session").to_string(),
        notification: notifications.body["items"][0]["id"].as_str().expect("notification").to_string(),
        cursor: cursor.body["next_cursor"].as_str().expect("cursor").to_string(),
    };
    (admin, team_a)
}

#[tokio::test]
async fn team_b_cannot_reach_anything_of_team_a() {
    let app = TestApp::spawn().await;
    let (a_admin, a) = seed_team_a(&app).await;

    // Team B: its own admin and a vulnerability of its own.
    let team_b = teams::create(app.db.conn(), "Team B").await.expect("team");
    let hash = users::find_for_sign_in(app.db.conn(), ADMIN).await.expect("q").expect("a").password_hash;
    let new = users::NewUser { email: "b-admin@example.com", name: "B Admin", role: Role::Admin, password_hash: &hash };
    users::create(app.db.conn(), team_b.scope(), new).await.expect("b admin");
    let b = app.login("b-admin@example.com", PASSWORD).await;
    create(&app, &b, sample("Team B's own finding")).await;

    let v = &a.vulnerability;
    let probes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/vulnerabilities/{v}"), None),
        (Method::PATCH, format!("/api/v1/vulnerabilities/{v}"), Some(json!({ "title": "pwned" }))),
        (Method::DELETE, format!("/api/v1/vulnerabilities/{v}"), None),
        (Method::GET, format!("/api/v1/vulnerabilities/{v}/comments"), None),
        (Method::POST, format!("/api/v1/vulnerabilities/{v}/comments"), Some(json!({ "body": "hi" }))),
        (Method::PATCH, format!("/api/v1/comments/{}", a.comment), Some(json!({ "body": "pwned" }))),
        (Method::DELETE, format!("/api/v1/comments/{}", a.comment), None),
        (Method::DELETE, format!("/api/v1/invitations/{}", a.invitation), None),
        (Method::PATCH, format!("/api/v1/users/{}", a.user), Some(json!({ "role": "VIEWER" }))),
        (Method::DELETE, format!("/api/v1/users/{}", a.user), None),
        (Method::POST, format!("/api/v1/users/{}/unlock", a.user), None),
        (Method::POST, format!("/api/v1/users/{}/password-reset", a.user), None),
        (Method::DELETE, format!("/api/v1/tokens/{}", a.token), None),
        (Method::DELETE, format!("/api/v1/me/sessions/{}", a.session), None),
        (Method::POST, format!("/api/v1/notifications/{}/read", a.notification), None),
    ];
    for (method, path, body) in probes {
        let response = app.send(method.clone(), &path, As::Cookie(&b), body, &[]).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {path}: {response:?}");
    }
    let b_assigns_a_user = app
        .post("/api/v1/vulnerabilities", As::Cookie(&b), {
            let mut s = sample("x");
            s["assignee_id"] = json!(a.user);
            s
        })
        .await;
    assert_eq!(b_assigns_a_user.status, StatusCode::UNPROCESSABLE_ENTITY, "A's user is not a member of B");
    let stolen_cursor =
        app.get_as(&format!("/api/v1/vulnerabilities?limit=1&cursor={}", a.cursor), As::Cookie(&b)).await;
    assert_eq!(stolen_cursor.status, StatusCode::UNPROCESSABLE_ENTITY, "A's cursor means nothing to B");

    // Nothing of A in any of B's lists, searches or figures; each of them
    // does show A's own object to the member of A it belongs to, so the
    // absence is not just an id format or field the list never shows.
    let a_ids = [&a.vulnerability, &a.comment, &a.invitation, &a.user, &a.token, &a.session, &a.notification];
    let a_analyst = app.login("a-analyst@example.com", PASSWORD).await;
    let by_keyword = format!("/api/v1/vulnerabilities?q={}", a.key_word);
    for (path, a_sees, a_member) in [
        ("/api/v1/vulnerabilities?limit=200", a.vulnerability.as_str(), &a_admin),
        (by_keyword.as_str(), a.vulnerability.as_str(), &a_admin),
        ("/api/v1/vulnerabilities?tag=alpha-only", a.vulnerability.as_str(), &a_admin),
        ("/api/v1/users", a.user.as_str(), &a_admin),
        ("/api/v1/invitations", a.invitation.as_str(), &a_admin),
        ("/api/v1/tokens", a.token.as_str(), &a_admin),
        ("/api/v1/notifications", a.notification.as_str(), &a_analyst),
        ("/api/v1/me/sessions", a.session.as_str(), &a_admin),
        ("/api/v1/team", "Team A", &a_admin),
    ] {
        let response = app.get_as(path, As::Cookie(&b)).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        let text = response.body.to_string();
        for id in a_ids {
            assert!(!text.contains(id.as_str()), "{path} leaks {id}: {text}");
        }
        assert!(!text.to_lowercase().contains(a.key_word) && !text.contains("Team A"), "{path}: {text}");
        let own = app.get_as(path, As::Cookie(a_member)).await.body.to_string();
        assert!(own.contains(a_sees), "{path} shows team A its own {a_sees}: {own}");
    }
    let searched = app.get_as(&format!("/api/v1/vulnerabilities?q={}", a.key_word), As::Cookie(&b)).await;
    assert_eq!(searched.body["items"], json!([]));
    let stats = app.get_as("/api/v1/vulnerabilities/stats", As::Cookie(&b)).await;
    assert_eq!(stats.body["total"], 1, "B's figures count B's records only");
    let key = app.get_as("/api/v1/vulnerabilities/VT-2", As::Cookie(&b)).await;
    assert_eq!(key.status, StatusCode::NOT_FOUND, "keys are per team: B has only VT-1");

    // A still has everything.
    assert_eq!(
        app.get_as(&format!("/api/v1/vulnerabilities/{v}"), As::Cookie(&a_admin)).await.body["title"],
        "Zanzibar gateway exposes admin console"
    );
    assert_eq!(app.get_as("/api/v1/vulnerabilities/stats", As::Cookie(&a_admin)).await.body["total"], 2);
}

#[tokio::test]
async fn team_administration_keeps_records_of_deleted_users_and_one_admin() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, "leaver@example.com", "ANALYST").await;
    let leaver = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].as_str().expect("id").to_string();
    let reported = create(&app, &analyst, sample("Reported by the leaver")).await;
    let id = reported["id"].as_str().expect("id");
    app.post(
        &format!("/api/v1/vulnerabilities/{id}/comments"),
        As::Cookie(&analyst),
        json!({ "body": "my last words" }),
    )
    .await;

    let listed = app.get_as("/api/v1/users", As::Cookie(&admin)).await.body.to_string();
    assert!(listed.contains(&leaver), "members are listed by id: {listed}");
    let deleted = app.delete(&format!("/api/v1/users/{leaver}"), As::Cookie(&admin)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_as("/api/v1/me", As::Cookie(&analyst)).await.status,
        StatusCode::UNAUTHORIZED,
        "their sessions end"
    );
    let kept = app.get_as(&format!("/api/v1/vulnerabilities/{id}"), As::Cookie(&admin)).await;
    assert_eq!(kept.status, StatusCode::OK, "their records stay");
    assert_eq!(kept.body["reporter_id"], json!(leaver));
    let comments = app.get_as(&format!("/api/v1/vulnerabilities/{id}/comments"), As::Cookie(&admin)).await;
    assert_eq!(comments.body["items"][0]["body"], "my last words");
    let listed = app.get_as("/api/v1/users", As::Cookie(&admin)).await.body.to_string();
    assert!(!listed.contains(&leaver), "deleted users leave the member list");
    let again = app.add_member(&admin, "leaver@example.com", "VIEWER").await;
    assert_eq!(
        app.get_as("/api/v1/me", As::Cookie(&again)).await.status,
        StatusCode::OK,
        "the email can be invited again"
    );

    let admin_id = app.get_as("/api/v1/me", As::Cookie(&admin)).await.body["id"].as_str().expect("id").to_string();
    assert_eq!(app.delete(&format!("/api/v1/users/{admin_id}"), As::Cookie(&admin)).await.status, StatusCode::CONFLICT);
    let inactive =
        app.patch(&format!("/api/v1/users/{admin_id}"), As::Cookie(&admin), json!({ "status": "INACTIVE" })).await;
    assert_eq!(inactive.status, StatusCode::CONFLICT);

    let renamed = app.patch("/api/v1/team", As::Cookie(&admin), json!({ "name": "Red Team" })).await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(app.get_as("/api/v1/team", As::Cookie(&admin)).await.body["name"], "Red Team");
    assert_eq!(
        app.patch("/api/v1/team", As::Cookie(&admin), json!({ "name": "  " })).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

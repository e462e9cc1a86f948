//! The audit log: one row per event with the right actor, team, entity
//! and details; atomic with the change; tamper-evident; visible to the
//! team's ADMINs only.

use axum::http::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tokio::process::Command;
use vulntrack_store::{
    Backend, TeamScope,
    audit::{self, AuditRecord},
    users,
};

use crate::{
    support::{As, PASSWORD, TestApp, binary, token_of},
    vulnerabilities::{create, sample},
};

const ADMIN: &str = "admin@example.com";
const ANALYST: &str = "analyst@example.com";

async fn scope_of(app: &TestApp, email: &str) -> TeamScope {
    users::find_for_sign_in(app.db.conn(), email).await.expect("query").expect("user").user.scope()
}

/// Rows written since `after` (a sequence number), oldest first.
async fn rows_after(app: &TestApp, scope: TeamScope, after: &mut i64) -> Vec<AuditRecord> {
    let mut rows: Vec<AuditRecord> = audit::recent(app.db.conn(), scope, 1000)
        .await
        .expect("audit")
        .into_iter()
        .filter(|r| r.seq > *after)
        .collect();
    rows.reverse();
    if let Some(last) = rows.last() {
        *after = last.seq;
    }
    rows
}

struct Expect<'a> {
    action: &'static str,
    actor: &'a str,
    entity_type: Option<&'static str>,
}

fn check(step: &str, rows: &[AuditRecord], expected: &[Expect<'_>]) {
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    let wanted: Vec<&str> = expected.iter().map(|e| e.action).collect();
    assert_eq!(actions, wanted, "{step}");
    for (row, expect) in rows.iter().zip(expected) {
        let actor = row.actor_email.as_deref().unwrap_or(row.actor_kind.as_str());
        assert_eq!(actor, expect.actor, "{step}: actor of {}", row.action);
        assert_eq!(row.entity_type.as_deref(), expect.entity_type, "{step}: entity of {}", row.action);
        if expect.entity_type.is_some() {
            assert!(row.entity_id.as_deref().is_some_and(|id| !id.is_empty()), "{step}: entity id of {}", row.action);
        }
        let details = row.details.to_string();
        for secret in [PASSWORD, "N3w&Better#Pass77", "argon2", "vt_", "token="] {
            assert!(!details.contains(secret), "{step}: {} details leak {secret}: {details}", row.action);
        }
    }
}

fn exp<'a>(action: &'static str, actor: &'a str, entity_type: Option<&'static str>) -> Expect<'a> {
    Expect { action, actor, entity_type }
}

#[tokio::test]
async fn every_event_writes_exactly_one_row_with_actor_team_entity_and_details() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let scope = scope_of(&app, ADMIN).await;
    let mut seq = 0;
    check("setup", &rows_after(&app, scope, &mut seq).await, &[exp("SETUP_COMPLETED", ADMIN, Some("user"))]);

    let admin = app.login(ADMIN, PASSWORD).await;
    check("login", &rows_after(&app, scope, &mut seq).await, &[exp("LOGIN", ADMIN, Some("session"))]);

    let invite =
        app.post("/api/v1/invitations", As::Cookie(&admin), json!({ "email": ANALYST, "role": "VIEWER" })).await;
    let invited = rows_after(&app, scope, &mut seq).await;
    check("invite", &invited, &[exp("USER_INVITED", ADMIN, Some("invitation"))]);
    assert_eq!(invited[0].details["role"], "VIEWER");
    let token = token_of(invite.body["invite_url"].as_str().expect("url"));
    app.post(
        "/api/v1/auth/register",
        As::Anonymous,
        json!({ "token": token, "name": "Ann Analyst", "password": PASSWORD }),
    )
    .await;
    check("accept", &rows_after(&app, scope, &mut seq).await, &[exp("INVITATION_ACCEPTED", ANALYST, Some("user"))]);

    let analyst_id = users::find_for_sign_in(app.db.conn(), ANALYST).await.expect("q").expect("u").user.id;
    app.patch(&format!("/api/v1/users/{analyst_id}"), As::Cookie(&admin), json!({ "role": "ANALYST" })).await;
    let role = rows_after(&app, scope, &mut seq).await;
    check("role", &role, &[exp("USER_ROLE_CHANGED", ADMIN, Some("user"))]);
    assert_eq!(role[0].details["role"], json!({ "before": "VIEWER", "after": "ANALYST" }));

    let analyst = app.login(ANALYST, PASSWORD).await;
    rows_after(&app, scope, &mut seq).await;
    app.post("/api/v1/auth/login", As::Anonymous, json!({ "email": ANALYST, "password": "Wrong#Pass0001" })).await;
    let failed = rows_after(&app, scope, &mut seq).await;
    check("failed login", &failed, &[exp("LOGIN_FAILED", "ANONYMOUS", Some("user"))]);
    assert_eq!(failed[0].details["reason"], "bad_password");

    let created = create(&app, &analyst, sample("Audited finding")).await;
    let id = created["id"].as_str().expect("id").to_string();
    let created_rows = rows_after(&app, scope, &mut seq).await;
    check("create", &created_rows, &[exp("VULNERABILITY_CREATED", ANALYST, Some("vulnerability"))]);
    assert_eq!(created_rows[0].entity_id.as_deref(), Some(id.as_str()));
    assert_eq!(created_rows[0].details["title"], "Audited finding");

    let path = format!("/api/v1/vulnerabilities/{id}");
    app.patch(&path, As::Cookie(&analyst), json!({ "title": "Audited finding, renamed" })).await;
    let updated = rows_after(&app, scope, &mut seq).await;
    check("update", &updated, &[exp("VULNERABILITY_UPDATED", ANALYST, Some("vulnerability"))]);
    assert_eq!(
        updated[0].details["title"],
        json!({ "before": "Audited finding", "after": "Audited finding, renamed" })
    );
    app.patch(&path, As::Cookie(&analyst), json!({ "status": "IN_PROGRESS" })).await;
    check(
        "status",
        &rows_after(&app, scope, &mut seq).await,
        &[exp("VULNERABILITY_STATUS_CHANGED", ANALYST, Some("vulnerability"))],
    );
    app.patch(&path, As::Cookie(&analyst), json!({ "assignee_id": analyst_id })).await;
    check(
        "assign",
        &rows_after(&app, scope, &mut seq).await,
        &[exp("VULNERABILITY_ASSIGNED", ANALYST, Some("vulnerability"))],
    );
    app.post(&format!("{path}/comments"), As::Cookie(&analyst), json!({ "body": "Looking." })).await;
    check("comment", &rows_after(&app, scope, &mut seq).await, &[exp("COMMENT_ADDED", ANALYST, Some("comment"))]);

    app.get_as("/api/v1/users", As::Cookie(&analyst)).await;
    let denied = rows_after(&app, scope, &mut seq).await;
    check("denied", &denied, &[exp("PERMISSION_DENIED", ANALYST, None)]);
    assert_eq!(denied[0].details["action"], "manage_users");

    let token = app.post("/api/v1/tokens", As::Cookie(&admin), json!({ "name": "ci" })).await;
    check("token", &rows_after(&app, scope, &mut seq).await, &[exp("TOKEN_CREATED", ADMIN, Some("api_token"))]);
    app.delete(&format!("/api/v1/tokens/{}", token.body["id"].as_str().expect("id")), As::Cookie(&admin)).await;
    check("revoke", &rows_after(&app, scope, &mut seq).await, &[exp("TOKEN_REVOKED", ADMIN, Some("api_token"))]);

    let export = app.get_as("/api/v1/audit-logs/export?format=jsonl", As::Cookie(&admin)).await;
    assert_eq!(export.status, StatusCode::OK);
    check("export", &rows_after(&app, scope, &mut seq).await, &[exp("DATA_EXPORTED", ADMIN, Some("audit_log"))]);

    app.patch("/api/v1/team", As::Cookie(&admin), json!({ "name": "Red Team" })).await;
    check("team", &rows_after(&app, scope, &mut seq).await, &[exp("TEAM_UPDATED", ADMIN, Some("team"))]);

    for _ in 0..4 {
        app.post("/api/v1/auth/login", As::Anonymous, json!({ "email": ANALYST, "password": "Wrong#Pass0001" })).await;
    }
    let lockout = rows_after(&app, scope, &mut seq).await;
    assert_eq!(lockout.iter().filter(|r| r.action == "ACCOUNT_LOCKED").count(), 1, "exactly one lock row");
    app.send(Method::POST, &format!("/api/v1/users/{analyst_id}/unlock"), As::Cookie(&admin), None, &[]).await;
    check("unlock", &rows_after(&app, scope, &mut seq).await, &[exp("ACCOUNT_UNLOCKED", ADMIN, Some("user"))]);

    let link = app
        .send(Method::POST, &format!("/api/v1/users/{analyst_id}/password-reset"), As::Cookie(&admin), None, &[])
        .await;
    check(
        "reset link",
        &rows_after(&app, scope, &mut seq).await,
        &[exp("PASSWORD_RESET_REQUESTED", ADMIN, Some("user"))],
    );
    let reset = token_of(link.body["reset_url"].as_str().expect("url"));
    app.post(
        "/api/v1/auth/password-reset/confirm",
        As::Anonymous,
        json!({ "token": reset, "new_password": "N3w&Better#Pass77" }),
    )
    .await;
    check("reset", &rows_after(&app, scope, &mut seq).await, &[exp("PASSWORD_RESET", ANALYST, Some("user"))]);

    app.post(
        "/api/v1/me/password",
        As::Cookie(&admin),
        json!({ "current_password": PASSWORD, "new_password": "An0ther&Pass#99" }),
    )
    .await;
    check("password", &rows_after(&app, scope, &mut seq).await, &[exp("PASSWORD_CHANGED", ADMIN, Some("user"))]);

    app.patch(&format!("/api/v1/users/{analyst_id}"), As::Cookie(&admin), json!({ "status": "INACTIVE" })).await;
    check("deactivate", &rows_after(&app, scope, &mut seq).await, &[exp("USER_DEACTIVATED", ADMIN, Some("user"))]);
    app.delete(&path, As::Cookie(&admin)).await;
    check(
        "delete vulnerability",
        &rows_after(&app, scope, &mut seq).await,
        &[exp("VULNERABILITY_DELETED", ADMIN, Some("vulnerability"))],
    );
    app.delete(&format!("/api/v1/users/{analyst_id}"), As::Cookie(&admin)).await;
    check("delete user", &rows_after(&app, scope, &mut seq).await, &[exp("USER_DELETED", ADMIN, Some("user"))]);
    app.send(Method::POST, "/api/v1/auth/logout", As::Cookie(&admin), None, &[]).await;
    check("logout", &rows_after(&app, scope, &mut seq).await, &[exp("LOGOUT", ADMIN, Some("session"))]);

    let intact =
        vulntrack_store::operator::verify_audit_chain(app.db.conn(), Some(scope.team_id())).await.expect("verify");
    assert_eq!(intact, Ok(u64::try_from(seq).expect("seq")), "the chain holds every row");
}

/// Makes every audit write fail, the way a full disk or a broken
/// constraint would.
async fn break_audit_writes(app: &TestApp) {
    let statements: &[&str] = match app.test_db.backend() {
        Backend::Sqlite => &[
            "CREATE TRIGGER inject_failure BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        ],
        Backend::Postgres => &[
            "CREATE FUNCTION inject_failure() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
            "CREATE TRIGGER inject_failure BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION inject_failure()",
        ],
    };
    for statement in statements {
        app.db.conn().execute_unprepared(statement).await.expect("inject");
    }
}

#[tokio::test]
async fn a_failing_audit_write_rolls_the_change_back() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    break_audit_writes(&app).await;

    let created = app.post("/api/v1/vulnerabilities", As::Cookie(&admin), sample("Never stored")).await;
    assert_eq!(created.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(created.content_type, "application/problem+json");
    assert!(!created.body.to_string().contains("injected"), "no internals in the answer");
    let profile = app.patch("/api/v1/me", As::Cookie(&admin), json!({ "job_title": "Never stored" })).await;
    assert_eq!(profile.status, StatusCode::INTERNAL_SERVER_ERROR);

    let me = app.get_as("/api/v1/me", As::Cookie(&admin)).await;
    assert!(me.body["job_title"].is_null(), "the profile change was rolled back");
    let list = app.get_as("/api/v1/vulnerabilities", As::Cookie(&admin)).await;
    assert_eq!(list.body["items"], json!([]), "the vulnerability was rolled back");
}

async fn verify_cli(app: &TestApp) -> std::process::Output {
    Command::new(binary())
        .args(["audit", "verify"])
        .env_clear()
        .env("DATABASE_URL", app.test_db.url.expose())
        .env("VULNTRACK_SECRET", crate::support::TEST_SECRET)
        .current_dir(app.test_db.dir.path())
        .output()
        .await
        .expect("run vulntrack audit verify")
}

#[tokio::test]
async fn audit_verify_passes_on_a_fresh_log_and_names_an_altered_row() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    create(&app, &admin, sample("Chained")).await;

    let fresh = verify_cli(&app).await;
    let out = String::from_utf8_lossy(&fresh.stdout);
    assert!(fresh.status.success(), "{}{}", out, String::from_utf8_lossy(&fresh.stderr));
    assert!(out.contains("team \"Blue Team\": 3 rows, chain intact"), "{out}");

    let scope = scope_of(&app, ADMIN).await;
    let second =
        audit::recent(app.db.conn(), scope, 10).await.expect("rows").into_iter().find(|r| r.seq == 2).expect("row 2");
    let tamper = format!("UPDATE audit_log SET details = '{{\"tampered\": true}}' WHERE id = '{}'", second.id);
    if app.test_db.backend() == Backend::Postgres {
        let refused = app.db.conn().execute_unprepared(&tamper).await;
        assert!(refused.is_err(), "the application role cannot UPDATE the audit log");
        let delete = app.db.conn().execute_unprepared("DELETE FROM audit_log").await;
        assert!(delete.is_err(), "nor DELETE from it");
        // A database superuser could still switch the trigger off: the
        // hash chain is what catches that.
        let conn = app.db.conn();
        conn.execute_unprepared("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").await.expect("disable");
        conn.execute_unprepared(&tamper).await.expect("tamper");
        conn.execute_unprepared("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only").await.expect("enable");
    } else {
        let tamper = format!(
            "UPDATE audit_log SET details = '{{\"tampered\": true}}' WHERE seq = 2 AND team_id = X'{}'",
            scope.team_id().as_uuid().simple()
        );
        app.db.conn().execute_unprepared(&tamper).await.expect("tamper");
    }
    let broken = verify_cli(&app).await;
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert_eq!(broken.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&second.id.to_string()) && stderr.contains("seq 2"), "names the row: {stderr}");
}

#[tokio::test]
async fn only_admins_see_the_audit_log_and_only_their_own_team() {
    let app = TestApp::spawn_with(|c| c.registration = vulntrack::config::Registration::Open).await;
    app.setup_admin("Team A", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, ANALYST, "ANALYST").await;
    let viewer = app.add_member(&admin, "viewer@example.com", "VIEWER").await;
    for cookie in [&analyst, &viewer] {
        for path in ["/api/v1/audit-logs", "/api/v1/audit-logs/export?format=csv"] {
            assert_eq!(app.get_as(path, As::Cookie(cookie)).await.status, StatusCode::FORBIDDEN, "{path}");
        }
    }
    let b = app
        .post(
            "/api/v1/auth/register",
            As::Anonymous,
            json!({ "name": "B Admin", "email": "b@example.com", "team_name": "Team B", "password": PASSWORD }),
        )
        .await;
    assert_eq!(b.status, StatusCode::CREATED);
    let b = app.login("b@example.com", PASSWORD).await;
    let b_rows = app.get_as("/api/v1/audit-logs?limit=200", As::Cookie(&b)).await;
    let text = b_rows.body.to_string();
    assert!(!text.contains(ADMIN) && !text.contains(ANALYST) && !text.contains("Team A"), "{text}");
    let b_export = app.get_as("/api/v1/audit-logs/export?format=jsonl", As::Cookie(&b)).await;
    let text = b_export.body.to_string();
    assert!(!text.contains(ADMIN) && !text.contains(ANALYST), "{text}");
    // The same list and export do name them to Team A's ADMIN, so their
    // absence above is B's scope, not rows that never carry an email.
    let a_rows = app.get_as("/api/v1/audit-logs?limit=200", As::Cookie(&admin)).await.body.to_string();
    assert!(a_rows.contains(ADMIN) && a_rows.contains(ANALYST) && a_rows.contains("Team A"), "{a_rows}");
    let a_export = app.get_as("/api/v1/audit-logs/export?format=jsonl", As::Cookie(&admin)).await.body.to_string();
    assert!(a_export.contains(ADMIN) && a_export.contains(ANALYST), "{a_export}");
    let a_cursor = app.get_as("/api/v1/audit-logs?limit=1", As::Cookie(&admin)).await.body["next_cursor"].clone();
    let stolen =
        app.get_as(&format!("/api/v1/audit-logs?cursor={}", a_cursor.as_str().expect("cursor")), As::Cookie(&b)).await;
    assert_eq!(stolen.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_viewer_filters_pages_and_exports_safely() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    for n in 0..5 {
        create(&app, &admin, sample(&format!("finding {n}"))).await;
    }
    // A user agent shaped like a spreadsheet formula, recorded in the log.
    let evil = "=cmd|' /C calc'!A0";
    app.send(
        Method::POST,
        "/api/v1/vulnerabilities",
        As::Cookie(&admin),
        Some(sample("via evil agent")),
        &[("user-agent", evil)],
    )
    .await;

    let created = app.get_as("/api/v1/audit-logs?action=VULNERABILITY_CREATED&limit=4", As::Cookie(&admin)).await;
    assert_eq!(created.status, StatusCode::OK);
    let first_page: Vec<Value> = created.body["items"].as_array().expect("items").clone();
    assert_eq!(first_page.len(), 4);
    assert!(first_page.iter().all(|r| r["action"] == "VULNERABILITY_CREATED"));
    let seqs: Vec<i64> = first_page.iter().map(|r| r["seq"].as_i64().expect("seq")).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first: {seqs:?}");
    let cursor = created.body["next_cursor"].as_str().expect("more");
    let rest = app
        .get_as(&format!("/api/v1/audit-logs?action=VULNERABILITY_CREATED&limit=4&cursor={cursor}"), As::Cookie(&admin))
        .await;
    assert_eq!(rest.body["items"].as_array().expect("items").len(), 2);
    assert!(rest.body["next_cursor"].is_null());

    let by_entity = first_page[0]["entity_id"].as_str().expect("entity");
    let one = app
        .get_as(&format!("/api/v1/audit-logs?entity_type=vulnerability&entity_id={by_entity}"), As::Cookie(&admin))
        .await;
    assert_eq!(one.body["items"].as_array().expect("items").len(), 1);
    for bad in ["since=yesterday", "limit=0", "actor_id=bob", "cursor=forged"] {
        let response = app.get_as(&format!("/api/v1/audit-logs?{bad}"), As::Cookie(&admin)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    let csv = app.get_as("/api/v1/audit-logs/export?format=csv&action=VULNERABILITY_CREATED", As::Cookie(&admin)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(
        csv.headers.get("content-disposition").and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("attachment"))
    );
    let text = csv.body.as_str().expect("csv text");
    assert!(text.starts_with("seq,created_at,actor_kind"), "{text}");
    assert_eq!(text.lines().count(), 1 + 6, "a header and one line per row");
    assert!(text.contains(&format!("'{evil}")), "the formula is neutralised: {text}");
    assert!(!text.lines().any(|line| line.split(',').any(|cell| cell.starts_with('='))), "{text}");
    let bad_format = app.get_as("/api/v1/audit-logs/export?format=xlsx", As::Cookie(&admin)).await;
    assert_eq!(bad_format.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_viewer_filters_only_on_actions_the_log_records() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, crate::support::PASSWORD).await;
    let known = app.get_as("/api/v1/audit-logs?action=login", As::Cookie(&admin)).await;
    assert_eq!(known.status, StatusCode::OK);
    assert!(known.body["items"].as_array().expect("items").iter().all(|r| r["action"] == "LOGIN"));
    let misspelt = app.get_as("/api/v1/audit-logs?action=LOGIN_FAIL", As::Cookie(&admin)).await;
    assert_eq!(misspelt.status, StatusCode::UNPROCESSABLE_ENTITY, "{misspelt:?}");
    assert_eq!(misspelt.body["errors"][0]["field"], "action");
    // Every row written is one of the declared actions.
    let all = app.get_as("/api/v1/audit-logs?limit=200", As::Cookie(&admin)).await;
    for row in all.body["items"].as_array().expect("items") {
        let action = row["action"].as_str().expect("action");
        assert!(action.parse::<vulntrack_domain::AuditAction>().is_ok(), "{action} is declared");
    }
}

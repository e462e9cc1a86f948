//! Authentication, sessions, invitations, password reset and API tokens
//! (the authentication issue's acceptance), on either backend.

use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode};
use sea_orm::{
    ConnectionTrait, ExprTrait,
    sea_query::{Expr, Query},
};
use serde_json::{Value, json};
use vulntrack::config::Environment;
use vulntrack_domain::Role;
use vulntrack_store::{audit, teams, users};

use crate::support::{As, PASSWORD, TestApp, token_of};

const ADMIN: &str = "admin@example.com";

async fn app_with_admin() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let cookie = app.login(ADMIN, PASSWORD).await;
    (app, cookie)
}

/// The audit actions recorded for the team of `email`, oldest first.
async fn audit_actions(app: &TestApp, email: &str) -> Vec<String> {
    let record = users::find_for_sign_in(app.db.conn(), email).await.expect("query").expect("user");
    let mut rows = audit::recent(app.db.conn(), record.user.scope(), 1000).await.expect("audit");
    rows.reverse();
    rows.into_iter().map(|r| r.action).collect()
}

fn field_codes(body: &Value, field: &str) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter(|e| e["field"] == field)
                .map(|e| e["code"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn set_column(app: &TestApp, table: &str, column: &str, value: sea_orm::Value, id_column: &str, id: uuid::Uuid) {
    let statement = Query::update()
        .table(table.to_string())
        .value(column.to_string(), value)
        .and_where(Expr::col(id_column.to_string()).eq(id))
        .to_owned();
    app.db.conn().execute(&statement).await.expect("direct update");
}

#[tokio::test]
async fn setup_runs_once_then_answers_409() {
    let app = TestApp::spawn().await;
    let created = app.setup_admin("Blue Team", ADMIN).await;
    assert_eq!(created["role"], "ADMIN");
    assert_eq!(created["team_name"], "Blue Team");
    assert!(created.get("password_hash").is_none());
    let again = app
        .post(
            "/api/v1/setup",
            As::Anonymous,
            json!({ "team_name": "Red", "name": "Mallory", "email": "m@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.content_type, "application/problem+json");
    assert!(users::find_for_sign_in(app.db.conn(), "m@example.com").await.expect("query").is_none());
}

#[tokio::test]
async fn login_sets_a_hardened_cookie_that_me_accepts_and_logout_revokes() {
    let (app, _) = app_with_admin().await;
    let login = app
        .post("/api/v1/auth/login", As::Anonymous, json!({ "email": "ADMIN@Example.com", "password": PASSWORD }))
        .await;
    assert_eq!(login.status, StatusCode::OK, "email matched case-insensitively");
    assert_eq!(login.body["user"]["email"], ADMIN);
    let set_cookie = login.set_cookies().join("; ");
    assert!(set_cookie.starts_with("vulntrack_session="), "{set_cookie}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=86400"] {
        assert!(set_cookie.contains(flag), "{flag} missing from {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "development cookie works over http: {set_cookie}");
    let cookie = login.cookie();

    let me = app.get_as("/api/v1/me", As::Cookie(&cookie)).await;
    assert_eq!(me.status, StatusCode::OK);
    for field in ["id", "email", "name", "role", "team_id", "team_name", "is_onboarded"] {
        assert!(me.body.get(field).is_some(), "/me lacks {field}");
    }
    assert_eq!(app.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);

    let logout = app.send(Method::POST, "/api/v1/auth/logout", As::Cookie(&cookie), None, &[]).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert!(logout.set_cookies().join(";").contains("Max-Age=0"), "the cookie is cleared");
    assert_eq!(
        app.get_as("/api/v1/me", As::Cookie(&cookie)).await.status,
        StatusCode::UNAUTHORIZED,
        "a replayed cookie fails"
    );

    let actions = audit_actions(&app, ADMIN).await;
    assert!(actions.contains(&"LOGIN".to_string()) && actions.contains(&"LOGOUT".to_string()), "{actions:?}");
}

#[tokio::test]
async fn logout_all_revokes_every_session() {
    let (app, first) = app_with_admin().await;
    let second = app.login(ADMIN, PASSWORD).await;
    let sessions = app.get_as("/api/v1/me/sessions", As::Cookie(&first)).await;
    let items = sessions.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);

    let out = app.send(Method::POST, "/api/v1/auth/logout-all", As::Cookie(&first), None, &[]).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    for cookie in [&first, &second] {
        assert_eq!(app.get_as("/api/v1/me", As::Cookie(cookie)).await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn one_session_can_be_signed_out_from_another() {
    let (app, first) = app_with_admin().await;
    let second = app.login(ADMIN, PASSWORD).await;
    let list = app.get_as("/api/v1/me/sessions", As::Cookie(&first)).await;
    let other =
        list.body["items"].as_array().expect("items").iter().find(|s| s["current"] == false).expect("other")["id"]
            .as_str()
            .expect("id")
            .to_string();
    let revoked = app.delete(&format!("/api/v1/me/sessions/{other}"), As::Cookie(&first)).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get_as("/api/v1/me", As::Cookie(&second)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get_as("/api/v1/me", As::Cookie(&first)).await.status, StatusCode::OK);
    let again = app.delete(&format!("/api/v1/me/sessions/{other}"), As::Cookie(&first)).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn production_cookies_are_secure_and_host_prefixed() {
    let app = TestApp::spawn_with(|config| {
        config.env = Environment::Production;
        config.public_url = url::Url::parse("https://vulntrack.example.com/").expect("url");
        config.session_ttl = std::time::Duration::from_secs(4 * 3600);
    })
    .await;
    app.setup_admin("Blue Team", ADMIN).await;
    let login = app.post("/api/v1/auth/login", As::Anonymous, json!({ "email": ADMIN, "password": PASSWORD })).await;
    let set_cookie = login.set_cookies().join("; ");
    assert!(set_cookie.starts_with("__Host-vulntrack_session="), "{set_cookie}");
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=14400"] {
        assert!(set_cookie.contains(flag), "{flag} missing from {set_cookie}");
    }
    assert!(!set_cookie.contains("Domain="), "__Host- cookies carry no Domain");
    let me = app.get_as("/api/v1/me", As::Cookie(&login.cookie())).await;
    assert_eq!(me.status, StatusCode::OK);
}

#[tokio::test]
async fn every_broken_password_rule_is_its_own_field_error() {
    let app = TestApp::spawn().await;
    let attempt = |password: String| {
        let app = &app;
        async move {
            let response = app
                .post(
                    "/api/v1/setup",
                    As::Anonymous,
                    json!({ "team_name": "Blue", "name": "Ada Lovelace", "email": "ada@example.com", "password": password }),
                )
                .await;
            assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{response:?}");
            assert_eq!(response.content_type, "application/problem+json");
            field_codes(&response.body, "password")
        }
    };
    let short = attempt("short".into()).await;
    for code in ["too_short", "no_uppercase", "no_digit", "no_symbol"] {
        assert!(short.contains(&code.to_string()), "{code} missing from {short:?}");
    }
    assert!(attempt("ALLUPPERCASE-PASSWORD-42".into()).await.contains(&"no_lowercase".to_string()));
    assert!(attempt("Password123!".into()).await.contains(&"common".to_string()));
    assert!(attempt("Qwerty123456!".into()).await.contains(&"common".to_string()));
    assert!(attempt("Lovelace#2931xQ".into()).await.contains(&"personal_info".to_string()));
    let at_129: String = "k3#Vq9!zLw2@Tr".chars().cycle().take(129).collect();
    assert_eq!(attempt(at_129).await, vec!["too_long".to_string()]);
    assert_eq!(users::count_all(app.db.conn()).await.expect("count"), 0, "nothing was written");
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_until_an_admin_unlocks_it() {
    let (app, admin) = app_with_admin().await;
    let member = "analyst@example.com";
    app.add_member(&admin, member, "ANALYST").await;
    let login = |password: &'static str| {
        let app = &app;
        async move { app.post("/api/v1/auth/login", As::Anonymous, json!({ "email": member, "password": password })).await }
    };
    let mut detail = None;
    for _ in 0..5 {
        let failed = login("Wrong#Password99").await;
        assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
        detail.get_or_insert(failed.body["detail"].clone());
    }
    let locked = login(PASSWORD).await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED, "the right password is refused while locked");
    assert_eq!(Some(locked.body["detail"].clone()), detail, "the same generic message");
    let unknown = app
        .post("/api/v1/auth/login", As::Anonymous, json!({ "email": "nobody@example.com", "password": PASSWORD }))
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(Some(unknown.body["detail"].clone()), detail, "unknown emails look the same");

    let actions = audit_actions(&app, member).await;
    assert_eq!(actions.iter().filter(|a| *a == "LOGIN_FAILED").count(), 6, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| *a == "ACCOUNT_LOCKED").count(), 1, "{actions:?}");

    let id = users::find_for_sign_in(app.db.conn(), member).await.expect("query").expect("member").user.id;
    let unlock = app.send(Method::POST, &format!("/api/v1/users/{id}/unlock"), As::Cookie(&admin), None, &[]).await;
    assert_eq!(unlock.status, StatusCode::NO_CONTENT);
    assert_eq!(login(PASSWORD).await.status, StatusCode::OK);
    assert!(audit_actions(&app, member).await.contains(&"ACCOUNT_UNLOCKED".to_string()));
}

#[tokio::test]
async fn a_lock_expires_by_itself() {
    let (app, admin) = app_with_admin().await;
    let member = "viewer@example.com";
    app.add_member(&admin, member, "VIEWER").await;
    for _ in 0..5 {
        app.post("/api/v1/auth/login", As::Anonymous, json!({ "email": member, "password": "Wrong#Password99" })).await;
    }
    let id = users::find_for_sign_in(app.db.conn(), member).await.expect("query").expect("member").user.id;
    // Fast-forward: the lock ended a second ago.
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    set_column(&app, "users", "locked_until", past.into(), "id", id.as_uuid()).await;
    let login = app.post("/api/v1/auth/login", As::Anonymous, json!({ "email": member, "password": PASSWORD })).await;
    assert_eq!(login.status, StatusCode::OK);
}

#[tokio::test]
async fn invitations_work_once_and_only_while_valid() {
    let (app, admin) = app_with_admin().await;
    let invite = app
        .post("/api/v1/invitations", As::Cookie(&admin), json!({ "email": "new@example.com", "role": "ANALYST" }))
        .await;
    assert_eq!(invite.status, StatusCode::CREATED, "{invite:?}");
    for field in ["id", "email", "role", "expires_at", "invite_url"] {
        assert!(invite.body.get(field).is_some(), "{field} missing");
    }
    let url = invite.body["invite_url"].as_str().expect("url");
    assert!(url.starts_with("http://127.0.0.1:3000/invite?token="), "{url}");
    let token = token_of(url);
    assert!(token.len() >= 43, "at least 256 bits: {token}");
    let listed = app.get_as("/api/v1/invitations", As::Cookie(&admin)).await;
    assert_eq!(listed.body["items"].as_array().expect("items").len(), 1);
    assert!(!listed.body.to_string().contains(&token), "the token is never shown again");

    let mut tampered = token.clone();
    let last = tampered.pop().expect("char");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let register = |token: String| {
        let app = &app;
        async move {
            app.post(
                "/api/v1/auth/register",
                As::Anonymous,
                json!({ "token": token, "name": "New Person", "password": PASSWORD }),
            )
            .await
        }
    };
    let bad = register(tampered).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&bad.body, "token"), vec!["invalid"]);

    let accepted = register(token.clone()).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{accepted:?}");
    assert_eq!(accepted.body["user"]["email"], "new@example.com");
    assert_eq!(accepted.body["user"]["role"], "ANALYST");
    let admin_me = app.get_as("/api/v1/me", As::Cookie(&admin)).await;
    assert_eq!(accepted.body["user"]["team_id"], admin_me.body["team_id"], "joins the inviter's team");

    let reused = register(token).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY, "single use");

    let expiring = app
        .post("/api/v1/invitations", As::Cookie(&admin), json!({ "email": "late@example.com", "role": "VIEWER" }))
        .await;
    let id: uuid::Uuid = expiring.body["id"].as_str().expect("id").parse().expect("uuid");
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    set_column(&app, "invitations", "expires_at", past.into(), "id", id).await;
    let expired = register(token_of(expiring.body["invite_url"].as_str().expect("url"))).await;
    assert_eq!(expired.status, StatusCode::UNPROCESSABLE_ENTITY, "expired");
    assert!(users::find_for_sign_in(app.db.conn(), "late@example.com").await.expect("query").is_none());

    let deleted = app.delete(&format!("/api/v1/invitations/{id}"), As::Cookie(&admin)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let actions = audit_actions(&app, ADMIN).await;
    for action in ["USER_INVITED", "INVITATION_ACCEPTED", "INVITATION_REVOKED"] {
        assert!(actions.contains(&action.to_string()), "{action} missing from {actions:?}");
    }
}

#[tokio::test]
async fn registration_without_an_invitation_is_closed_by_default_and_open_on_request() {
    let body =
        json!({ "name": "Solo Founder", "email": "solo@example.com", "team_name": "Solo Sec", "password": PASSWORD });
    let closed = TestApp::spawn().await;
    let refused = closed.post("/api/v1/auth/register", As::Anonymous, body.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let open = TestApp::spawn_with(|c| c.registration = vulntrack::config::Registration::Open).await;
    let created = open.post("/api/v1/auth/register", As::Anonymous, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.body["user"]["role"], "ADMIN");
    assert_eq!(created.body["user"]["team_name"], "Solo Sec");
}

/// Collects what the server logs, for tests that read a link it delivered
/// by log. The subscriber is this thread's default, and a `#[tokio::test]`
/// runtime runs spawned tasks on this same thread.
fn capture_logs() -> (Arc<Mutex<Vec<u8>>>, tracing::subscriber::DefaultGuard) {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || LogWriter(writer.clone()))
        .finish();
    (buffer, tracing::subscriber::set_default(subscriber))
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn password_reset_by_logged_link_works_once_and_ends_every_session() {
    let (app, admin) = app_with_admin().await;
    let (logs, _guard) = capture_logs();
    let unknown =
        app.post("/api/v1/auth/password-reset", As::Anonymous, json!({ "email": "nobody@example.com" })).await;
    let known = app.post("/api/v1/auth/password-reset", As::Anonymous, json!({ "email": "Admin@Example.com" })).await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    assert_eq!(known.status, StatusCode::ACCEPTED);
    assert_eq!(unknown.body, known.body, "no account enumeration");

    let link = crate::support::eventually(std::time::Duration::from_secs(5), async || {
        String::from_utf8_lossy(&logs.lock().expect("logs")).contains("/reset-password?token=")
    })
    .await;
    assert!(link, "the reset link is written to the log at WARN");
    let text = String::from_utf8_lossy(&logs.lock().expect("logs")).into_owned();
    let start = text.find("http://127.0.0.1:3000/reset-password?token=").expect("link in log");
    let link: String = text[start..].chars().take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\\').collect();
    let token = token_of(&link);

    let weak = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            As::Anonymous,
            json!({ "token": token, "new_password": "password" }),
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!field_codes(&weak.body, "new_password").is_empty());

    let new_password = "N3w&Better#Pass77";
    let confirm = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            As::Anonymous,
            json!({ "token": token, "new_password": new_password }),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::NO_CONTENT, "{confirm:?}");
    assert_eq!(app.get_as("/api/v1/me", As::Cookie(&admin)).await.status, StatusCode::UNAUTHORIZED, "sessions revoked");
    let reused = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            As::Anonymous,
            json!({ "token": token, "new_password": "An0ther&Pass#99" }),
        )
        .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY, "single use");
    let old = app.post("/api/v1/auth/login", As::Anonymous, json!({ "email": ADMIN, "password": PASSWORD })).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    app.login(ADMIN, new_password).await;
    let actions = audit_actions(&app, ADMIN).await;
    assert!(actions.contains(&"PASSWORD_RESET".to_string()), "{actions:?}");
}

#[tokio::test]
async fn an_admin_can_create_a_reset_link_for_a_member() {
    let (app, admin) = app_with_admin().await;
    let member = app.add_member(&admin, "member@example.com", "ANALYST").await;
    let id = users::find_for_sign_in(app.db.conn(), "member@example.com").await.expect("q").expect("u").user.id;
    let link =
        app.send(Method::POST, &format!("/api/v1/users/{id}/password-reset"), As::Cookie(&admin), None, &[]).await;
    assert_eq!(link.status, StatusCode::CREATED, "{link:?}");
    let token = token_of(link.body["reset_url"].as_str().expect("reset_url"));
    let denied =
        app.send(Method::POST, &format!("/api/v1/users/{id}/password-reset"), As::Cookie(&member), None, &[]).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "an ANALYST cannot");
    let confirm = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            As::Anonymous,
            json!({ "token": token, "new_password": "N3w&Better#Pass77" }),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::NO_CONTENT);
    app.login("member@example.com", "N3w&Better#Pass77").await;
}

#[tokio::test]
async fn changing_the_password_keeps_this_session_and_ends_the_others() {
    let (app, first) = app_with_admin().await;
    let second = app.login(ADMIN, PASSWORD).await;
    let wrong = app
        .post(
            "/api/v1/me/password",
            As::Cookie(&first),
            json!({ "current_password": "nope", "new_password": "N3w&Better#Pass77" }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&wrong.body, "current_password"), vec!["incorrect"]);
    let changed = app
        .post(
            "/api/v1/me/password",
            As::Cookie(&first),
            json!({ "current_password": PASSWORD, "new_password": "N3w&Better#Pass77" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{changed:?}");
    assert_eq!(app.get_as("/api/v1/me", As::Cookie(&first)).await.status, StatusCode::OK);
    assert_eq!(app.get_as("/api/v1/me", As::Cookie(&second)).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn profile_updates_are_validated_and_cannot_touch_the_role() {
    let (app, admin) = app_with_admin().await;
    let updated = app
        .patch(
            "/api/v1/me",
            As::Cookie(&admin),
            json!({ "name": "Ada A. Admin", "job_title": "CISO", "phone": "+44 20 7946 0000" }),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{updated:?}");
    assert_eq!(updated.body["job_title"], "CISO");
    let bad = app.patch("/api/v1/me", As::Cookie(&admin), json!({ "name": "  ", "phone": "call me" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!field_codes(&bad.body, "name").is_empty() && !field_codes(&bad.body, "phone").is_empty(), "{bad:?}");
    let sneaky = app.patch("/api/v1/me", As::Cookie(&admin), json!({ "role": "VIEWER" })).await;
    assert_eq!(sneaky.status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused, not ignored");
    assert_eq!(app.get_as("/api/v1/me", As::Cookie(&admin)).await.body["role"], "ADMIN");
}

#[tokio::test]
async fn deactivation_and_demotion_apply_on_the_very_next_request() {
    let (app, admin) = app_with_admin().await;
    let deputy = app.add_member(&admin, "deputy@example.com", "ADMIN").await;
    let analyst = app.add_member(&admin, "analyst@example.com", "ANALYST").await;
    let id_of = async |email: &str| users::find_for_sign_in(app.db.conn(), email).await.expect("q").expect("u").user.id;

    assert_eq!(app.get_as("/api/v1/invitations", As::Cookie(&deputy)).await.status, StatusCode::OK);
    let deputy_id = id_of("deputy@example.com").await;
    let demoted =
        app.patch(&format!("/api/v1/users/{deputy_id}"), As::Cookie(&admin), json!({ "role": "ANALYST" })).await;
    assert_eq!(demoted.status, StatusCode::OK, "{demoted:?}");
    assert_eq!(app.get_as("/api/v1/invitations", As::Cookie(&deputy)).await.status, StatusCode::FORBIDDEN);

    let analyst_id = id_of("analyst@example.com").await;
    assert_eq!(app.get_as("/api/v1/me", As::Cookie(&analyst)).await.status, StatusCode::OK);
    let deactivated =
        app.patch(&format!("/api/v1/users/{analyst_id}"), As::Cookie(&admin), json!({ "status": "INACTIVE" })).await;
    assert_eq!(deactivated.status, StatusCode::OK);
    assert_eq!(app.get_as("/api/v1/me", As::Cookie(&analyst)).await.status, StatusCode::UNAUTHORIZED);
    let login = app
        .post("/api/v1/auth/login", As::Anonymous, json!({ "email": "analyst@example.com", "password": PASSWORD }))
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED, "an inactive account cannot sign in");

    let admin_id = id_of(ADMIN).await;
    let last = app.patch(&format!("/api/v1/users/{admin_id}"), As::Cookie(&admin), json!({ "role": "VIEWER" })).await;
    assert_eq!(last.status, StatusCode::CONFLICT, "the last active admin stays");

    let actions = audit_actions(&app, ADMIN).await;
    for action in ["USER_ROLE_CHANGED", "USER_DEACTIVATED", "PERMISSION_DENIED"] {
        assert!(actions.contains(&action.to_string()), "{action} missing from {actions:?}");
    }
}

#[tokio::test]
async fn a_bcryptjs_hash_signs_in_and_is_rehashed_to_argon2id() {
    // Made by bcryptjs 3.0.3: bcrypt.hashSync("Legacy#Pass2019!", 12).
    const BCRYPTJS_HASH: &str = "$2b$12$AJFTPjItgYgtd61yjgdKG.eT4Hst9MGzGFHJMl7IqxwpgS.IVP/am";
    let app = TestApp::spawn().await;
    let team = teams::create(app.db.conn(), "Legacy").await.expect("team");
    let new_user = users::NewUser {
        email: "old@example.com",
        name: "Old Timer",
        role: Role::Analyst,
        password_hash: BCRYPTJS_HASH,
    };
    users::create(app.db.conn(), team.scope(), new_user).await.expect("user");

    let wrong = app
        .post(
            "/api/v1/auth/login",
            As::Anonymous,
            json!({ "email": "old@example.com", "password": "Legacy#Pass2020!" }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    app.login("old@example.com", "Legacy#Pass2019!").await;
    let stored = users::find_for_sign_in(app.db.conn(), "old@example.com").await.expect("q").expect("u").password_hash;
    assert!(stored.starts_with("$argon2id$"), "rehashed on sign-in: {stored}");
    app.login("old@example.com", "Legacy#Pass2019!").await;
}

#[tokio::test]
async fn cross_site_writes_with_the_cookie_are_refused_but_bearer_tokens_are_not() {
    let (app, admin) = app_with_admin().await;
    let cross_site = [("sec-fetch-site", "cross-site")];
    let foreign_origin = [("origin", "https://evil.example")];
    for headers in [&cross_site[..], &foreign_origin[..]] {
        let mut request_headers = vec![("cookie", admin.as_str())];
        request_headers.extend_from_slice(headers);
        let forged = app.send(Method::POST, "/api/v1/auth/logout-all", As::Anonymous, None, &request_headers).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(forged.content_type, "application/problem+json");
    }
    assert_eq!(
        app.get_as("/api/v1/me", As::Cookie(&admin)).await.status,
        StatusCode::OK,
        "the forged request did nothing"
    );
    let origin = app.origin();
    let same_origin = app
        .send(
            Method::PATCH,
            "/api/v1/me",
            As::Anonymous,
            Some(json!({ "job_title": "CISO" })),
            &[("cookie", &admin), ("origin", &origin)],
        )
        .await;
    assert_eq!(same_origin.status, StatusCode::OK, "our own origin is fine");

    let token = app.post("/api/v1/tokens", As::Cookie(&admin), json!({ "name": "ci" })).await.body["token"]
        .as_str()
        .expect("token")
        .to_string();
    let with_bearer = app
        .send(Method::PATCH, "/api/v1/me", As::Bearer(&token), Some(json!({ "department": "Security" })), &cross_site)
        .await;
    assert_eq!(with_bearer.status, StatusCode::OK, "Bearer requests are exempt: {with_bearer:?}");
}

#[tokio::test]
async fn api_tokens_work_are_listed_without_their_secret_and_die_when_revoked() {
    let (app, admin) = app_with_admin().await;
    let created =
        app.post("/api/v1/tokens", As::Cookie(&admin), json!({ "name": "CI pipeline", "expires_in_days": 30 })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let token = created.body["token"].as_str().expect("token").to_string();
    assert!(token.starts_with("vt_"));
    let id = created.body["id"].as_str().expect("id").to_string();

    let me = app.get_as("/api/v1/me", As::Bearer(&token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], ADMIN);
    let list = app.get_as("/api/v1/tokens", As::Cookie(&admin)).await;
    assert_eq!(list.body["items"].as_array().expect("items").len(), 1);
    assert!(!list.body.to_string().contains(&token), "the secret is never listed");
    assert!(list.body["items"][0].get("token").is_none());

    let minted = app.post("/api/v1/tokens", As::Bearer(&token), json!({ "name": "successor" })).await;
    assert_eq!(minted.status, StatusCode::FORBIDDEN, "a token cannot mint tokens");

    let revoked = app.delete(&format!("/api/v1/tokens/{id}"), As::Cookie(&admin)).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get_as("/api/v1/me", As::Bearer(&token)).await.status, StatusCode::UNAUTHORIZED);
    for bad in ["vt_unknown", "not-a-vt-token", ""] {
        assert_eq!(app.get_as("/api/v1/me", As::Bearer(bad)).await.status, StatusCode::UNAUTHORIZED, "{bad:?}");
    }
    let actions = audit_actions(&app, ADMIN).await;
    assert!(actions.contains(&"TOKEN_CREATED".to_string()) && actions.contains(&"TOKEN_REVOKED".to_string()));
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let (app, admin) = app_with_admin().await;
    let created =
        app.post("/api/v1/tokens", As::Cookie(&admin), json!({ "name": "short-lived", "expires_in_days": 1 })).await;
    let token = created.body["token"].as_str().expect("token").to_string();
    let id: uuid::Uuid = created.body["id"].as_str().expect("id").parse().expect("uuid");
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    set_column(&app, "api_tokens", "expires_at", past.into(), "id", id).await;
    assert_eq!(app.get_as("/api/v1/me", As::Bearer(&token)).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn malformed_bodies_get_problem_json() {
    let app = TestApp::spawn().await;
    let missing = app.post("/api/v1/auth/login", As::Anonymous, json!({ "email": "x@example.com" })).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.content_type, "application/problem+json");
    assert_eq!(missing.body["errors"][0]["field"], "password", "the missing field is named: {missing:?}");
    assert_eq!(missing.body["errors"][0]["code"], "required", "{missing:?}");
    let wrong_type =
        app.post("/api/v1/invitations", As::Anonymous, json!({ "email": "x@example.com", "role": "OWNER" })).await;
    assert_eq!(wrong_type.status, StatusCode::UNAUTHORIZED, "credentials come before the body: {wrong_type:?}");
    let not_json = app
        .send(Method::POST, "/api/v1/auth/login", As::Anonymous, None, &[("content-type", "application/json")])
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_json.content_type, "application/problem+json");
}

/// A minimal SMTP server that accepts one message and hands it over.
async fn smtp_sink() -> (std::net::SocketAddr, tokio::sync::oneshot::Receiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (sender, receiver) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 sink ESMTP\r\n").await.expect("greet");
        let mut message = String::new();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            if in_data {
                if line == "." {
                    in_data = false;
                    write.write_all(b"250 queued\r\n").await.expect("write");
                } else {
                    message.push_str(&line);
                    message.push('\n');
                }
                continue;
            }
            let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 sink\r\n",
                "DATA" => {
                    in_data = true;
                    b"354 go ahead\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.expect("write");
                    break;
                }
                _ => b"250 ok\r\n",
            };
            write.write_all(reply).await.expect("write");
        }
        let _ = sender.send(message);
    });
    (addr, receiver)
}

#[tokio::test]
async fn password_reset_links_are_mailed_when_smtp_is_configured() {
    let (addr, received) = smtp_sink().await;
    let app = TestApp::spawn_with(|config| {
        config.smtp_url = Some(secrecy::SecretString::from(format!("smtp://{addr}")));
        config.smtp_from = "VulnTrack <vt@example.com>".parse().expect("mailbox");
    })
    .await;
    app.setup_admin("Blue Team", ADMIN).await;
    let requested = app.post("/api/v1/auth/password-reset", As::Anonymous, json!({ "email": ADMIN })).await;
    assert_eq!(requested.status, StatusCode::ACCEPTED);
    let message = tokio::time::timeout(std::time::Duration::from_secs(10), received)
        .await
        .expect("mail arrives")
        .expect("message");
    assert!(message.contains("To: admin@example.com"), "{message}");
    assert!(message.contains("Subject: Reset your VulnTrack password"), "{message}");
    // The body travels quoted-printable: undo soft line breaks and `=3D`,
    // as a mail client would.
    let message = message.replace("=\n", "").replace("=3D", "=");
    let start = message.find("http://127.0.0.1:3000/reset-password?token=").expect("link in mail");
    let link: String = message[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    let confirm = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            As::Anonymous,
            json!({ "token": token_of(&link), "new_password": "N3w&Better#Pass77" }),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::NO_CONTENT, "the mailed link works: {confirm:?}");
}

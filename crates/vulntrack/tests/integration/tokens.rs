//! API tokens as a credential an incident responder can contain: they
//! always expire, deactivation ends them for good, ADMINs see and revoke
//! members' tokens, "sign out everywhere" can take them too.

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::support::{As, PASSWORD, TestApp};

const ADMIN: &str = "admin@example.com";
const MEMBER: &str = "member@example.com";

async fn team() -> (TestApp, String, String) {
    let app = TestApp::spawn_with(|c| c.token_max_ttl = std::time::Duration::from_secs(180 * 86_400)).await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let member = app.add_member(&admin, MEMBER, "ANALYST").await;
    (app, admin, member)
}

async fn token(app: &TestApp, cookie: &str, body: serde_json::Value) -> (String, String) {
    let created = app.post("/api/v1/tokens", As::Cookie(cookie), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    (created.body["token"].as_str().expect("token").into(), created.body["id"].as_str().expect("id").into())
}

async fn works(app: &TestApp, token: &str) -> bool {
    app.get_as("/api/v1/me", As::Bearer(token)).await.status == StatusCode::OK
}

#[tokio::test]
async fn every_token_expires_by_default_in_90_days_and_never_past_the_operator_maximum() {
    let (app, _, member) = team().await;
    let created = app.post("/api/v1/tokens", As::Cookie(&member), json!({ "name": "ci" })).await;
    let expires: DateTime<Utc> =
        created.body["expires_at"].as_str().expect("an expiry is always set").parse().expect("time");
    let days = (expires - Utc::now()).num_days();
    assert!((89..=90).contains(&days), "default lifetime is 90 days, got {days}");
    let too_long =
        app.post("/api/v1/tokens", As::Cookie(&member), json!({ "name": "ci", "expires_in_days": 181 })).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY, "{too_long:?}");
    assert_eq!(too_long.body["errors"][0]["field"], "expires_in_days");
    let longest =
        app.post("/api/v1/tokens", As::Cookie(&member), json!({ "name": "ci", "expires_in_days": 180 })).await;
    assert_eq!(longest.status, StatusCode::CREATED);
}

#[tokio::test]
async fn deactivation_revokes_tokens_for_good() {
    let (app, admin, member) = team().await;
    let (secret, _) = token(&app, &member, json!({ "name": "ci" })).await;
    let member_id = app.get_as("/api/v1/me", As::Cookie(&member)).await.body["id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/users/{member_id}");
    assert_eq!(app.patch(&path, As::Cookie(&admin), json!({ "status": "INACTIVE" })).await.status, StatusCode::OK);
    assert!(!works(&app, &secret).await);
    assert_eq!(app.patch(&path, As::Cookie(&admin), json!({ "status": "ACTIVE" })).await.status, StatusCode::OK);
    assert!(!works(&app, &secret).await, "reactivation does not bring the token back");
    let listed = app.get_as(&format!("{path}/tokens"), As::Cookie(&admin)).await;
    assert_eq!(listed.body["items"].as_array().expect("items").len(), 0);
}

#[tokio::test]
async fn admins_list_and_revoke_members_tokens_and_nobody_else_can() {
    let (app, admin, member) = team().await;
    let (secret, id) = token(&app, &member, json!({ "name": "pipeline" })).await;
    let member_id = app.get_as("/api/v1/me", As::Cookie(&member)).await.body["id"].as_str().expect("id").to_string();
    let list_path = format!("/api/v1/users/{member_id}/tokens");
    let listed = app.get_as(&list_path, As::Cookie(&admin)).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["items"][0]["name"], "pipeline");
    assert!(listed.body["items"][0].get("token").is_none(), "the secret is never shown again");

    assert_eq!(app.get_as(&list_path, As::Cookie(&member)).await.status, StatusCode::FORBIDDEN);
    let revoke_path = format!("{list_path}/{id}");
    assert_eq!(app.delete(&revoke_path, As::Cookie(&member)).await.status, StatusCode::FORBIDDEN);
    assert!(works(&app, &secret).await);
    assert_eq!(app.delete(&revoke_path, As::Cookie(&admin)).await.status, StatusCode::NO_CONTENT);
    assert!(!works(&app, &secret).await);
    assert_eq!(app.delete(&revoke_path, As::Cookie(&admin)).await.status, StatusCode::NOT_FOUND, "already revoked");

    // Another team's ADMIN cannot see or touch them.
    let red = crate::support::other_team_admin(&app, "red@example.com").await;
    assert_eq!(app.get_as(&list_path, As::Cookie(&red)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sign_out_everywhere_revokes_tokens_only_when_asked() {
    let (app, _, _) = team().await;
    let first = app.login(MEMBER, PASSWORD).await;
    let (kept, _) = token(&app, &first, json!({ "name": "kept" })).await;
    let out = app.send(Method::POST, "/api/v1/auth/logout-all", As::Cookie(&first), None, &[]).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(works(&app, &kept).await, "without the option tokens survive");

    let second = app.login(MEMBER, PASSWORD).await;
    let out = app
        .send(Method::POST, "/api/v1/auth/logout-all", As::Cookie(&second), Some(json!({ "revoke_tokens": true })), &[])
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(!works(&app, &kept).await, "with it, tokens end too");
    assert_eq!(app.get_as("/api/v1/me", As::Cookie(&second)).await.status, StatusCode::UNAUTHORIZED);
    let bad = app
        .send(
            Method::POST,
            "/api/v1/auth/logout-all",
            As::Cookie(&app.login(MEMBER, PASSWORD).await),
            Some(json!({ "revoke": 1 })),
            &[],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused: {bad:?}");
    assert_eq!(bad.body["errors"][0]["field"], "revoke", "and named: {bad:?}");
}

#[tokio::test]
async fn the_pages_say_what_each_action_ends_and_do_it() {
    let (app, admin, member) = team().await;
    let (secret, _) = token(&app, &member, json!({ "name": "laptop script" })).await;
    let users_page = app.get_as("/admin/users", As::Cookie(&admin)).await;
    let html = users_page.body.as_str().expect("html");
    assert!(html.contains("laptop script"), "ADMINs see members' tokens");
    assert!(html.contains("Their sessions and API tokens end for good"), "deactivation says what it ends");
    let account = app.get_as("/account", As::Cookie(&member)).await;
    assert!(account.body.as_str().expect("html").contains("Also revoke all my API tokens"));

    let form = [("revoke_tokens", "on")];
    let out = crate::web::post_form(&app, "/account/sessions/revoke-all", Some(&member), &form).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{out:?}");
    assert!(!works(&app, &secret).await, "the box revoked the tokens");
}

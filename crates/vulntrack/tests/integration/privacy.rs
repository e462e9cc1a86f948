//! A person's own copy of their data (`GET /api/v1/me/export`, linked from
//! the account page): everything the product holds about them, nothing of
//! anyone else, no secret, and the export audited.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{As, PASSWORD, TestApp};

const ADMIN: &str = "admin@example.com";
const ANALYST: &str = "analyst@example.com";

#[tokio::test]
async fn a_person_downloads_everything_held_about_them_and_nothing_else() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, ANALYST, "ANALYST").await;
    let analyst_id = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].clone();
    let token = app.post("/api/v1/tokens", As::Cookie(&analyst), json!({ "name": "CI script" })).await;
    assert_eq!(token.status, StatusCode::CREATED, "{token:?}");
    let secret = token.body["token"].as_str().expect("the token, shown once").to_owned();
    let mine = app
        .post(
            "/api/v1/vulnerabilities",
            As::Cookie(&analyst),
            json!({ "title": "Reported by the analyst", "description": "Found in the review.", "severity": "LOW" }),
        )
        .await;
    let theirs = app
        .post(
            "/api/v1/vulnerabilities",
            As::Cookie(&admin),
            json!({ "title": "Given to the analyst", "description": "Found in the pentest.", "severity": "HIGH", "assignee_id": analyst_id }),
        )
        .await;
    let key = theirs.body["key"].as_str().unwrap_or_else(|| panic!("{theirs:?}")).to_owned();
    let comment = app
        .post(&format!("/api/v1/vulnerabilities/{key}/comments"), As::Cookie(&analyst), json!({ "body": "On it." }))
        .await;
    assert_eq!(comment.status, StatusCode::CREATED);
    app.post(
        "/api/v1/vulnerabilities",
        As::Cookie(&admin),
        json!({ "title": "The admin's own", "description": "Found by the admin.", "severity": "MEDIUM" }),
    )
    .await;

    assert_eq!(app.get("/api/v1/me/export").await.status, StatusCode::UNAUTHORIZED);
    let export = app.get_as("/api/v1/me/export", As::Bearer(&secret)).await;
    assert_eq!(export.status, StatusCode::OK, "{export:?}");
    let disposition = export.headers.get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let data = &export.body;
    assert_eq!(data["format"], "vulntrack-personal-data/1");
    assert_eq!(data["profile"]["email"], ANALYST);
    let sessions = data["sessions"].as_array().expect("sessions");
    assert!(!sessions.is_empty() && sessions.iter().all(|s| s.get("ip").is_some() && s.get("user_agent").is_some()));
    assert_eq!(data["api_tokens"].as_array().map(Vec::len), Some(1));
    assert_eq!(data["api_tokens"][0]["name"], "CI script");
    assert_eq!(data["comments"].as_array().map(Vec::len), Some(1));
    assert_eq!(data["comments"][0]["body"], "On it.");
    let keys = |list: &Value| -> Vec<String> {
        list.as_array().expect("list").iter().map(|r| r["key"].as_str().expect("key").to_owned()).collect()
    };
    assert_eq!(keys(&data["records"]["reported"]), [mine.body["key"].as_str().expect("key")]);
    assert_eq!(keys(&data["records"]["assigned"]), [key.as_str()]);
    let kinds: Vec<&str> =
        data["notifications"].as_array().expect("notifications").iter().filter_map(|n| n["kind"].as_str()).collect();
    assert!(kinds.contains(&"ASSIGNED"), "{kinds:?}");
    let audit = data["audit_log"].as_array().expect("audit");
    assert!(audit.iter().any(|r| r["action"] == "VULNERABILITY_CREATED"), "{audit:?}");
    assert!(audit.iter().any(|r| r["action"] == "COMMENT_ADDED"), "{audit:?}");
    assert!(audit.iter().all(|r| r["actor_email"] == ANALYST), "only their own rows: {audit:?}");
    // No secret, and nobody else's data.
    let text = data.to_string();
    use sea_orm::ConnectionTrait;
    let backend = app.db.conn().get_database_backend();
    let hash_of = |email: &str| {
        let sql = format!(
            "SELECT password_hash, (SELECT token_hash FROM api_tokens LIMIT 1) FROM users WHERE email = '{email}'"
        );
        sea_orm::Statement::from_string(backend, sql)
    };
    let row = app.db.conn().query_one_raw(hash_of(ANALYST)).await.expect("query").expect("the analyst");
    let (password_hash, token_hash): (String, String) =
        (row.try_get_by_index(0).expect("hash"), row.try_get_by_index(1).expect("token hash"));
    for absent in [secret.as_str(), password_hash.as_str(), token_hash.as_str(), ADMIN, "The admin's own"] {
        assert!(!text.contains(absent), "{absent:?} is in the export");
    }

    // The export is audited, and the account page links to it.
    let logged = app.get_as("/api/v1/audit-logs?action=PERSONAL_DATA_EXPORTED", As::Cookie(&admin)).await;
    let rows = logged.body["items"].as_array().expect("items");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["actor"]["email"], ANALYST);
    assert_eq!(rows[0]["details"]["comments"], 1);
    let page = app.get_as("/account", As::Cookie(&analyst)).await;
    assert!(page.body.as_str().is_some_and(|html| html.contains(r#"href="/api/v1/me/export""#)));
}

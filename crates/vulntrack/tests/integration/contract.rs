//! The API's contract: `/api/openapi.json` is an OpenAPI 3.1 document that
//! lists every `/api/v1` route the router serves (no route without its
//! entry, no entry without its route), and `/api/docs` serves Swagger UI
//! from our own origin. schemathesis checks the answers against it from
//! `.ci/run` (tests/contract/schemathesis.sh).

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::support::{As, TestApp};

const API_SOURCES: &[(&str, &str)] = &[
    ("assets", include_str!("../../src/api/v1/assets.rs")),
    ("audit_log", include_str!("../../src/api/v1/audit_log.rs")),
    ("comments", include_str!("../../src/api/v1/comments.rs")),
    ("cves", include_str!("../../src/api/v1/cves.rs")),
    ("imports", include_str!("../../src/api/v1/imports.rs")),
    ("invitations", include_str!("../../src/api/v1/invitations.rs")),
    ("me", include_str!("../../src/api/v1/me.rs")),
    ("notifications", include_str!("../../src/api/v1/notifications.rs")),
    ("password_reset", include_str!("../../src/api/v1/password_reset.rs")),
    ("registration", include_str!("../../src/api/v1/registration.rs")),
    ("risk_acceptances", include_str!("../../src/api/v1/risk_acceptances.rs")),
    ("saved_views", include_str!("../../src/api/v1/saved_views.rs")),
    ("security_alerts", include_str!("../../src/api/v1/security_alerts.rs")),
    ("session_auth", include_str!("../../src/api/v1/session_auth.rs")),
    ("setup", include_str!("../../src/api/v1/setup.rs")),
    ("team", include_str!("../../src/api/v1/team.rs")),
    ("tokens", include_str!("../../src/api/v1/tokens.rs")),
    ("users", include_str!("../../src/api/v1/users.rs")),
    ("vulnerabilities", include_str!("../../src/api/v1/vulnerabilities.rs")),
    ("vulnerability_export", include_str!("../../src/api/v1/vulnerability_export.rs")),
    ("webhooks", include_str!("../../src/api/v1/webhooks.rs")),
];
const ROUTER_SOURCE: &str = include_str!("../../src/api/v1/mod.rs");

/// Each `pub async fn` of an API module (the handlers), with whether the
/// `#[utoipa::path]` attribute sits on it.
fn handlers() -> Vec<(String, bool)> {
    let mut found = Vec::new();
    for (module, source) in API_SOURCES {
        let lines: Vec<&str> = source.lines().collect();
        for (at, line) in lines.iter().enumerate() {
            let Some(rest) = line.strip_prefix("pub async fn ") else { continue };
            let name = rest.split('(').next().unwrap_or_default();
            // The attribute is above the function, past its other lines.
            let documented = lines[..at]
                .iter()
                .rev()
                .take_while(|l| !l.trim().is_empty() && !l.starts_with('}'))
                .any(|l| l.starts_with("#[utoipa::path("));
            found.push((format!("{module}::{name}"), documented));
        }
    }
    found
}

fn operations(document: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                found.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

#[tokio::test]
async fn every_api_route_is_in_the_document_and_every_entry_is_routed() {
    // The router takes handlers only through `routes!`, which accepts only
    // documented ones: a plain `.route(` would add an undocumented route.
    assert!(!ROUTER_SOURCE.contains(".route("), "api/v1/mod.rs must register routes with routes!(…), not .route(");
    let handlers = handlers();
    assert!(handlers.len() >= 40, "the handlers are found: {handlers:?}");
    for (handler, documented) in &handlers {
        assert!(documented, "{handler} has no #[utoipa::path]: document it");
        assert!(ROUTER_SOURCE.contains(handler.as_str()), "{handler} is documented but not routed in api/v1/mod.rs");
    }

    let app = TestApp::spawn().await;
    let served = app.get("/api/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    assert!(served.content_type.starts_with("application/json"), "{}", served.content_type);
    let document = served.body;
    assert_eq!(document["openapi"], "3.1.0");
    let operations = operations(&document);
    assert_eq!(operations.len(), handlers.len(), "one operation per handler: {operations:?}");

    // Every documented operation is routed: the router answers neither
    // 405 (no such method) nor its own 404 for a path without parameters.
    let admin = "admin@example.com";
    app.setup_admin("Blue Team", admin).await;
    let token = {
        let cookie = app.login(admin, crate::support::PASSWORD).await;
        let created = app.post("/api/v1/tokens", As::Cookie(&cookie), serde_json::json!({ "name": "contract" })).await;
        created.body["token"].as_str().expect("token").to_string()
    };
    let mut seen = BTreeSet::new();
    for (method, path) in &operations {
        assert!(path.starts_with("/api/v1/"), "{path}");
        if path.ends_with("/logout-all") || path.ends_with("/me/password") {
            continue; // would end the test's own credentials; routed like the rest
        }
        let concrete = path
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{token_id}", "00000000-0000-0000-0000-000000000000");
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let body = matches!(method, Method::POST | Method::PATCH).then(|| serde_json::json!({}));
        let answer = app.send(method.clone(), &concrete, As::Bearer(&token), body, &[]).await;
        assert_ne!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is documented but not routed");
        if !path.contains('{') {
            assert_ne!(answer.status, StatusCode::NOT_FOUND, "{method} {path} is documented but not routed");
        }
        let documented = &document["paths"][path.as_str()][method.as_str().to_lowercase()]["responses"];
        assert!(
            documented.get(answer.status.as_str()).is_some(),
            "{method} {path} answered {} which its entry does not list",
            answer.status
        );
        seen.insert(format!("{method} {path}"));
    }
    assert!(seen.len() + 2 >= operations.len());
}

#[tokio::test]
async fn the_document_names_auth_errors_and_unique_operation_ids() {
    let app = TestApp::spawn().await;
    let document = app.get("/api/openapi.json").await.body;
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert!(document["components"]["schemas"]["Problem"].is_object(), "the problem+json shape is documented");
    let mut ids = BTreeSet::new();
    for (method, path) in operations(&document) {
        let operation = &document["paths"][path.as_str()][method.to_lowercase()];
        let id = operation["operationId"].as_str().expect("operationId").to_string();
        assert!(ids.insert(id.clone()), "operationId {id} is used twice");
        let responses = operation["responses"].as_object().expect("responses");
        for code in ["422", "429", "503"] {
            let error = &responses[code];
            assert!(
                error["content"]["application/problem+json"].is_object(),
                "{method} {path} documents {code} as problem+json"
            );
        }
        let public = operation["security"]
            .as_array()
            .is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(serde_json::Map::is_empty)));
        if !public {
            assert!(responses.contains_key("401"), "{method} {path} needs credentials and documents 401");
        }
    }
    // Enumerations are documented with their wire spellings.
    assert_eq!(document["components"]["schemas"]["Severity"]["enum"][0], "CRITICAL");
    assert_eq!(document["components"]["schemas"]["Role"]["enum"][0], "ADMIN");
}

#[tokio::test]
async fn swagger_ui_is_served_from_our_origin_under_the_csp() {
    let app = TestApp::spawn().await;
    let page = app.get("/api/docs/").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.body.as_str().expect("html");
    assert!(html.contains("swagger-ui-bundle.js"), "{html}");
    assert!(!html.contains("http://") && !html.contains("https://"), "no asset from another origin: {html}");
    let csp = page.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(csp.contains("script-src 'self';"), "scripts from our origin only: {csp}");
    assert!(!csp.contains("unsafe-eval") && !csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    let bundle = app.get("/api/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status, StatusCode::OK);
    assert!(bundle.content_type.contains("javascript"), "{}", bundle.content_type);
    let initializer = app.get("/api/docs/swagger-initializer.js").await;
    assert!(
        initializer.body.as_str().is_some_and(|js| js.contains("/api/openapi.json")),
        "the UI loads our document: {:?}",
        initializer.body
    );
}

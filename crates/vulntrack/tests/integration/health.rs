//! The probes and the fallback, on the real router over either backend.

use axum::http::StatusCode;

use crate::support::TestApp;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, serde_json::json!({ "status": "ok" }));
}

#[tokio::test]
async fn readyz_answers_ready_when_the_database_does() {
    let app = TestApp::spawn().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body["status"], "ready");
    assert_eq!(response.body["checks"]["database"], "ok");
}

#[tokio::test]
async fn unknown_routes_are_a_problem_json_404() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/no-such-thing").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.content_type, "application/problem+json");
    assert_eq!(response.body["status"], 404);
    assert_eq!(response.body["title"], "Not Found");
}

//! Liveness and readiness probes.
//!
//! `/healthz` says the process is up and never touches the database, so an
//! orchestrator does not restart a healthy server during a database outage.
//! `/readyz` says whether the server can do useful work: storage must work
//! within a short deadline.

use axum::{
    Json,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{
    app::AppState,
    http::error::{PROBLEM_JSON, STORAGE_RETRY_AFTER_SECONDS},
};

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready when storage works: the database answers (and, while a full disk
/// or an I/O fault is on record, accepts a test write). A storage fault
/// answers 503 problem+json naming it, for as long as it lasts. The rate
/// limiter's backend is reported too: a Redis outage degrades limits to
/// per-instance, which operators should see, but the server keeps serving,
/// so it does not fail readiness.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let limiter = state.rate_limiter().backend().as_str();
    crate::alerts::check_database(&state).await;
    match state.db().storage_fault() {
        None => {
            Json(json!({ "status": "ready", "checks": { "database": "ok", "rate_limiter": limiter } })).into_response()
        }
        Some(fault) => {
            tracing::warn!(outage = fault.outage.as_str(), since = %fault.since, "readiness check: storage fault");
            let body = json!({
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": format!("storage fault: {}", fault.outage.as_str()),
                "checks": { "database": fault.outage.as_str(), "since": fault.since, "rate_limiter": limiter },
            });
            let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(STORAGE_RETRY_AFTER_SECONDS));
            response
        }
    }
}

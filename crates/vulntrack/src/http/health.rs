//! Liveness and readiness probes.
//!
//! `/healthz` says the process is up and never touches the database, so an
//! orchestrator does not restart a healthy server during a database outage.
//! `/readyz` says whether the server can do useful work: the database must
//! answer within a short deadline.

use std::time::Duration;

use axum::{Json, extract::State, response::IntoResponse};
use serde_json::json;

use crate::{app::AppState, http::ApiError};

const READINESS_DEADLINE: Duration = Duration::from_secs(2);

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers. The rate limiter's backend is reported
/// too: a Redis outage degrades limits to per-instance, which operators
/// should see, but the server keeps serving, so it does not fail readiness.
pub async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let limiter = state.rate_limiter().backend().as_str();
    match tokio::time::timeout(READINESS_DEADLINE, state.db().ping()).await {
        Ok(Ok(())) => Ok(Json(json!({ "status": "ready", "checks": { "database": "ok", "rate_limiter": limiter } }))),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check: database unreachable");
            Err(ApiError::Unavailable("database unreachable"))
        }
        Err(_) => {
            tracing::warn!("readiness check: database did not answer in time");
            Err(ApiError::Unavailable("database unreachable"))
        }
    }
}

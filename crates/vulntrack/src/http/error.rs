//! The one error type of the HTTP layer, rendered as RFC 9457 problem
//! details (`application/problem+json`). Internal causes are logged with the
//! request id and never sent to the client.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use vulntrack_domain::{FieldError, ValidationErrors};
use vulntrack_store::Outage;

/// Seconds a client should wait before retrying after a storage outage.
pub const STORAGE_RETRY_AFTER_SECONDS: u64 = 5;

/// Marks a response that a storage outage caused, for the layer that
/// records the outage and raises its alert.
#[derive(Debug, Clone, Copy)]
pub struct StorageOutage(pub Outage);

/// The 503 answer to a storage outage: problem+json with `Retry-After`.
pub fn storage_unavailable(outage: Outage) -> Response {
    let mut response = Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        Some("The service cannot reach its storage right now; nothing was changed. Try again shortly.".into()),
    )
    .into_response();
    mark_storage_outage(&mut response, outage);
    response
}

/// Adds `Retry-After` and the [`StorageOutage`] marker to a 503 response.
pub fn mark_storage_outage(response: &mut Response, outage: Outage) {
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(STORAGE_RETRY_AFTER_SECONDS));
    response.extensions_mut().insert(StorageOutage(outage));
}

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(ValidationErrors),
    /// The body could not be read as the expected JSON.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// No valid credentials. The message is the same whatever the reason.
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("service unavailable: {0}")]
    Unavailable(&'static str),
    /// The database cannot serve for now (down, disk full, I/O error):
    /// 503 with `Retry-After`, never read as "no such row".
    #[error("storage unavailable: {0:?}")]
    Storage(Outage),
    /// `If-Match` named a version that is no longer current.
    #[error("precondition failed")]
    PreconditionFailed { current_version: i64 },
    /// An upload over its limit (in bytes): 413.
    #[error("payload too large")]
    TooLarge { limit: u64 },
    /// A budget is spent: 429 with `Retry-After`.
    #[error("too many requests")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

/// How the JSON API shows what a service refused.
impl From<crate::services::ServiceError> for ApiError {
    fn from(error: crate::services::ServiceError) -> Self {
        use crate::services::ServiceError as S;
        match error {
            S::Invalid(errors) => ApiError::Validation(errors),
            S::Malformed(detail) => ApiError::BadRequest(detail),
            S::NotAuthenticated => ApiError::Unauthorized,
            S::NotAllowed(detail) => ApiError::Forbidden(detail),
            S::NotFound => ApiError::NotFound,
            S::Conflict(detail) => ApiError::Conflict(detail),
            S::Stale { current_version } => ApiError::PreconditionFailed { current_version },
            S::RateLimited { retry_after_seconds } => ApiError::TooManyRequests { retry_after_seconds },
            S::Unavailable(detail) => ApiError::Unavailable(detail),
            S::TooLarge { limit } => ApiError::TooLarge { limit },
            S::Storage(outage) => ApiError::Storage(outage),
            S::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

/// The problem details body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: Option<String>) -> Self {
        Self {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
            errors: Vec::new(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

impl ApiError {
    /// One field error as a 422.
    pub fn field(field: &str, code: &str, message: &str) -> Self {
        ApiError::Validation(FieldError::new(field, code, message).into())
    }
}

impl From<vulntrack_store::StoreError> for ApiError {
    fn from(error: vulntrack_store::StoreError) -> Self {
        if let Some(outage) = error.outage() {
            tracing::warn!(%error, outage = outage.as_str(), "storage unavailable");
            return ApiError::Storage(outage);
        }
        match error {
            vulntrack_store::StoreError::NotFound => ApiError::NotFound,
            vulntrack_store::StoreError::Stale => {
                ApiError::Conflict("The record changed while this change was being saved; reload it and try again.")
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        vulntrack_store::StoreError::Database(error).into()
    }
}

impl From<crate::auth::password::HashError> for ApiError {
    fn from(error: crate::auth::password::HashError) -> Self {
        match error {
            crate::auth::password::HashError::Busy => {
                ApiError::Unavailable("Too many sign-ins are being checked; try again shortly.")
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Validation(errors) => Problem {
                errors: errors.0,
                ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, Some("The request has invalid fields.".into()))
            }
            .into_response(),
            ApiError::BadRequest(detail) => Problem::new(StatusCode::BAD_REQUEST, Some(detail)).into_response(),
            ApiError::Unauthorized => {
                Problem::new(StatusCode::UNAUTHORIZED, Some("Invalid credentials or session.".into())).into_response()
            }
            ApiError::Forbidden(detail) => Problem::new(StatusCode::FORBIDDEN, Some(detail.into())).into_response(),
            ApiError::NotFound => Problem::new(StatusCode::NOT_FOUND, None).into_response(),
            ApiError::Conflict(detail) => Problem::new(StatusCode::CONFLICT, Some(detail.into())).into_response(),
            ApiError::Unavailable(detail) => {
                let mut response = Problem::new(StatusCode::SERVICE_UNAVAILABLE, Some(detail.into())).into_response();
                // Every such refusal is momentary (a full queue): say when to retry.
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(STORAGE_RETRY_AFTER_SECONDS));
                response
            }
            ApiError::Storage(outage) => storage_unavailable(outage),
            ApiError::TooLarge { limit } => Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Some(format!("The upload, or the report it unpacks to, is larger than the limit of {limit} bytes.")),
            )
            .into_response(),
            ApiError::PreconditionFailed { current_version } => {
                let mut response = Problem::new(
                    StatusCode::PRECONDITION_FAILED,
                    Some(format!(
                        "The record changed since you read it (it is now version {current_version}); nothing was changed. Fetch it again and reapply your change."
                    )),
                )
                .into_response();
                if let Ok(etag) = HeaderValue::from_str(&crate::http::versioning::etag(current_version)) {
                    response.headers_mut().insert(header::ETAG, etag);
                }
                response
            }
            // Counted where the budget refused (`ratelimit`), not here.
            ApiError::TooManyRequests { retry_after_seconds } => {
                let mut response =
                    Problem::new(StatusCode::TOO_MANY_REQUESTS, Some("Too many requests; try again later.".into()))
                        .into_response();
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds.max(1)));
                response
            }
            ApiError::Internal(cause) => {
                // The request id is on the current span (see middleware), so
                // this log line and the client's report can be matched up.
                tracing::error!(error = ?cause, "request failed");
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR, None).into_response()
            }
        }
    }
}

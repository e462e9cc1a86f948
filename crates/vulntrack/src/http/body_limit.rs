//! A request that announces a body over the limit (`Content-Length`) is
//! answered 413 at once, before anything waits for a body that would be
//! refused anyway (the extractors' limit only fires while reading, so a
//! client that sends the header and then nothing used to hold the
//! connection until the request timeout).

use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::Response,
};

use crate::{app::AppState, http::error_pages};

pub async fn refuse_announced_oversize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let limit = limit_for(&state, request.method(), request.uri().path());
    if announced.is_some_and(|length| length > limit) {
        let mut response = error_pages::for_path(request.uri().path(), StatusCode::PAYLOAD_TOO_LARGE);
        // The body is never read; the connection must not be reused for it.
        response.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
        return response;
    }
    next.run(request).await
}

/// Room for the multipart form around an uploaded report.
const FORM_OVERHEAD: usize = 64 * 1024;

/// The paths that take a scanner report upload, with their own limit.
pub const UPLOAD_PATHS: &[&str] = &["/api/v1/imports", "/imports"];

/// The largest body a request may send: the upload limit for a report
/// upload, the general body limit otherwise.
pub fn limit_for(state: &AppState, method: &axum::http::Method, path: &str) -> u64 {
    let config = state.config();
    let limit = if method == axum::http::Method::POST && UPLOAD_PATHS.contains(&path) {
        // The form around the report (boundaries, the other fields) rides
        // along; the report itself is held to the limit while it is read.
        config.import_max_bytes.saturating_add(FORM_OVERHEAD)
    } else {
        config.body_limit
    };
    u64::try_from(limit).unwrap_or(u64::MAX)
}

//! Errors that reach the client without a body of ours — a timeout, a
//! method not allowed, an unmatched route — get one: problem+json under
//! `/api`, a plain HTML page elsewhere. Neither ever shows internals.

use axum::{
    extract::Request,
    http::{StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};

use crate::http::error::Problem;

/// A self-contained error page: no scripts, no styles, nothing to load.
pub fn html(status: StatusCode) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let message = match status {
        StatusCode::NOT_FOUND => "There is nothing at this address.",
        StatusCode::FORBIDDEN => "You do not have permission to see this page.",
        StatusCode::TOO_MANY_REQUESTS => "Too many requests. Please wait a moment and try again.",
        StatusCode::REQUEST_TIMEOUT => "The request took too long. Please try again.",
        StatusCode::UNPROCESSABLE_ENTITY => {
            "The form held characters no field may contain (control characters such as NUL). Go back, remove them and send it again."
        }
        StatusCode::PAYLOAD_TOO_LARGE => "What was sent is larger than VulnTrack accepts.",
        s if s.is_server_error() => "Something went wrong on our side. Please try again later.",
        _ => "The request could not be handled.",
    };
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{code} {title} · VulnTrack</title></head>\
         <body><h1>{code} {title}</h1><p>{message}</p><p><a href=\"/\">Back to VulnTrack</a></p></body></html>\n",
        code = status.as_u16()
    );
    (status, Html(body)).into_response()
}

/// The error body for `path`: problem+json for the API, HTML otherwise.
pub fn for_path(path: &str, status: StatusCode) -> Response {
    if path.starts_with("/api/") || path == "/api" || path.starts_with("/readyz") || path.starts_with("/healthz") {
        Problem::new(status, None).into_response()
    } else {
        html(status)
    }
}

pub async fn fill_bare_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let status = response.status();
    if (status.is_client_error() || status.is_server_error()) && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        let mut filled = for_path(&path, status);
        for (name, value) in response.headers() {
            if name != header::CONTENT_LENGTH {
                filled.headers_mut().entry(name.clone()).or_insert_with(|| value.clone());
            }
        }
        return filled;
    }
    response
}

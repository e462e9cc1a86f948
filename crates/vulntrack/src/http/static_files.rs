//! Files served as they are, compiled into the binary so a single file is
//! the whole deployment.

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

const ROBOTS_TXT: &str = include_str!("../../static/robots.txt");

/// Asks crawlers to stay out: nothing here is for a search engine.
pub async fn robots_txt() -> Response {
    let mut response = ROBOTS_TXT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    response
}

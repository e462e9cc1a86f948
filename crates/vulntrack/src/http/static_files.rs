//! Files served as they are, compiled into the binary so a single file is
//! the whole deployment.

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

const ROBOTS_TXT: &str = include_str!("../../static/robots.txt");
const APP_CSS: &str = include_str!("../../static/app.css");
const APP_JS: &str = include_str!("../../static/app.js");
const FAVICON: &str = include_str!("../../static/favicon.svg");

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Compiled in, so they change only with the binary; an hour is a
    // modest cache that an upgrade outlives quickly.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}

pub async fn stylesheet() -> Response {
    asset(APP_CSS, "text/css; charset=utf-8")
}

pub async fn script() -> Response {
    asset(APP_JS, "text/javascript; charset=utf-8")
}

/// Asks crawlers to stay out: nothing here is for a search engine.
pub async fn robots_txt() -> Response {
    let mut response = ROBOTS_TXT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    response
}

pub async fn favicon() -> Response {
    asset(FAVICON, "image/svg+xml")
}

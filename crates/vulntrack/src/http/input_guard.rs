//! Control characters are refused in every query string and form body,
//! before any handler runs (JSON bodies are checked field by field by
//! [`crate::http::ApiJson`]): one rule at the edge instead of one per
//! route, so no text field can carry a NUL to the database. The API answers
//! 422 problem+json naming the parameter; pages answer a 422 page.

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use vulntrack_domain::{ValidationErrors, control_chars};

use crate::{
    app::AppState,
    http::{ApiError, error_pages},
};

/// The urlencoded pairs of `raw` whose name or value holds a control
/// character, as field errors.
fn errors_in_urlencoded(raw: &[u8]) -> ValidationErrors {
    let mut errors = ValidationErrors::default();
    for (name, value) in url::form_urlencoded::parse(raw) {
        if control_chars::contains_forbidden(&name) || control_chars::contains_forbidden(&value) {
            let name: String = name.chars().filter(|c| !control_chars::is_forbidden(*c)).collect();
            errors.push(control_chars::field_error(name));
        }
    }
    errors
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
}

fn refuse(path: &str, errors: ValidationErrors) -> Response {
    if path.starts_with("/api/") {
        ApiError::Validation(errors).into_response()
    } else {
        error_pages::html(StatusCode::UNPROCESSABLE_ENTITY)
    }
}

pub async fn refuse_control_characters(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if let Some(query) = request.uri().query() {
        let errors = errors_in_urlencoded(query.as_bytes());
        if !errors.is_empty() {
            return refuse(&path, errors);
        }
    }
    if !is_form(request.headers()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, state.config().body_limit).await else {
        return error_pages::for_path(&path, StatusCode::PAYLOAD_TOO_LARGE);
    };
    let errors = errors_in_urlencoded(&bytes);
    if !errors.is_empty() {
        return refuse(&path, errors);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoded_control_characters_are_found() {
        let fields: Vec<String> =
            errors_in_urlencoded(b"q=ok&cve_id=CVE%00&title=a%0Ab&tag=%1B").iter().map(|e| e.field.clone()).collect();
        assert_eq!(fields, ["cve_id", "tag"], "line breaks are allowed, NUL and ESC are not");
    }
}

//! Errors that reach the client without a body of ours — a timeout, a
//! method not allowed, an unmatched route — get one: problem+json under
//! `/api`, a plain HTML page elsewhere. Neither ever shows internals.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};

use crate::{app::AppState, http::error::Problem};

/// The styled error page (the site's stylesheet, phone viewport and dark
/// mode, like every other page); it says what happened and never shows
/// internals.
#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: Option<crate::web::page::Nav>,
    code: u16,
    title: &'static str,
    message: &'static str,
}

fn message_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "There is nothing at this address.",
        StatusCode::FORBIDDEN => "You do not have permission to see this page.",
        StatusCode::METHOD_NOT_ALLOWED => "That action is not available at this address.",
        StatusCode::TOO_MANY_REQUESTS => "Too many requests. Please wait a moment and try again.",
        StatusCode::REQUEST_TIMEOUT => "The request took too long. Please try again.",
        StatusCode::UNPROCESSABLE_ENTITY => {
            "The form held characters no field may contain (control characters such as NUL). Go back, remove them and send it again."
        }
        StatusCode::PAYLOAD_TOO_LARGE => "What was sent is larger than VulnTrack accepts.",
        StatusCode::PRECONDITION_FAILED => {
            "The record changed since you opened it. Open it again and redo your change."
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            "VulnTrack cannot reach its storage right now; nothing was changed. Please try again in a few seconds."
        }
        s if s.is_server_error() => "Something went wrong on our side. Please try again later.",
        _ => "The request could not be handled.",
    }
}

/// Marks a response as the styled error page, so the layer around every
/// route can add the signed-in user's navigation to it.
#[derive(Debug, Clone, Copy)]
struct ErrorPageMarker;

fn render(status: StatusCode, nav: Option<crate::web::page::Nav>) -> Response {
    let page = ErrorPage {
        nav,
        code: status.as_u16(),
        title: status.canonical_reason().unwrap_or("Error"),
        message: message_for(status),
    };
    let mut response = match askama::Template::render(&page) {
        Ok(body) => (status, Html(body)).into_response(),
        Err(error) => {
            tracing::error!(%error, "error page failed to render");
            (status, Html(format!("<!doctype html><title>{}</title><h1>{}</h1>", page.code, page.code))).into_response()
        }
    };
    response.extensions_mut().insert(ErrorPageMarker);
    response
}

/// The error page for `status` (the navigation is added on the way out
/// when the visitor is signed in).
pub fn html(status: StatusCode) -> Response {
    render(status, None)
}

/// The error body for `path`: problem+json for the API, HTML otherwise.
pub fn for_path(path: &str, status: StatusCode) -> Response {
    if path.starts_with("/api/") || path == "/api" || path.starts_with("/readyz") || path.starts_with("/healthz") {
        Problem::new(status, None).into_response()
    } else {
        html(status)
    }
}

/// Gives bare errors a body (problem+json under `/api`, the styled page
/// elsewhere) and puts the signed-in user's navigation on error pages.
pub async fn fill_bare_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let signed_in_headers = request.headers().contains_key(header::COOKIE).then(|| request.headers().clone());
    let response = next.run(request).await;
    let status = response.status();
    // A bare error, or a framework's plain-text rejection (a form, path or
    // query it could not read): ours to answer in the site's own shape.
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|value| value.to_str().is_ok_and(|v| v.starts_with("text/plain")));
    let response = if (status.is_client_error() || status.is_server_error()) && plain {
        let mut filled = for_path(&path, status);
        for (name, value) in response.headers() {
            if name != header::CONTENT_LENGTH {
                filled.headers_mut().entry(name.clone()).or_insert_with(|| value.clone());
            }
        }
        filled
    } else {
        response
    };
    match signed_in_headers {
        Some(headers) if response.extensions().get::<ErrorPageMarker>().is_some() => {
            with_navigation(&state, &path, headers, response).await
        }
        _ => response,
    }
}

/// The error page again with the navigation of the user the request's
/// session belongs to. Not for a flood (429) or an outage (503): those must
/// not cost a database lookup each.
async fn with_navigation(state: &AppState, path: &str, headers: HeaderMap, response: Response) -> Response {
    let status = response.status();
    if matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE) {
        return response;
    }
    let Ok((mut parts, ())) = Request::builder().uri(path).body(()).map(axum::http::Request::into_parts) else {
        return response;
    };
    parts.headers = headers;
    let Ok(user) = crate::web::WebUser::from_request_parts(&mut parts, state).await else {
        return response;
    };
    let mut page = render(status, Some(user.nav));
    for (name, value) in response.headers() {
        if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
            page.headers_mut().insert(name.clone(), value.clone());
        }
    }
    page
}

//! Cross-site request forgery defence for cookie-authenticated requests:
//! an unsafe request (POST, PUT, PATCH, DELETE) that the browser marks as
//! coming from another site (`Sec-Fetch-Site`), or whose `Origin` is not our
//! own, is refused with 403 — on top of `SameSite=Lax`. Requests that carry
//! a Bearer token are exempt: a browser never attaches one by itself.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{app::AppState, auth::principal::bearer_token_of, http::ApiError};

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// Whether the browser says this request crossed sites.
fn crosses_sites(headers: &HeaderMap, own_origin: &str) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site")
        && matches!(site, "cross-site" | "same-site")
    {
        return true;
    }
    header("origin").is_some_and(|origin| origin != own_origin)
}

/// Whether the browser fetches this as a subresource (an image, a script,
/// a stylesheet…) rather than as a page or from a script's fetch. No route
/// serves those with a session: an `<img src=/api/…>` planted anywhere
/// must not make a viewer's browser run the request as the viewer.
fn is_subresource(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-dest")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|dest| !matches!(dest, "document" | "empty" | "iframe" | "frame" | "nested-document"))
}

/// Files that are the same for everyone (our stylesheet and script, the
/// API documentation's Swagger UI): pages load them as subresources.
fn serves_static_files(path: &str) -> bool {
    path.starts_with("/static/") || path.starts_with("/api/docs/")
}

pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let bearer = bearer_token_of(request.headers()).is_some();
    let cookie = request.headers().contains_key(axum::http::header::COOKIE);
    if cookie && !bearer && is_subresource(request.headers()) && !serves_static_files(request.uri().path()) {
        tracing::warn!(path = %request.uri().path(), "a signed-in subresource request refused");
        return ApiError::Forbidden("This address is not served as an image, script or style.").into_response();
    }
    if !is_safe(request.method()) && !bearer && crosses_sites(request.headers(), state.own_origin()) {
        tracing::warn!(method = %request.method(), path = %request.uri().path(), "cross-site request refused");
        return ApiError::Forbidden("Cross-site requests are not allowed.").into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    const OWN: &str = "https://vt.example.com";

    #[test]
    fn same_origin_and_header_less_clients_pass() {
        assert!(!crosses_sites(&headers(&[]), OWN));
        assert!(!crosses_sites(&headers(&[("sec-fetch-site", "same-origin"), ("origin", OWN)]), OWN));
        assert!(!crosses_sites(&headers(&[("sec-fetch-site", "none")]), OWN));
    }

    #[test]
    fn other_sites_are_caught_by_either_header() {
        assert!(crosses_sites(&headers(&[("sec-fetch-site", "cross-site")]), OWN));
        assert!(crosses_sites(&headers(&[("sec-fetch-site", "same-site")]), OWN));
        assert!(crosses_sites(&headers(&[("origin", "https://evil.example")]), OWN));
        assert!(crosses_sites(&headers(&[("origin", "null")]), OWN));
        assert!(crosses_sites(&headers(&[("origin", "http://vt.example.com")]), OWN), "scheme counts");
    }
}

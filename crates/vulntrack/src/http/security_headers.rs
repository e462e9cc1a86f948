//! Security headers on every response — pages, API, static files, errors,
//! 429s, redirects — and no caching of API answers.

use axum::{
    extract::{Request, State},
    http::{HeaderName, HeaderValue, header},
    middleware::Next,
    response::Response,
};

use crate::app::AppState;

/// No `unsafe-inline`, no `unsafe-eval`: scripts and styles come from our
/// own origin only, which is what makes injected markup inert.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The API documentation (Swagger UI, our own copy) sets element styles
/// from its script; it gets inline *styles* and nothing else. Styles cannot
/// run code, the page shows only the static API document, and scripts stay
/// `'self'` only.
pub const API_DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

pub const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), \
     fullscreen=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), \
     picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), usb=(), xr-spatial-tracking=()";

fn fixed() -> [(HeaderName, &'static str); 6] {
    [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (HeaderName::from_static("permissions-policy"), PERMISSIONS_POLICY),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ]
}

pub async fn apply(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let api_docs = request.uri().path().starts_with("/api/docs");
    let mut response = next.run(request).await;
    // Anything but the static files may depend on who is signed in (pages,
    // API answers, error pages): never stored by a browser or a proxy.
    let shared_asset = response
        .headers()
        .get(header::CACHE_CONTROL)
        .is_some_and(|v| v.to_str().is_ok_and(|v| v.starts_with("public")));
    let headers = response.headers_mut();
    for (name, value) in fixed() {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if api_docs {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(API_DOCS_CONTENT_SECURITY_POLICY));
    }
    if let Some(hsts) = state.hsts_header() {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
    }
    if api || !shared_asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.remove(header::SERVER);
    response
}

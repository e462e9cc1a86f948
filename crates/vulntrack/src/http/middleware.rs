//! Cross-cutting layers: security headers, request ids, request tracing,
//! error bodies, timeouts, panic recovery.

use std::{any::Any, time::Duration};

use axum::{
    Router,
    http::{HeaderName, Request, StatusCode},
    response::{IntoResponse, Response},
};
use tower::ServiceBuilder;
use tower_http::{
    LatencyUnit,
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;
use uuid::Uuid;

use crate::{
    app::AppState,
    http::{error::Problem, error_pages, security_headers},
};

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids are fresh UUIDv7s; an id sent by the client is kept so a
/// proxy's id follows the request through our logs.
#[derive(Clone, Copy, Debug, Default)]
struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        Uuid::now_v7().to_string().parse().ok().map(RequestId::new)
    }
}

/// The longest request id taken from a client or proxy (the audit log's
/// column holds 64).
const MAX_REQUEST_ID: usize = 64;

/// A client's `X-Request-Id` is kept only if it is short and made of
/// characters ids are made of; otherwise it is dropped and a fresh one is
/// generated, so nothing a client sends can make an audit write fail.
async fn keep_only_safe_request_ids(mut request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let safe = |value: &axum::http::HeaderValue| {
        value.to_str().is_ok_and(|id| {
            !id.is_empty()
                && id.len() <= MAX_REQUEST_ID
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        })
    };
    let unsafe_id = {
        let mut ids = request.headers().get_all(REQUEST_ID_HEADER).iter();
        let first = ids.next();
        first.is_some_and(|id| !safe(id)) || ids.next().is_some()
    };
    if unsafe_id {
        request.headers_mut().remove(REQUEST_ID_HEADER);
    }
    next.run(request).await
}

/// A panic inside a handler becomes a bare 500 problem; the panic message
/// goes to the log, never to the client.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(non-string panic)");
    tracing::error!(panic = message, "handler panicked");
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR, None).into_response()
}

/// The layers every request passes through, outermost first: security
/// headers (so even a timeout or a panic carries them), request id and
/// tracing, bodies for bare errors, the request timeout, panic recovery.
pub fn apply(router: Router, state: AppState, timeout: Duration) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers::apply))
            .layer(axum::middleware::from_fn(keep_only_safe_request_ids))
            .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuidV7))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|request: &Request<_>| {
                        let request_id =
                            request.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
                        // user_id and team_id are filled in by the principal
                        // extractor once the request is authenticated. Only
                        // the path is logged: queries may carry tokens.
                        tracing::info_span!(
                            "request",
                            method = %request.method(),
                            path = %request.uri().path(),
                            request_id,
                            user_id = tracing::field::Empty,
                            team_id = tracing::field::Empty,
                        )
                    })
                    .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Millis)),
            )
            .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
            .layer(axum::middleware::from_fn_with_state(state, error_pages::fill_bare_errors))
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
            .layer(CatchPanicLayer::custom(panic_response)),
    )
}

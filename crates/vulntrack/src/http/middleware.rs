//! Cross-cutting layers: request ids, request tracing, panic recovery.

use std::any::Any;

use axum::{
    Router,
    http::{HeaderName, Request, StatusCode},
    response::{IntoResponse, Response},
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::TraceLayer,
};
use uuid::Uuid;

use crate::http::error::Problem;

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

pub fn apply(router: Router) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuidV7))
            .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let request_id =
                    request.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
            }))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
            .layer(CatchPanicLayer::custom(panic_response)),
    )
}

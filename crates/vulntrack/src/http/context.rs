//! Who is asking, from where: the request facts recorded in the audit log.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts},
};
use vulntrack_store::audit::RequestContext;

use crate::http::middleware::REQUEST_ID_HEADER;

/// The client address (the socket peer; trusted-proxy handling comes with
/// the hardening issue), user agent and request id of this request.
#[derive(Debug, Clone, Default)]
pub struct ClientContext(pub RequestContext);

impl<S: Send + Sync> FromRequestParts<S> for ClientContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let header =
            |name| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(|v| v.chars().take(512).collect());
        Ok(Self(RequestContext {
            ip: parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()),
            user_agent: header(header::USER_AGENT),
            request_id: header(REQUEST_ID_HEADER),
        }))
    }
}

//! Who is asking, from where: the request facts recorded in the audit log.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts},
};
use vulntrack_store::audit::RequestContext;

use crate::http::{client_ip::ClientIp, middleware::REQUEST_ID_HEADER};

/// The client address (see `client_ip`: the peer, or the forwarded client
/// when the peer is a trusted proxy), user agent and request id.
#[derive(Debug, Clone, Default)]
pub struct ClientContext(pub RequestContext);

impl<S: Send + Sync> FromRequestParts<S> for ClientContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let header =
            |name| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(|v| v.chars().take(512).collect());
        Ok(Self(RequestContext {
            ip: parts
                .extensions
                .get::<ClientIp>()
                .map(|c| c.0)
                .or_else(|| parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()))
                .map(|ip| ip.to_string()),
            user_agent: header(header::USER_AGENT),
            request_id: header(REQUEST_ID_HEADER),
        }))
    }
}

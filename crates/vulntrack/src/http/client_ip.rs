//! The client's address: the socket peer, unless the peer is a trusted
//! proxy, in which case the right-most address in `X-Forwarded-For` that is
//! not itself a trusted proxy. A client cannot spoof its address by sending
//! the header directly: from an untrusted peer it is ignored.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::Response,
};
use ipnet::IpNet;

use crate::app::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Who the client is, given the peer and the forwarded chain.
pub fn resolve(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let Some(chain) = forwarded_for else { return peer };
    let mut last = peer;
    for hop in chain.rsplit(',').map(str::trim) {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => last = ip,
            Ok(ip) => return ip,
            // A malformed entry could be anything the client wrote: stop
            // at the last address a trusted hop vouched for.
            Err(_) => return last,
        }
    }
    last
}

pub async fn attach(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
    let forwarded = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let ip = resolve(peer, forwarded, &state.config().trusted_proxies);
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn untrusted_peers_are_taken_at_their_word_only() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        assert_eq!(resolve(ip("203.0.113.9"), Some("1.2.3.4"), &trusted), ip("203.0.113.9"));
        assert_eq!(resolve(ip("10.0.0.2"), Some("198.51.100.7"), &trusted), ip("198.51.100.7"));
        assert_eq!(resolve(ip("10.0.0.2"), Some("6.6.6.6, 198.51.100.7, 10.0.0.9"), &trusted), ip("198.51.100.7"));
        assert_eq!(resolve(ip("10.0.0.2"), None, &trusted), ip("10.0.0.2"));
        assert_eq!(resolve(ip("10.0.0.2"), Some("garbage, 10.0.0.5"), &trusted), ip("10.0.0.5"));
        assert_eq!(resolve(ip("10.0.0.2"), Some("1.1.1.1"), &[]), ip("10.0.0.2"), "no trusted proxies");
    }
}

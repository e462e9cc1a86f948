//! The application: the router with its layers, and serving it (the state
//! every handler reaches is in [`crate::state`]).

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    http::StatusCode,
    response::Response,
    routing::get,
};

use crate::{
    api,
    auth::csrf,
    config::TlsFiles,
    http::client_ip,
    http::{error_pages, health, middleware, static_files},
    ratelimit,
};

pub use crate::state::AppState;

/// Every route of the application, with its middleware.
pub fn build_router(state: AppState) -> Router {
    let config = state.config();
    let (body_limit, timeout) = (config.body_limit, config.request_timeout);
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/robots.txt", get(static_files::robots_txt))
        .route("/metrics", get(crate::metrics::guarded))
        .merge(api::openapi::router())
        .merge(crate::web::router())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::http::input_guard::refuse_control_characters))
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf::guard))
        .layer(axum::middleware::from_fn_with_state(state.clone(), ratelimit::middleware::limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), client_ip::attach))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::http::body_limit::refuse_announced_oversize))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::metrics::track))
        .with_state(state.clone());
    middleware::apply(routes, state, timeout)
}

async fn not_found(request: Request) -> Response {
    error_pages::for_path(request.uri().path(), StatusCode::NOT_FOUND)
}

/// How long in-flight requests may run on after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// Slow-client protection: the request head must arrive within this time…
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// …and fit in this many bytes (request line and headers).
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How the server speaks to clients.
#[derive(Debug, Clone)]
pub enum Transport {
    Plain,
    /// HTTPS with this rustls configuration (TLS 1.2 and 1.3 only).
    Tls(Arc<rustls::ServerConfig>),
}

/// The rustls configuration for the PEM files: TLS 1.3 and 1.2 with
/// rustls' modern cipher suites (no CBC, no RSA key exchange); TLS 1.0 and
/// 1.1 are not offered at all.
pub fn tls_config(files: &TlsFiles) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("VULNTRACK_TLS_CERT: cannot read a PEM certificate chain: {e}"))?;
    anyhow::ensure!(!certs.is_empty(), "VULNTRACK_TLS_CERT: no certificate in {}", files.cert.display());
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| anyhow::anyhow!("VULNTRACK_TLS_KEY: cannot read a PEM private key: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| anyhow::anyhow!("VULNTRACK_TLS_KEY: does not match the certificate: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn harden(builder: &mut hyper_util_builder::Builder) {
    builder.http1().header_read_timeout(HEADER_READ_TIMEOUT).max_buf_size(MAX_HEAD_BYTES);
}

mod hyper_util_builder {
    pub type Builder = hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>;
}

/// Serves until `shutdown` completes, then lets in-flight requests finish
/// (up to a grace period).
pub async fn serve(
    listener: std::net::TcpListener,
    router: Router,
    transport: Transport,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let handle = axum_server::Handle::new();
    let on_signal = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        on_signal.graceful_shutdown(Some(SHUTDOWN_GRACE));
    });
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    match transport {
        Transport::Plain => {
            let mut server = axum_server::from_tcp(listener)?;
            harden(server.http_builder());
            server.handle(handle).serve(service).await
        }
        Transport::Tls(config) => {
            let tls = axum_server::tls_rustls::RustlsConfig::from_config(config);
            let mut server = axum_server::tls_rustls::from_tcp_rustls(listener, tls)?;
            harden(server.http_builder());
            server.handle(handle).serve(service).await
        }
    }
}

/// The dedicated metrics listener's router: `/metrics` and nothing else.
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(crate::metrics::open)).with_state(state)
}

/// A plain-HTTP router that only redirects to the same path on the public
/// (HTTPS) URL, with the security headers.
pub fn redirect_router(state: AppState) -> Router {
    let target = state.config().public_url.clone();
    let redirect = move |request: Request| {
        let target = target.clone();
        async move {
            let mut location = target;
            location.set_path(request.uri().path());
            location.set_query(request.uri().query());
            axum::response::Redirect::permanent(location.as_str())
        }
    };
    let router = Router::new().fallback(redirect);
    router.layer(axum::middleware::from_fn_with_state(state, crate::http::security_headers::apply))
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}

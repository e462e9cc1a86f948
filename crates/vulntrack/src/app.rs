//! The application: shared state, the router, and serving it.

use std::{future::Future, net::SocketAddr, sync::Arc};

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    http::{HeaderValue, StatusCode},
    response::Response,
    routing::get,
};
use secrecy::SecretString;
use tokio::net::TcpListener;
use vulntrack_store::Database;

use crate::{
    api,
    auth::{PasswordHasher, csrf, session_token::SessionKeys},
    config::Config,
    http::client_ip,
    http::{cursor::CursorCodec, error_pages, health, middleware},
    mail::Mailer,
    ratelimit,
    ratelimit::RateLimiter,
};

/// What every handler can reach. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Database,
    config: Config,
    hasher: PasswordHasher,
    session_keys: SessionKeys,
    mailer: Mailer,
    cursors: CursorCodec,
    rate_limiter: RateLimiter,
    hsts: Option<HeaderValue>,
    /// `scheme://host[:port]` of the public URL, compared with `Origin`.
    own_origin: String,
}

impl AppState {
    /// `secret` is the resolved signing secret (see `Config::resolve_secret`).
    pub fn new(db: Database, config: Config, secret: SecretString) -> anyhow::Result<Self> {
        let session_keys = SessionKeys::new(&secret, config.secret_previous.as_ref())?;
        let mailer = Mailer::from_config(&config)?;
        let own_origin = config.public_url.origin().ascii_serialization();
        let cursors = CursorCodec::new(&secret);
        let rate_limiter = config.redis_url.as_ref().map_or_else(RateLimiter::in_memory, RateLimiter::with_redis);
        let hsts = config.hsts.as_deref().map(HeaderValue::from_str).transpose()?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                config,
                hasher: PasswordHasher::default(),
                session_keys,
                mailer,
                cursors,
                rate_limiter,
                hsts,
                own_origin,
            }),
        })
    }

    pub fn session_keys(&self) -> &SessionKeys {
        &self.inner.session_keys
    }

    pub fn mailer(&self) -> &Mailer {
        &self.inner.mailer
    }

    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.inner.rate_limiter
    }

    pub fn hsts_header(&self) -> Option<&HeaderValue> {
        self.inner.hsts.as_ref()
    }

    pub fn cursors(&self) -> &CursorCodec {
        &self.inner.cursors
    }

    pub fn own_origin(&self) -> &str {
        &self.inner.own_origin
    }

    /// An absolute link to `path_and_query` under the public URL.
    pub fn link(&self, path_and_query: &str) -> String {
        let base = self.inner.config.public_url.as_str().trim_end_matches('/');
        format!("{base}/{}", path_and_query.trim_start_matches('/'))
    }

    pub fn db(&self) -> &Database {
        &self.inner.db
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.inner.hasher
    }
}

/// Every route of the application, with its middleware.
pub fn build_router(state: AppState) -> Router {
    let config = state.config();
    let (body_limit, timeout) = (config.body_limit, config.request_timeout);
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest("/api/v1", api::v1::router())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf::guard))
        .layer(axum::middleware::from_fn_with_state(state.clone(), ratelimit::middleware::limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), client_ip::attach))
        .with_state(state.clone());
    middleware::apply(routes, state, timeout)
}

async fn not_found(request: Request) -> Response {
    error_pages::for_path(request.uri().path(), StatusCode::NOT_FOUND)
}

/// Serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
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

//! The application: shared state, the router, and serving it.

use std::{future::Future, net::SocketAddr, sync::Arc};

use axum::{Router, http::StatusCode, response::IntoResponse, routing::get};
use secrecy::SecretString;
use tokio::net::TcpListener;
use vulntrack_store::Database;

use crate::{
    auth::PasswordHasher,
    config::Config,
    http::{error::Problem, health, middleware},
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
    // Signs session tokens (authentication issue); held here so it is
    // resolved once at start-up and never re-read from disk per request.
    #[allow(dead_code)]
    secret: SecretString,
}

impl AppState {
    pub fn new(db: Database, config: Config, secret: SecretString) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                config,
                hasher: PasswordHasher::default(),
                secret,
            }),
        }
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
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(not_found)
        .with_state(state);
    middleware::apply(router)
}

async fn not_found() -> impl IntoResponse {
    Problem::new(StatusCode::NOT_FOUND, None)
}

/// Serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
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

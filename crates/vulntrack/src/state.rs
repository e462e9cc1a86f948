//! What every handler can reach: the database, the configuration and the
//! process's shared services. Its own module, so handlers depend on the
//! state and not on the router that mounts them.

use std::sync::Arc;

use axum::http::HeaderValue;
use secrecy::SecretString;
use vulntrack_store::Database;

use crate::{
    auth::{PasswordHasher, session_token::SessionKeys},
    config::Config,
    http::cursor::CursorCodec,
    mail::Mailer,
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
    metrics_token_hash: Option<[u8; 32]>,
    alerts: crate::alerts::AlertHub,
    /// `scheme://host[:port]` of the public URL, compared with `Origin`.
    own_origin: String,
}

impl AppState {
    /// `secret` is the resolved signing secret (see `Config::resolve_secret`).
    pub fn new(db: Database, config: Config, secret: SecretString) -> anyhow::Result<Self> {
        let session_keys = SessionKeys::new(&secret, config.secret_previous.as_ref())?;
        vulntrack_store::audit::install_chain_keys(crate::audit_heads::chain_keys(
            &secret,
            config.secret_previous.as_ref(),
        ))
        .map_err(|e| anyhow::anyhow!(e))?;
        let mailer = Mailer::from_config(&config)?;
        let own_origin = config.public_url.origin().ascii_serialization();
        let cursors = CursorCodec::new(&secret);
        let redis_ca = config.redis_ca_file.as_ref().map(std::fs::read).transpose()?;
        let rate_limiter = match &config.redis_url {
            Some(url) => RateLimiter::with_redis(url, redis_ca),
            None => RateLimiter::in_memory(),
        };
        let hsts = config.hsts.as_deref().map(HeaderValue::from_str).transpose()?;
        let metrics_token_hash = config.metrics_token.as_ref().map(|token| {
            use secrecy::ExposeSecret;
            use sha2::Digest;
            sha2::Sha256::digest(token.expose_secret().as_bytes()).into()
        });
        crate::metrics::handle();
        let alerts = crate::alerts::AlertHub::new(config.alert_webhook_url.clone())?;
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
                metrics_token_hash,
                alerts,
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

    pub fn alerts(&self) -> &crate::alerts::AlertHub {
        &self.inner.alerts
    }

    /// SHA-256 of the metrics bearer token, if `/metrics` is on here.
    pub fn metrics_token_hash(&self) -> Option<&[u8; 32]> {
        self.inner.metrics_token_hash.as_ref()
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

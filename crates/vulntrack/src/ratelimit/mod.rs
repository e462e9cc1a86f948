//! Rate limits (sliding window), in memory by default and in Redis when
//! `REDIS_URL` is set so that every instance shares them. If Redis stops
//! answering, checks fall back to the local window, the change is logged
//! and reported by `/readyz`, and Redis is tried again every few seconds.

pub mod budgets;
mod memory;
pub mod middleware;
mod redis_window;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    http::{HeaderMap, HeaderName, HeaderValue, header},
    response::{IntoResponse, Response},
};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use vulntrack_domain::rate::RateRule;

pub use memory::MemoryWindow;
use redis_window::RedisWindow;

/// How long after a Redis failure the next attempt is made.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(2);

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Until the window has room again.
    pub reset: Duration,
}

pub const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
pub const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
pub const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

impl Decision {
    pub(crate) fn reset_seconds(&self) -> u64 {
        self.reset.as_millis().div_ceil(1000).try_into().unwrap_or(u64::MAX).max(1)
    }

    /// Adds the `X-RateLimit-*` headers, keeping any already set by a
    /// narrower limit.
    pub fn annotate(&self, headers: &mut HeaderMap) {
        for (name, value) in
            [(LIMIT, u64::from(self.limit)), (REMAINING, u64::from(self.remaining)), (RESET, self.reset_seconds())]
        {
            headers.entry(name).or_insert_with(|| HeaderValue::from(value));
        }
    }

    /// The 429 answer: problem+json with `Retry-After`.
    pub fn refusal(&self) -> Response {
        let mut response =
            crate::http::ApiError::TooManyRequests { retry_after_seconds: self.reset_seconds() }.into_response();
        self.annotate_refusal(response.headers_mut());
        response
    }

    /// Marks a refusal shown some other way (a page): counted, with
    /// `Retry-After` and the `X-RateLimit-*` headers.
    pub fn annotate_refusal(&self, headers: &mut HeaderMap) {
        metrics::counter!(crate::metrics::RATE_LIMITED).increment(1);
        headers.insert(header::RETRY_AFTER, HeaderValue::from(self.reset_seconds()));
        self.annotate(headers);
    }

    /// The tighter of two decisions (refused beats allowed; then fewer left).
    pub fn tighter(self, other: Decision) -> Decision {
        match (self.allowed, other.allowed) {
            (false, true) => self,
            (true, false) => other,
            _ if other.remaining < self.remaining => other,
            _ => self,
        }
    }
}

/// Which limiter answered the last check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Redis,
    /// Redis is configured but not answering: local limits apply.
    MemoryFallback,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            Backend::Redis => "redis",
            Backend::MemoryFallback => "memory (redis unreachable)",
        }
    }
}

#[derive(Debug)]
struct Shared {
    url: String,
    /// PEM roots to trust for `rediss://` instead of the system's.
    ca_pem: Option<Vec<u8>>,
    window: Mutex<Option<RedisWindow>>,
    healthy: AtomicBool,
    last_failure_ms: AtomicU64,
}

#[derive(Debug, Clone)]
pub struct RateLimiter {
    memory: Arc<MemoryWindow>,
    redis: Option<Arc<Shared>>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Keys are namespaced so VulnTrack can share a Redis with other software.
const KEY_PREFIX: &str = "vulntrack:ratelimit:";

impl RateLimiter {
    pub fn in_memory() -> Self {
        Self { memory: Arc::new(MemoryWindow::default()), redis: None }
    }

    /// A limiter that uses Redis at `url` (`redis://`, or `rediss://` over
    /// TLS, trusting `ca_pem` if given, else the system's roots); the
    /// connection is made on first use, so a Redis that is down at start-up
    /// only means local limits.
    pub fn with_redis(url: &SecretString, ca_pem: Option<Vec<u8>>) -> Self {
        // rustls (inside the Redis client) uses the process's provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let shared = Shared {
            url: url.expose_secret().to_string(),
            ca_pem,
            window: Mutex::new(None),
            healthy: AtomicBool::new(true),
            last_failure_ms: AtomicU64::new(0),
        };
        Self { memory: Arc::new(MemoryWindow::default()), redis: Some(Arc::new(shared)) }
    }

    pub fn backend(&self) -> Backend {
        match &self.redis {
            None => Backend::Memory,
            Some(shared) if shared.healthy.load(Ordering::Relaxed) => Backend::Redis,
            Some(_) => Backend::MemoryFallback,
        }
    }

    async fn redis_window(shared: &Shared) -> redis::RedisResult<RedisWindow> {
        let mut slot = shared.window.lock().await;
        if let Some(window) = slot.as_ref() {
            return Ok(window.clone());
        }
        let client = match &shared.ca_pem {
            Some(pem) => redis::Client::build_with_tls(
                shared.url.as_str(),
                redis::TlsCertificates { client_tls: None, root_cert: Some(pem.clone()) },
            )?,
            None => redis::Client::open(shared.url.as_str())?,
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(redis_window::TIMEOUT))
            .set_response_timeout(Some(redis_window::TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_with_config(client, config).await?;
        let window = RedisWindow::new(connection, KEY_PREFIX);
        *slot = Some(window.clone());
        Ok(window)
    }

    async fn check_redis(shared: &Shared, key: &str, rule: RateRule, n: u32) -> Option<Decision> {
        let attempt = async { Self::redis_window(shared).await?.check(key, rule, n).await };
        let outcome = tokio::time::timeout(redis_window::TIMEOUT * 2, attempt).await;
        match outcome {
            Ok(Ok(decision)) => {
                if !shared.healthy.swap(true, Ordering::Relaxed) {
                    tracing::info!("rate limiter: Redis answers again; limits are shared across instances");
                }
                Some(decision)
            }
            failure => {
                let reason = match failure {
                    Ok(Err(error)) => error.to_string(),
                    _ => "timed out".to_string(),
                };
                shared.last_failure_ms.store(now_ms(), Ordering::Relaxed);
                if shared.healthy.swap(false, Ordering::Relaxed) {
                    tracing::error!(error = %reason, "rate limiter: Redis unreachable; falling back to per-instance limits");
                }
                None
            }
        }
    }

    /// Counts one event for `key` under `rule`.
    pub async fn check(&self, key: &str, rule: RateRule) -> Decision {
        self.check_n(key, rule, 1).await
    }

    /// Counts `n` events for `key` at once (a bulk change by its size):
    /// allowed only if the window has room for all of them.
    pub async fn check_n(&self, key: &str, rule: RateRule, n: u32) -> Decision {
        if let Some(shared) = &self.redis {
            let cooling_down = !shared.healthy.load(Ordering::Relaxed)
                && now_ms().saturating_sub(shared.last_failure_ms.load(Ordering::Relaxed))
                    < u64::try_from(RETRY_AFTER_FAILURE.as_millis()).unwrap_or(u64::MAX);
            if !cooling_down && let Some(decision) = Self::check_redis(shared, key, rule, n).await {
                return decision;
            }
        }
        self.memory.check_n(key, rule, now_ms(), n)
    }
}

impl RateLimiter {
    /// Takes back the newest event counted for `key`: a limit that should
    /// count failures only is checked like any other (so concurrent attempts
    /// cannot overrun it) and refunded when the attempt succeeds.
    pub async fn refund(&self, key: &str) {
        if let Some(shared) = &self.redis
            && shared.healthy.load(Ordering::Relaxed)
        {
            let attempt = async { Self::redis_window(shared).await?.refund(key).await };
            match tokio::time::timeout(redis_window::TIMEOUT * 2, attempt).await {
                Ok(Ok(())) => return,
                Ok(Err(error)) => tracing::warn!(%error, "rate limiter: refund in Redis failed"),
                Err(_) => tracing::warn!("rate limiter: refund in Redis timed out"),
            }
        }
        self.memory.refund(key);
    }
}

/// Runs `work` if every check allows it, with the tightest decision's
/// headers on the answer; otherwise answers 429 without running it.
pub async fn enforce<R: IntoResponse>(
    limiter: &RateLimiter,
    checks: &[(String, RateRule)],
    work: impl std::future::Future<Output = R>,
) -> Response {
    let mut tightest: Option<Decision> = None;
    for (key, rule) in checks {
        let decision = limiter.check(key, *rule).await;
        tightest = Some(tightest.map_or(decision, |previous| previous.tighter(decision)));
    }
    if let Some(decision) = tightest.filter(|d| !d.allowed) {
        return decision.refusal();
    }
    let mut response = work.await.into_response();
    if let Some(decision) = tightest {
        decision.annotate(response.headers_mut());
    }
    response
}

/// Spends one event of each budget for a caller that shows its own answer
/// (the web pages): a refusal is [`ServiceError::RateLimited`] with the
/// time until the tightest window has room again.
pub async fn spend(limiter: &RateLimiter, checks: &[(String, RateRule)]) -> Result<(), crate::services::ServiceError> {
    for (key, rule) in checks {
        let decision = limiter.check(key, *rule).await;
        if !decision.allowed {
            metrics::counter!(crate::metrics::RATE_LIMITED).increment(1);
            return Err(crate::services::ServiceError::RateLimited { retry_after_seconds: decision.reset_seconds() });
        }
    }
    Ok(())
}

//! Prometheus metrics: HTTP requests by route and status with latency
//! histograms, database pool usage, sign-ins, lock-outs, rate-limited
//! requests, security alerts and audit rows. Served at `/metrics`, either
//! on its own listener (`VULNTRACK_METRICS_BIND`) or on the main one behind
//! a bearer token (`VULNTRACK_METRICS_TOKEN`); off by default.

use std::{sync::OnceLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};

use crate::{app::AppState, auth::principal::bearer_token_of, http::error_pages};

pub const HTTP_REQUESTS: &str = "vulntrack_http_requests_total";
pub const HTTP_DURATION: &str = "vulntrack_http_request_duration_seconds";
pub const LOGINS: &str = "vulntrack_logins_total";
pub const LOCKOUTS: &str = "vulntrack_account_lockouts_total";
pub const RATE_LIMITED: &str = "vulntrack_rate_limited_total";
pub const ALERTS: &str = "vulntrack_security_alerts_total";
pub const DB_CONNECTIONS: &str = "vulntrack_db_pool_connections";
pub const DB_IDLE: &str = "vulntrack_db_pool_idle_connections";
pub const RATE_LIMITER_DEGRADED: &str = "vulntrack_rate_limiter_degraded";

const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The process-wide recorder. Installed once; every app in the process
/// (tests build many) reports to it.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_string()), LATENCY_BUCKETS)
            .expect("static buckets are valid");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder was installed first; then ours
        // simply renders nothing, which the metrics test would catch.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Counts and times every request by method, matched route and status,
/// and feeds the error-rate alert.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route).record(started.elapsed().as_secs_f64());
    match response.extensions().get::<crate::http::error::StorageOutage>() {
        // An outage is its own alert; its 503s do not feed the error-rate rule.
        Some(outage) => crate::alerts::on_storage_outage(&state, outage.0).await,
        None => crate::alerts::on_response(&state, response.status().as_u16()).await,
    }
    response
}

/// The exposition text, with the gauges sampled now.
pub fn render(state: &AppState) -> String {
    let (size, idle) = state.db().pool_usage();
    metrics::gauge!(DB_CONNECTIONS).set(f64::from(size));
    metrics::gauge!(DB_IDLE).set(f64::from(idle));
    let degraded = state.rate_limiter().backend() == crate::ratelimit::Backend::MemoryFallback;
    metrics::gauge!(RATE_LIMITER_DEGRADED).set(if degraded { 1.0 } else { 0.0 });
    handle().render()
}

fn exposition(state: &AppState) -> Response {
    let mut response = render(state).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    response
}

/// `/metrics` on the main listener: only with the configured bearer token.
pub async fn guarded(State(state): State<AppState>, request: Request) -> Response {
    let Some(expected) = state.metrics_token_hash() else {
        return error_pages::for_path("/metrics", StatusCode::NOT_FOUND);
    };
    let presented = bearer_token_of(request.headers()).map(|t| Sha256::digest(t.as_bytes()));
    // Comparing digests keeps the comparison's time independent of where
    // the strings first differ.
    match presented {
        Some(digest) if digest.as_slice() == expected.as_slice() => exposition(&state),
        _ => crate::http::ApiError::Unauthorized.into_response(),
    }
}

/// `/metrics` on the dedicated listener, which is meant for a private
/// network and needs no token.
pub async fn open(State(state): State<AppState>) -> Response {
    exposition(&state)
}

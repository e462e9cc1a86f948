//! `/readyz` follows the database through an outage without a restart.
//!
//! The outage is a forwarding proxy between VulnTrack and the real server,
//! switched off and on, so the shared PostgreSQL keeps serving other tests.

use std::{net::SocketAddr, time::Duration};

use axum::http::StatusCode;
use vulntrack_store::{Database, DatabaseUrl, PoolSettings};

use crate::support::{Needs, TestApp, TestDb, eventually, proxy::ToggleProxy, skip_unless};

/// On PostgreSQL: the app over a fresh database reached through a proxy
/// that can be switched off. `None` on SQLite, whose embedded file cannot
/// become unreachable: the caller returns, the skip said by [`skip_unless`]
/// (the PostgreSQL pass of .ci/run runs it).
pub async fn app_behind_a_switchable_proxy(
    acquire_timeout: Duration,
    adjust: impl FnOnce(&mut vulntrack::Config),
) -> Option<(TestApp, ToggleProxy)> {
    let test_db = TestDb::fresh().await;
    if skip_unless(test_db.backend() == vulntrack_store::Backend::Postgres, Needs::Postgres) {
        return None;
    }
    let target = postgres_address(&test_db.url).expect("the PostgreSQL URL names a host and port");
    test_db.migrated().await.close().await.expect("close");
    let proxy = ToggleProxy::start(target).await;
    let mut through_proxy = url::Url::parse(test_db.url.expose()).expect("url");
    through_proxy.set_port(Some(proxy.addr.port())).expect("port");
    through_proxy.set_host(Some("127.0.0.1")).expect("host");
    let url = DatabaseUrl::parse(through_proxy.as_str()).expect("proxied url");
    let settings = PoolSettings { acquire_timeout, ..PoolSettings::default() };
    let db = Database::connect(&url, settings).await.expect("connect through proxy");
    Some((TestApp::over_with(test_db, db, adjust), proxy))
}

#[tokio::test]
async fn readyz_reports_a_database_outage_and_recovers() {
    let Some((app, proxy)) = app_behind_a_switchable_proxy(Duration::from_secs(1), |_| {}).await else { return };

    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);

    proxy.down();
    let outage = app.get("/readyz").await;
    assert_eq!(outage.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(outage.content_type, "application/problem+json");
    assert_eq!(outage.body["checks"]["database"], "unreachable", "{outage:?}");
    assert_eq!(outage.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK, "liveness never depends on the database");

    proxy.up();
    let recovered =
        eventually(Duration::from_secs(15), async || app.get("/readyz").await.status == StatusCode::OK).await;
    assert!(recovered, "/readyz should answer 200 again once the database is back");
}

pub fn postgres_address(url: &DatabaseUrl) -> Option<SocketAddr> {
    if url.backend() != vulntrack_store::Backend::Postgres {
        return None;
    }
    let parsed = url::Url::parse(url.expose()).ok()?;
    let host = parsed.host_str()?;
    let port = parsed.port().unwrap_or(5432);
    let host = if host == "localhost" { "127.0.0.1" } else { host };
    format!("{host}:{port}").parse().ok()
}

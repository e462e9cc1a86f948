//! HTTP hardening: security headers on every kind of response, rate
//! limits (memory and Redis), client addresses behind proxies, request
//! limits, panics, timeouts and HTTPS.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
    routing::get,
};
use http_body_util::BodyExt;
use secrecy::SecretString;
use serde_json::json;
use tower::ServiceExt;
use vulntrack::{AppState, app, config::Environment, http::security_headers::CONTENT_SECURITY_POLICY};
use vulntrack_domain::rate::RateRule;

use crate::{
    support::{As, Needs, PASSWORD, TEST_SECRET, TestApp, TestResponse, available, eventually, proxy::ToggleProxy},
    vulnerabilities::sample,
};

const ADMIN: &str = "admin@example.com";

fn rule(limit: u32, seconds: u64) -> RateRule {
    RateRule::new(limit, Duration::from_secs(seconds))
}

fn assert_security_headers(what: &str, response: &TestResponse) {
    let header = |name: &str| response.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(header("content-security-policy"), CONTENT_SECURITY_POLICY, "{what}");
    let csp = header("content-security-policy");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{what}: {csp}");
    for directive in
        ["default-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"]
    {
        assert!(csp.contains(directive), "{what}: {directive} missing");
    }
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), "strict-origin-when-cross-origin", "{what}");
    assert_eq!(header("cross-origin-opener-policy"), "same-origin", "{what}");
    let permissions = header("permissions-policy");
    for feature in ["camera=()", "microphone=()", "geolocation=()"] {
        assert!(permissions.contains(feature), "{what}: {feature} missing from {permissions}");
    }
    assert!(response.headers.get(header::SERVER).is_none(), "{what}: no Server header");
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = TestApp::spawn_with(|c| c.rate_limit_anon = rule(6, 60)).await;
    let file = app.get("/robots.txt").await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.content_type.starts_with("text/plain"));
    let page = app.get("/setup").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.content_type.starts_with("text/html"), "{page:?}");
    let missing = app.get("/no-such-page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.content_type.starts_with("text/html"), "UI addresses get an HTML error page: {missing:?}");
    assert!(!missing.body.to_string().contains("axum") && !missing.body.to_string().contains("panicked"));
    let api = app.get("/api/v1/me").await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    let api_404 = app.get("/api/v1/nothing-here").await;
    assert_eq!(api_404.content_type, "application/problem+json");
    let method = app.send(Method::DELETE, "/healthz", As::Anonymous, None, &[]).await;
    assert_eq!(method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(method.content_type, "application/problem+json", "bare errors get a body");
    let limited = app.get("/api/v1/me").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "the seventh anonymous request");
    for (what, response) in [("page", &page), ("API", &api), ("API 404", &api_404), ("405", &method), ("429", &limited)]
    {
        assert_security_headers(what, response);
    }
    for (what, response) in [("API", &api), ("API 404", &api_404), ("429", &limited)] {
        assert_eq!(
            response.headers.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{what}"
        );
    }
    assert!(api.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none(), "no HSTS in development");

    let production = TestApp::spawn_with(|c| {
        c.env = Environment::Production;
        c.hsts = Some(vulntrack::config::DEFAULT_HSTS.into());
    })
    .await;
    let hsts = production.get("/healthz").await;
    assert_eq!(
        hsts.headers.get(header::STRICT_TRANSPORT_SECURITY).and_then(|v| v.to_str().ok()),
        Some("max-age=63072000; includeSubDomains; preload")
    );
}

fn from(client: &str) -> [(&'static str, &str); 1] {
    [("x-forwarded-for", client)]
}

async fn login_from(app: &TestApp, client: &str, email: &str, password: &str) -> TestResponse {
    app.send(
        Method::POST,
        "/api/v1/auth/login",
        As::Anonymous,
        Some(json!({ "email": email, "password": password })),
        &from(client),
    )
    .await
}

fn header(response: &TestResponse, name: &str) -> String {
    response.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

#[tokio::test]
async fn sign_in_is_limited_per_email_and_per_client() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_login = rule(5, 900);
        c.rate_limit_login_client = rule(8, 900);
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    })
    .await;
    app.setup_admin("Blue Team", ADMIN).await;
    // An address with no account: a real one would also lock after five.
    let target = "victim@example.com";
    for attempt in 1..=5u32 {
        let response = login_from(&app, "198.51.100.1", target, "Wrong#Password1").await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert_eq!(header(&response, "x-ratelimit-limit"), "5");
        assert_eq!(header(&response, "x-ratelimit-remaining"), (5 - attempt).to_string());
        assert!(!header(&response, "x-ratelimit-reset").is_empty());
    }
    let sixth = login_from(&app, "198.51.100.1", target, PASSWORD).await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(sixth.content_type, "application/problem+json");
    let retry: u64 = header(&sixth, "retry-after").parse().expect("Retry-After seconds");
    assert!(retry > 0 && retry <= 900, "{retry}");
    assert_eq!(header(&sixth, "x-ratelimit-remaining"), "0");

    for attempt in 1..=2 {
        let other_email = login_from(&app, "198.51.100.1", &format!("other{attempt}@example.com"), "x").await;
        assert_eq!(other_email.status, StatusCode::UNAUTHORIZED, "another email has its own budget");
    }
    let over_client = login_from(&app, "198.51.100.1", ADMIN, PASSWORD).await;
    assert_eq!(over_client.status, StatusCode::TOO_MANY_REQUESTS, "until the per-client limit (8) is spent");
    let other_client = login_from(&app, "203.0.113.50", ADMIN, PASSWORD).await;
    assert_eq!(other_client.status, StatusCode::OK, "another client is not affected");
}

#[tokio::test]
async fn the_per_account_sign_in_limit_counts_failures_not_successes() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_login = rule(5, 900);
        c.rate_limit_login_client = rule(100, 900);
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    })
    .await;
    app.setup_admin("Blue Team", ADMIN).await;
    for attempt in 1..=8 {
        let response = login_from(&app, "198.51.100.7", ADMIN, PASSWORD).await;
        assert_eq!(response.status, StatusCode::OK, "sign-in {attempt} of a user who knows the password");
    }
    for attempt in 1..=5 {
        let response = login_from(&app, "198.51.100.7", ADMIN, "Wrong#Password1").await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "failure {attempt}");
    }
    let after_failures = login_from(&app, "198.51.100.7", ADMIN, PASSWORD).await;
    assert_eq!(after_failures.status, StatusCode::TOO_MANY_REQUESTS, "five failures still spend the budget");
}

#[tokio::test]
async fn api_and_creation_limits_apply_per_user() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_api = rule(8, 60);
        c.rate_limit_create = rule(3, 60);
    })
    .await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    for n in 1..=3 {
        let created = app.post("/api/v1/vulnerabilities", As::Cookie(&admin), sample(&format!("n{n}"))).await;
        assert_eq!(created.status, StatusCode::CREATED);
        assert_eq!(header(&created, "x-ratelimit-limit"), "3", "the creation limit is the narrower one");
    }
    let fourth = app.post("/api/v1/vulnerabilities", As::Cookie(&admin), sample("n4")).await;
    assert_eq!(fourth.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&fourth, "x-ratelimit-limit"), "3");
    let read = app.get_as("/api/v1/me", As::Cookie(&admin)).await;
    assert_eq!(read.status, StatusCode::OK, "reading is still within the API limit");
    assert_eq!(header(&read, "x-ratelimit-limit"), "8");
    let mut last = read;
    for _ in 0..4 {
        last = app.get_as("/api/v1/me", As::Cookie(&admin)).await;
    }
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS, "the API limit counts every request of the user");
    assert!(!header(&last, "retry-after").is_empty());
}

#[tokio::test]
async fn forwarded_for_is_ignored_from_untrusted_peers_and_honoured_from_trusted_proxies() {
    let untrusted = TestApp::spawn_with(|c| c.rate_limit_anon = rule(3, 60)).await;
    let mut statuses = Vec::new();
    for client in ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"] {
        statuses.push(untrusted.send(Method::GET, "/healthz", As::Anonymous, None, &from(client)).await.status);
    }
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "spoofed addresses share the peer's budget");

    let behind_proxy = TestApp::spawn_with(|c| {
        c.rate_limit_anon = rule(3, 60);
        c.trusted_proxies = vec!["127.0.0.0/8".parse().expect("net")];
    })
    .await;
    for client in ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"] {
        let response = behind_proxy.send(Method::GET, "/healthz", As::Anonymous, None, &from(client)).await;
        assert_eq!(response.status, StatusCode::OK, "each forwarded client has its own budget");
    }
    let chain = [("x-forwarded-for", "9.9.9.9, 6.6.6.6")];
    for _ in 0..3 {
        behind_proxy.send(Method::GET, "/healthz", As::Anonymous, None, &chain).await;
    }
    let spoofed_left = [("x-forwarded-for", "7.7.7.7, 6.6.6.6")];
    let response = behind_proxy.send(Method::GET, "/healthz", As::Anonymous, None, &spoofed_left).await;
    assert_eq!(response.status, StatusCode::TOO_MANY_REQUESTS, "the right-most untrusted hop is the client");
}

#[tokio::test]
async fn oversized_bodies_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let mut body = sample("Huge");
    body["description"] = json!("x".repeat(2 * 1024 * 1024));
    let response = app.post("/api/v1/vulnerabilities", As::Cookie(&admin), body).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.content_type, "application/problem+json");
    let stats = app.get_as("/api/v1/vulnerabilities/stats", As::Cookie(&admin)).await;
    assert_eq!(stats.body["total"], 0);
}

/// The app's own layer stack around extra routes, for behaviour no real
/// route should have (panicking, hanging).
fn with_app_layers(app: &TestApp, routes: Router<AppState>, timeout: Duration) -> Router {
    let state = AppState::new(app.db.clone(), app.config.clone(), SecretString::from(TEST_SECRET)).expect("state");
    vulntrack::http::middleware::apply(routes.with_state(state.clone()), state, timeout)
}

async fn call(router: &Router, path: &str) -> (StatusCode, String, String) {
    let response =
        router.clone().oneshot(Request::get(path).body(Body::empty()).expect("request")).await.expect("response");
    let status = response.status();
    let content_type =
        response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let body = String::from_utf8_lossy(&response.into_body().collect().await.expect("body").to_bytes()).into_owned();
    (status, content_type, body)
}

async fn boom() -> &'static str {
    panic!("secret internal detail: db password is hunter2")
}

#[tokio::test]
async fn a_panicking_handler_answers_500_without_internals_and_the_server_keeps_serving() {
    let app = TestApp::spawn().await;
    let routes = Router::new().route("/api/boom", get(boom)).route("/api/fine", get(|| async { "fine" }));
    let router = with_app_layers(&app, routes, Duration::from_secs(30));
    let (status, content_type, body) = call(&router, "/api/boom").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(content_type, "application/problem+json");
    assert!(!body.contains("hunter2") && !body.contains("secret"), "{body}");
    assert_eq!(call(&router, "/api/fine").await.0, StatusCode::OK, "still serving");
}

#[tokio::test]
async fn slow_requests_time_out_with_a_problem() {
    let app = TestApp::spawn().await;
    let routes = Router::new().route(
        "/api/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    );
    let router = with_app_layers(&app, routes, Duration::from_millis(100));
    let (status, content_type, _) = call(&router, "/api/slow").await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(content_type, "application/problem+json");
}

#[tokio::test]
async fn two_instances_share_one_redis_limit_and_survive_a_redis_outage() {
    let Some(redis_url) = available(crate::support::redis_url(), Needs::Redis) else { return };
    let target: SocketAddr = {
        let url = url::Url::parse(&redis_url).expect("redis URL");
        let host = url.host_str().unwrap_or("127.0.0.1").replace("localhost", "127.0.0.1");
        format!("{host}:{}", url.port().unwrap_or(6379)).parse().expect("address")
    };
    let proxy = ToggleProxy::start(target).await;
    let proxied = format!("redis://127.0.0.1:{}", proxy.addr.port());
    let app = TestApp::spawn_with(|c| {
        c.redis_url = Some(SecretString::from(proxied));
        c.rate_limit_login = rule(5, 900);
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    })
    .await;
    let other = app.sibling();
    // A client address of this run only, so earlier runs' keys don't count.
    let suffix = rand_suffix();
    let client = format!("2001:db8::{:x}:{:x}", suffix >> 16, suffix & 0xffff);
    let attempt = |router: Router| {
        let client = client.clone();
        async move {
            let request = Request::post("/api/v1/auth/login")
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-forwarded-for", client)
                .body(Body::from(json!({ "email": "nobody@example.com", "password": "x" }).to_string()))
                .expect("request");
            router.oneshot(request).await.expect("response").status()
        }
    };
    let mut statuses = Vec::new();
    for i in 0..6 {
        let router = if i % 2 == 0 { app.router.clone() } else { other.clone() };
        statuses.push(attempt(router).await);
    }
    assert_eq!(&statuses[..5], &[StatusCode::UNAUTHORIZED; 5], "{statuses:?}");
    assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS, "the sixth attempt across both instances is refused");
    assert_eq!(app.get("/readyz").await.body["checks"]["rate_limiter"], "redis");

    proxy.down();
    let during = attempt(app.router.clone()).await;
    assert_eq!(during, StatusCode::UNAUTHORIZED, "with Redis gone each instance serves with its own limits");
    assert_eq!(attempt(other.clone()).await, StatusCode::UNAUTHORIZED);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["checks"]["rate_limiter"], "memory (redis unreachable)");

    proxy.up();
    let restored = eventually(Duration::from_secs(20), async || {
        attempt(app.router.clone()).await == StatusCode::TOO_MANY_REQUESTS
            && app.get("/readyz").await.body["checks"]["rate_limiter"] == "redis"
    })
    .await;
    assert!(restored, "once Redis is back the shared window (already full) applies again");
    let other_restored =
        eventually(Duration::from_secs(20), async || attempt(other.clone()).await == StatusCode::TOO_MANY_REQUESTS)
            .await;
    assert!(other_restored, "on both instances");
}

fn rand_suffix() -> u32 {
    let mut bytes = [0u8; 4];
    for (i, b) in uuid::Uuid::now_v7().as_bytes()[12..].iter().enumerate() {
        bytes[i] = *b;
    }
    u32::from_be_bytes(bytes)
}

/// A TLS ClientHello offering only `minor` (1 = TLS 1.0, 2 = TLS 1.1).
fn legacy_client_hello(minor: u8) -> Vec<u8> {
    let mut hello = vec![0x03, minor];
    hello.extend([0x42; 32]);
    hello.push(0);
    hello.extend([0x00, 0x04, 0xc0, 0x13, 0x00, 0x2f]);
    hello.extend([0x01, 0x00]);
    hello.extend([0x00, 0x00]);
    let mut handshake = vec![0x01, 0x00];
    handshake.extend(u16::try_from(hello.len()).expect("len").to_be_bytes());
    handshake.extend(hello);
    let mut record = vec![0x16, 0x03, minor];
    record.extend(u16::try_from(handshake.len()).expect("len").to_be_bytes());
    record.extend(handshake);
    record
}

#[tokio::test]
async fn https_serves_modern_tls_and_refuses_tls_1_0_and_1_1() {
    use std::io::{Read, Write};

    let app = TestApp::spawn().await;
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
    let dir = tempfile::tempdir().expect("dir");
    let files = vulntrack::config::TlsFiles { cert: dir.path().join("cert.pem"), key: dir.path().join("key.pem") };
    std::fs::write(&files.cert, certified.cert.pem()).expect("write cert");
    std::fs::write(&files.key, certified.signing_key.serialize_pem()).expect("write key");
    let tls = app::tls_config(&files).expect("tls config");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app.sibling();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::serve(listener, router, app::Transport::Tls(tls), async {
        let _ = stopped.await;
    }));

    let cert_der = certified.cert.der().clone();
    let (response, version) = tokio::task::spawn_blocking(move || {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert_der).expect("root");
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        let mut connection = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
        let mut socket = std::net::TcpStream::connect(addr).expect("connect");
        let mut stream = rustls::Stream::new(&mut connection, &mut socket);
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").expect("write");
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        (response, connection.protocol_version())
    })
    .await
    .expect("client");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.to_lowercase().contains("content-security-policy:"), "{response}");
    assert!(
        matches!(version, Some(rustls::ProtocolVersion::TLSv1_3 | rustls::ProtocolVersion::TLSv1_2)),
        "{version:?}"
    );

    for minor in [1u8, 2] {
        let reply = tokio::task::spawn_blocking(move || {
            let mut socket = std::net::TcpStream::connect(addr).expect("connect");
            socket.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
            socket.write_all(&legacy_client_hello(minor)).expect("hello");
            let mut reply = Vec::new();
            let _ = socket.read_to_end(&mut reply);
            reply
        })
        .await
        .expect("legacy client");
        assert_ne!(reply.first(), Some(&0x16), "TLS 1.{} must not get a ServerHello: {reply:?}", minor - 1);
        if let Some(&kind) = reply.first() {
            assert_eq!(kind, 0x15, "an alert, if anything: {reply:?}");
        }
    }
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
}

#[tokio::test]
async fn oversized_request_heads_are_refused_by_the_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::serve(listener, app.sibling(), app::Transport::Plain, async {
        let _ = stopped.await;
    }));
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let huge = "a".repeat(100 * 1024);
    let request = format!("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Filler: {huge}\r\n\r\n");
    let _ = socket.write_all(request.as_bytes()).await;
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut reply)).await;
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.is_empty() || reply.starts_with("HTTP/1.1 431"), "a 100 KiB header is refused: {reply}");

    let mut normal = tokio::net::TcpStream::connect(addr).await.expect("connect");
    normal.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.expect("write");
    let mut ok = String::new();
    normal.read_to_string(&mut ok).await.expect("read");
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
}

/// The value of a counter series in the exposition text (0 if absent).
fn sample_value(text: &str, series_prefix: &str) -> f64 {
    text.lines()
        .filter(|line| line.starts_with(series_prefix))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn metrics_expose_the_counters_and_move_with_traffic() {
    const TOKEN: &str = "metrics-token-for-tests-0123456789";
    let app = TestApp::spawn_with(|c| {
        c.metrics_token = Some(SecretString::from(TOKEN));
        c.rate_limit_login = rule(2, 900);
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    })
    .await;

    // Every test of this binary reports to the one global recorder, so
    // counts read there would include other tests' traffic. This test's
    // traffic goes to a recorder of its own, set for this thread: the
    // single-threaded runtime of #[tokio::test] runs the whole router here,
    // so every count below is exact (and a count that went elsewhere fails).
    let own = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let counted = own.handle();
    {
        let _this_test_only = metrics::set_default_local_recorder(&own);
        assert_eq!(app.get("/metrics").await.status, StatusCode::UNAUTHORIZED, "the token is required");
        let wrong = app.get_as("/metrics", As::Bearer("wrong-token-wrong-token")).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

        app.setup_admin("Blue Team", ADMIN).await;
        app.login(ADMIN, PASSWORD).await;
        let client = [("x-forwarded-for", "192.0.2.77")];
        for _ in 0..3 {
            app.send(
                Method::POST,
                "/api/v1/auth/login",
                As::Anonymous,
                Some(json!({ "email": "x@example.com", "password": "x" })),
                &client,
            )
            .await;
        }
        // A scrape samples the gauges (into this recorder, too).
        assert_eq!(app.get_as("/metrics", As::Bearer(TOKEN)).await.status, StatusCode::OK);
    }
    let text = counted.render();
    let login = r#"method="POST",route="/api/v1/auth/login""#;
    for (series, expected) in [
        (format!("vulntrack_http_requests_total{{{login},status=\"200\"}}"), 1.0),
        (format!("vulntrack_http_requests_total{{{login},status=\"401\"}}"), 2.0),
        (format!("vulntrack_http_requests_total{{{login},status=\"429\"}}"), 1.0),
        (format!("vulntrack_http_request_duration_seconds_count{{{login}}}"), 4.0),
        (r#"vulntrack_http_requests_total{method="GET",route="/metrics",status="401"}"#.into(), 2.0),
        (r#"vulntrack_http_requests_total{method="GET",route="/metrics",status="200"}"#.into(), 1.0),
        (r#"vulntrack_logins_total{outcome="success"}"#.into(), 1.0),
        (r#"vulntrack_logins_total{outcome="failure"}"#.into(), 2.0),
        ("vulntrack_rate_limited_total".into(), 1.0),
        (r#"vulntrack_audit_rows_total{action="LOGIN"}"#.into(), 1.0),
        (r#"vulntrack_audit_rows_total{action="LOGIN_FAILED"}"#.into(), 2.0),
        ("vulntrack_rate_limiter_degraded".into(), 0.0),
    ] {
        assert_eq!(sample_value(&text, &series), expected, "{series}:\n{text}");
    }
    for gauge in
        ["vulntrack_db_pool_connections ", "vulntrack_db_pool_idle_connections ", "vulntrack_rate_limiter_degraded "]
    {
        assert!(text.lines().any(|line| line.starts_with(gauge)), "{gauge}missing:\n{text}");
    }
    assert!(sample_value(&text, "vulntrack_db_pool_connections ") >= 1.0, "{text}");

    // The endpoints render the process-wide registry the middleware reports
    // to: a route only this test has, requested three times, shows exactly
    // three requests on both the guarded route and the dedicated listener.
    let route = format!("/probe/{}", uuid::Uuid::now_v7().simple());
    let probe = Router::new()
        .route(&route, get(|| async { "probed" }))
        .layer(axum::middleware::from_fn_with_state(app.state.clone(), vulntrack::metrics::track))
        .with_state(app.state.clone());
    for _ in 0..3 {
        assert_eq!(call(&probe, &route).await.0, StatusCode::OK);
    }
    let series = format!("vulntrack_http_requests_total{{method=\"GET\",route=\"{route}\",status=\"200\"}}");
    let scraped = app.get_as("/metrics", As::Bearer(TOKEN)).await.body.as_str().expect("text").to_string();
    assert_eq!(sample_value(&scraped, &series), 3.0, "{series} on the main listener:\n{scraped}");
    assert!(scraped.lines().any(|line| line.starts_with("vulntrack_rate_limiter_degraded ")), "gauges sampled");
    let dedicated = app::metrics_router(app.state.clone());
    let (status, _, body) = call(&dedicated, "/metrics").await;
    assert_eq!(status, StatusCode::OK, "the dedicated listener needs no token");
    assert_eq!(sample_value(&body, &series), 3.0, "{series} on the dedicated listener:\n{body}");

    let off = TestApp::spawn().await;
    assert_eq!(off.get("/metrics").await.status, StatusCode::NOT_FOUND, "off unless configured");
}

/// A redis-server speaking only TLS, with a CA of its own, for one test.
struct TlsRedis {
    child: std::process::Child,
    port: u16,
    ca: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsRedis {
    fn start() -> Option<Self> {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
        let dir = tempfile::tempdir().expect("dir");
        let ca_key = KeyPair::generate().expect("key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.distinguished_name.push(DnType::CommonName, "VulnTrack test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA");
        let ca = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().expect("key");
        let mut server = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()]).expect("params");
        server.distinguished_name.push(DnType::CommonName, "localhost");
        let server_cert = server.signed_by(&server_key, &ca).expect("server cert");
        let write = |name: &str, pem: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).expect("write pem");
            path
        };
        let ca_path = write("ca.pem", ca_cert.pem());
        let cert = write("server.pem", server_cert.pem());
        let key = write("server.key", server_key.serialize_pem());
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", "0", "--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--tls-cert-file")
            .arg(&cert)
            .arg("--tls-key-file")
            .arg(&key)
            .arg("--tls-ca-cert-file")
            .arg(&ca_path)
            .arg("--dir")
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok()?;
        Some(Self { child, port, ca: ca_path, _dir: dir })
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn limits_are_shared_through_a_redis_spoken_to_over_tls() {
    // It starts its own TLS redis-server, so it needs no shared Redis; under
    // CI a missing redis-server is a failure, never a pass.
    let server = Needs::Tool("redis-server built with TLS (.ci/run installs redis-server)");
    let Some(redis) = available(TlsRedis::start(), server) else { return };
    let listening = eventually(Duration::from_secs(10), async || {
        tokio::net::TcpStream::connect(("127.0.0.1", redis.port)).await.is_ok()
    })
    .await;
    assert!(listening, "redis-server did not start with TLS");
    let url = format!("rediss://127.0.0.1:{}/", redis.port);
    let app = TestApp::spawn_with(|c| {
        c.redis_url = Some(SecretString::from(url.clone()));
        c.redis_ca_file = Some(redis.ca.clone());
        c.rate_limit_login = rule(3, 900);
    })
    .await;
    let other = app.sibling();
    let attempt = |router: Router| async move {
        let request = Request::post("/api/v1/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({ "email": "tls@example.com", "password": "x" }).to_string()))
            .expect("request");
        router.oneshot(request).await.expect("response").status()
    };
    let statuses = [
        attempt(app.router.clone()).await,
        attempt(other.clone()).await,
        attempt(app.router.clone()).await,
        attempt(other.clone()).await,
    ];
    assert_eq!(
        statuses,
        [StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS]
    );
    assert_eq!(app.get("/readyz").await.body["checks"]["rate_limiter"], "redis", "the limiter speaks TLS to Redis");

    // Without trusting the CA, the certificate is refused: no silent
    // plaintext or unverified fallback, the instance keeps local limits.
    let untrusting = TestApp::spawn_with(|c| {
        c.redis_url = Some(SecretString::from(url.clone()));
        c.rate_limit_login = rule(3, 900);
    })
    .await;
    assert_eq!(attempt(untrusting.router.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(untrusting.get("/readyz").await.body["checks"]["rate_limiter"], "memory (redis unreachable)");
}

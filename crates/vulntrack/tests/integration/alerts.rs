//! Security alerts: each rule fires once when its threshold is crossed and
//! not again in the same window, is shown to the team's ADMINs, and reaches
//! the webhook.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    http::{Method, StatusCode},
    routing::post,
};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use vulntrack::alerts;

use crate::{
    support::{As, Needs, PASSWORD, TestApp, TestDb, eventually, proxy::ToggleProxy, skip_unless},
    vulnerabilities::sample,
};

const ADMIN: &str = "admin@example.com";

/// A local webhook receiver that keeps every JSON body it is sent.
async fn webhook_receiver() -> (url::Url, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let router = Router::new().route(
        "/hook",
        post(move |Json(body): Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().expect("sink").push(body);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url::Url::parse(&format!("http://{addr}/hook")).expect("url"), received)
}

fn received_rule(received: &Arc<Mutex<Vec<Value>>>, rule: &str) -> usize {
    received.lock().expect("received").iter().filter(|alert| alert["rule"] == rule).count()
}

async fn stored_rule(app: &TestApp, cookie: &str, rule: &str) -> usize {
    let alerts = app.get_as("/api/v1/security/alerts", As::Cookie(cookie)).await;
    assert_eq!(alerts.status, StatusCode::OK, "{alerts:?}");
    alerts.body["items"].as_array().expect("items").iter().filter(|a| a["rule"] == rule).count()
}

/// Stored instance-wide alerts of `rule` (the operator's, not any team's).
async fn stored_instance_rule(app: &TestApp, rule: &str) -> usize {
    vulntrack_store::operator::instance_alerts(app.db.conn(), 500)
        .await
        .expect("list")
        .iter()
        .filter(|a| a.rule == rule)
        .count()
}

async fn app_with_webhook() -> (TestApp, String, Arc<Mutex<Vec<Value>>>) {
    let (url, received) = webhook_receiver().await;
    let app = TestApp::spawn_with(|c| {
        c.alert_webhook_url = Some(url);
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    })
    .await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    (app, admin, received)
}

async fn fail_login(app: &TestApp, client: &str, email: &str) {
    let response = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            As::Anonymous,
            Some(json!({ "email": email, "password": "Wrong#Pass0001" })),
            &[("x-forwarded-for", client)],
        )
        .await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
}

async fn webhook_gets(received: &Arc<Mutex<Vec<Value>>>, rule: &str) -> bool {
    eventually(Duration::from_secs(10), async || received_rule(received, rule) >= 1).await
}

#[tokio::test]
async fn failed_logins_for_one_account_alert_once_per_window() {
    let (app, admin, received) = app_with_webhook().await;
    let member = "member@example.com";
    app.add_member(&admin, member, "ANALYST").await;
    for _ in 0..4 {
        fail_login(&app, "198.51.100.10", member).await;
    }
    assert_eq!(stored_rule(&app, &admin, alerts::FAILED_LOGINS_ACCOUNT).await, 0, "four is below the threshold");
    for _ in 0..3 {
        fail_login(&app, "198.51.100.10", member).await;
    }
    assert_eq!(stored_rule(&app, &admin, alerts::FAILED_LOGINS_ACCOUNT).await, 1, "once, however many more");
    assert!(webhook_gets(&received, alerts::FAILED_LOGINS_ACCOUNT).await, "the webhook receives it");
    let alert = received
        .lock()
        .expect("r")
        .iter()
        .find(|a| a["rule"] == alerts::FAILED_LOGINS_ACCOUNT)
        .cloned()
        .expect("alert");
    assert_eq!(alert["subject"], member);
    assert!(alert["evidence"]["failed_logins"].as_u64().expect("count") >= 5);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(received_rule(&received, alerts::FAILED_LOGINS_ACCOUNT), 1, "sent once");
}

#[tokio::test]
async fn password_spraying_from_one_client_alerts_once() {
    let (app, _admin, received) = app_with_webhook().await;
    for n in 0..19 {
        fail_login(&app, "203.0.113.66", &format!("guess{n}@example.com")).await;
    }
    assert_eq!(stored_instance_rule(&app, alerts::PASSWORD_SPRAYING).await, 0);
    for n in 19..25 {
        fail_login(&app, "203.0.113.66", &format!("guess{n}@example.com")).await;
    }
    assert_eq!(
        stored_instance_rule(&app, alerts::PASSWORD_SPRAYING).await,
        1,
        "instance-wide: stored for the operator"
    );
    assert!(webhook_gets(&received, alerts::PASSWORD_SPRAYING).await);
}

#[tokio::test]
async fn repeated_permission_denials_alert_once() {
    let (app, admin, received) = app_with_webhook().await;
    let viewer = app.add_member(&admin, "viewer@example.com", "VIEWER").await;
    for n in 0..2 {
        let denied = app.post("/api/v1/vulnerabilities", As::Cookie(&viewer), sample(&format!("try {n}"))).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(stored_rule(&app, &admin, alerts::PRIVILEGE_ESCALATION).await, 0);
    for _ in 0..3 {
        app.get_as("/api/v1/users", As::Cookie(&viewer)).await;
    }
    assert_eq!(stored_rule(&app, &admin, alerts::PRIVILEGE_ESCALATION).await, 1);
    assert!(webhook_gets(&received, alerts::PRIVILEGE_ESCALATION).await);
}

#[tokio::test]
async fn a_burst_of_invalid_api_tokens_alerts_once() {
    let (app, _admin, received) = app_with_webhook().await;
    let client = [("x-forwarded-for", "192.0.2.200")];
    for n in 0..9 {
        let response = app.send(Method::GET, "/api/v1/me", As::Bearer(&format!("vt_guess{n}")), None, &client).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(stored_instance_rule(&app, alerts::INVALID_API_TOKENS).await, 0);
    for n in 9..15 {
        app.send(Method::GET, "/api/v1/me", As::Bearer(&format!("vt_guess{n}")), None, &client).await;
    }
    assert_eq!(stored_instance_rule(&app, alerts::INVALID_API_TOKENS).await, 1);
    assert!(webhook_gets(&received, alerts::INVALID_API_TOKENS).await);
}

#[tokio::test]
async fn a_high_server_error_rate_alerts_once() {
    let (app, admin, received) = app_with_webhook().await;
    let statement: &[&str] = match app.test_db.backend() {
        vulntrack_store::Backend::Sqlite => {
            &["CREATE TRIGGER inject_failure BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'injected'); END"]
        }
        vulntrack_store::Backend::Postgres => &[
            "CREATE FUNCTION inject_failure() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$",
            "CREATE TRIGGER inject_failure BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION inject_failure()",
        ],
    };
    for sql in statement {
        app.db.conn().execute_unprepared(sql).await.expect("inject");
    }
    for n in 0..25 {
        let failed = app.post("/api/v1/vulnerabilities", As::Cookie(&admin), sample(&format!("n{n}"))).await;
        assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
    assert_eq!(stored_instance_rule(&app, alerts::HIGH_ERROR_RATE).await, 1, "once per five-minute window");
    assert!(webhook_gets(&received, alerts::HIGH_ERROR_RATE).await);
}

#[tokio::test]
async fn an_unreachable_database_alerts_when_it_goes_and_is_recorded_when_it_returns() {
    let test_db = TestDb::fresh().await;
    if skip_unless(test_db.backend() == vulntrack_store::Backend::Postgres, Needs::Postgres) {
        return;
    }
    test_db.migrated().await.close().await.expect("close");
    let target: SocketAddr = {
        let url = url::Url::parse(test_db.url.expose()).expect("url");
        format!("{}:{}", url.host_str().expect("host").replace("localhost", "127.0.0.1"), url.port().unwrap_or(5432))
            .parse()
            .expect("addr")
    };
    let proxy = ToggleProxy::start(target).await;
    let mut proxied = url::Url::parse(test_db.url.expose()).expect("url");
    proxied.set_host(Some("127.0.0.1")).expect("host");
    proxied.set_port(Some(proxy.addr.port())).expect("port");
    let url = vulntrack_store::DatabaseUrl::parse(proxied.as_str()).expect("url");
    let settings = vulntrack_store::PoolSettings { acquire_timeout: Duration::from_secs(1), ..Default::default() };
    let db = vulntrack_store::Database::connect(&url, settings).await.expect("connect");
    let (hook, received) = webhook_receiver().await;
    let mut config = crate::support::test_config(url, test_db.dir.path().to_path_buf());
    config.alert_webhook_url = Some(hook);
    let state =
        vulntrack::AppState::new(db, config, secrecy::SecretString::from(crate::support::TEST_SECRET)).expect("state");

    alerts::check_database(&state).await;
    assert_eq!(received_rule(&received, alerts::DATABASE_UNREACHABLE), 0, "healthy: nothing to say");
    proxy.down();
    alerts::check_database(&state).await;
    alerts::check_database(&state).await;
    assert!(webhook_gets(&received, alerts::DATABASE_UNREACHABLE).await, "announced while the database is down");
    proxy.up();
    let back = eventually(Duration::from_secs(15), async || {
        alerts::check_database(&state).await;
        let scope_rows = state
            .db()
            .conn()
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT COUNT(*) FROM security_alerts WHERE rule = 'DATABASE_UNREACHABLE'",
            ))
            .await;
        matches!(scope_rows, Ok(Some(row)) if row.try_get_by_index::<i64>(0).unwrap_or(0) == 1)
    })
    .await;
    assert!(back, "stored once the database answers again");
    assert_eq!(received_rule(&received, alerts::DATABASE_UNREACHABLE), 1, "one announcement per outage");
}

#[tokio::test]
async fn alerts_are_for_admins_of_the_team_and_can_be_acknowledged() {
    let (app, admin, _) = app_with_webhook().await;
    let analyst = app.add_member(&admin, "analyst@example.com", "ANALYST").await;
    let viewer = app.add_member(&admin, "viewer@example.com", "VIEWER").await;
    for _ in 0..3 {
        app.get_as("/api/v1/users", As::Cookie(&viewer)).await;
    }
    for cookie in [&analyst, &viewer] {
        assert_eq!(app.get_as("/api/v1/security/alerts", As::Cookie(cookie)).await.status, StatusCode::FORBIDDEN);
    }
    let listed = app.get_as("/api/v1/security/alerts", As::Cookie(&admin)).await;
    let id = listed.body["items"][0]["id"].as_str().expect("an alert").to_string();
    let ack = app.send(Method::POST, &format!("/api/v1/security/alerts/{id}/ack"), As::Cookie(&admin), None, &[]).await;
    assert_eq!(ack.status, StatusCode::NO_CONTENT);
    let after = app.get_as("/api/v1/security/alerts", As::Cookie(&admin)).await;
    assert!(after.body["items"][0]["acknowledged_at"].is_string());
    let denied =
        app.send(Method::POST, &format!("/api/v1/security/alerts/{id}/ack"), As::Cookie(&analyst), None, &[]).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    // Another team's admin sees none of Blue Team's alerts.
    let red = crate::support::other_team_admin(&app, "red@example.com").await;
    let red_view = app.get_as("/api/v1/security/alerts", As::Cookie(&red)).await;
    assert!(!red_view.body.to_string().contains(&id), "team alerts stay in their team: {}", red_view.body);
    let foreign_ack =
        app.send(Method::POST, &format!("/api/v1/security/alerts/{id}/ack"), As::Cookie(&red), None, &[]).await;
    assert_eq!(foreign_ack.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_outage_is_announced_at_its_first_failed_query_and_alerts_made_during_it_are_stored_after() {
    let (hook, received) = webhook_receiver().await;
    let Some((app, proxy)) =
        crate::readiness::app_behind_a_switchable_proxy(Duration::from_secs(1), |c| c.alert_webhook_url = Some(hook))
            .await
    else {
        return;
    };
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;

    proxy.down();
    let first_failure = chrono::Utc::now();
    let refused = app.get_as("/api/v1/vulnerabilities", As::Cookie(&admin)).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    // No poll ran: the failed request itself announced the outage.
    assert!(webhook_gets(&received, alerts::DATABASE_UNREACHABLE).await, "announced at the first failed query");

    // An alert raised while nothing can be stored is announced at once…
    let new = vulntrack_store::security_alerts::NewAlert {
        team: vulntrack_store::audit::Tenancy::Instance,
        rule: alerts::HIGH_ERROR_RATE,
        severity: "HIGH",
        subject: "http",
        window_start: alerts::window_start(chrono::Utc::now(), Duration::from_secs(300)),
        evidence: json!({ "during": "outage" }),
    };
    alerts::raise(&app.state, new).await;
    assert!(webhook_gets(&received, alerts::HIGH_ERROR_RATE).await, "announced though it cannot be stored");
    assert_eq!(alerts::pending_count(&app.state), 1, "kept until storage returns");

    // …and stored, with the outage itself, once the database answers again.
    proxy.up();
    let stored = eventually(Duration::from_secs(15), async || {
        alerts::check_database(&app.state).await;
        alerts::pending_count(&app.state) == 0
    })
    .await;
    assert!(stored, "the kept alert was stored");
    assert_eq!(stored_instance_rule(&app, alerts::HIGH_ERROR_RATE).await, 1);
    let outage = vulntrack_store::operator::instance_alerts(app.db.conn(), 100)
        .await
        .expect("list")
        .into_iter()
        .find(|a| a.rule == alerts::DATABASE_UNREACHABLE)
        .expect("the outage alert is stored");
    let down_since: chrono::DateTime<chrono::Utc> =
        outage.evidence["down_since"].as_str().expect("down_since").parse().expect("time");
    assert!(
        (down_since - first_failure).num_seconds().abs() <= 2,
        "the outage window starts at the first failed query ({first_failure}), not at a later poll: {down_since}"
    );
    assert_eq!(received_rule(&received, alerts::DATABASE_UNREACHABLE), 1, "one announcement per outage");
}

//! What leaves the product: webhook calls and mail, through the outbox.
//! Each is written with the change that causes it and sent by a worker
//! (called here with the time moved, not waited for), signed, retried,
//! logged, and taken by one worker only.

use std::time::Duration;

use axum::http::StatusCode;
use chrono::Utc;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::{
    support::{
        As, PASSWORD, TestApp,
        sinks::{SmtpSink, WebhookReceiver},
    },
    vulnerabilities::{create, sample},
};

const ADMIN: &str = "admin@example.com";

async fn team(app: &TestApp) -> (String, String) {
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, "grace@example.com", "ANALYST").await;
    (admin, analyst)
}

fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A webhook is an ADMIN's to manage; it may not point inside the network
/// unless the operator allows it; its calls carry an HMAC-SHA256 signature
/// of the body under its secret, are retried after a 500 with the same
/// delivery id, and each attempt is logged with the answer. A refused
/// change sends nothing.
#[tokio::test]
async fn webhooks_are_signed_retried_after_a_500_logged_and_kept_out_of_the_network() {
    install_crypto();
    let receiver = WebhookReceiver::start().await;
    let inside = TestApp::spawn().await;
    let (admin, _) = team(&inside).await;
    for (url, code) in [
        (receiver.url("/hook"), "not_allowed"),
        ("http://localhost:9/hook".to_owned(), "not_allowed"),
        ("http://169.254.169.254/latest/meta-data".to_owned(), "not_allowed"),
        ("ftp://example.com/hook".to_owned(), "invalid"),
        ("http://user:pass@example.com/hook".to_owned(), "invalid"),
    ] {
        let refused = inside
            .post("/api/v1/webhooks", As::Cookie(&admin), json!({ "url": url, "events": ["vulnerability.created"] }))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {refused:?}");
        assert_eq!(refused.body["errors"][0]["code"], code, "{url}: {refused:?}");
    }

    let app = TestApp::spawn_with(|config| config.settings.webhook_allow_private = true).await;
    let (admin, analyst) = team(&app).await;
    let bad = app
        .post("/api/v1/webhooks", As::Cookie(&admin), json!({ "url": receiver.url("/hook"), "events": ["everything"] }))
        .await;
    assert_eq!(bad.body["errors"][0]["field"], "events[0]", "{bad:?}");
    let body =
        json!({ "url": receiver.url("/hook"), "events": ["vulnerability.created", "vulnerability.status_changed"] });
    assert_eq!(app.post("/api/v1/webhooks", As::Cookie(&analyst), body.clone()).await.status, StatusCode::FORBIDDEN);
    let created = app.post("/api/v1/webhooks", As::Cookie(&admin), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let secret = created.body["secret"].as_str().expect("the secret, once").to_owned();
    let hook = created.body["id"].as_str().expect("id").to_owned();
    let listed = app.get_as("/api/v1/webhooks", As::Cookie(&admin)).await;
    assert!(listed.body["items"][0].get("secret").is_none(), "the secret is shown once: {listed:?}");
    let red = crate::support::other_team_admin(&app, "red@example.com").await;
    assert_eq!(app.get_as("/api/v1/webhooks", As::Cookie(&red)).await.body["items"], json!([]));
    let foreign = app.delete(&format!("/api/v1/webhooks/{hook}"), As::Cookie(&red)).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    // A refused change queues nothing; a created record queues one call.
    let waiting = || async { vulntrack_store::outbox::waiting(app.db.conn()).await.expect("count") };
    let refused = app.post("/api/v1/vulnerabilities", As::Cookie(&analyst), json!({ "title": "" })).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(waiting().await, 0, "nothing for a change that did not happen");
    let record = create(&app, &analyst, sample("Exposed admin console")).await;
    assert_eq!(waiting().await, 1);

    // First attempt: the receiver answers 500; the call waits 30 s.
    receiver.answer(&[500]);
    let now = Utc::now();
    let first = vulntrack::delivery::deliver_due(&app.state, "node-a", now).await.expect("pass");
    assert_eq!((first.delivered, first.retried), (0, 1));
    let again = vulntrack::delivery::deliver_due(&app.state, "node-a", now).await.expect("pass");
    assert_eq!(again.delivered + again.retried, 0, "not before its time");
    let second = vulntrack::delivery::deliver_due(&app.state, "node-b", now + chrono::Duration::seconds(31)).await;
    assert_eq!(second.expect("pass").delivered, 1);
    assert_eq!(waiting().await, 0);

    let calls = receiver.received();
    assert_eq!(calls.len(), 2, "one failed attempt and one delivered");
    let header = |call: &crate::support::sinks::ReceivedCall, name: &str| {
        call.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    assert_eq!(header(&calls[0], "x-vulntrack-delivery"), header(&calls[1], "x-vulntrack-delivery"), "same id");
    assert_eq!(header(&calls[1], "x-vulntrack-event"), "vulnerability.created");
    for call in &calls {
        // The receiver's own check: HMAC-SHA256 of the raw body under the secret.
        use hmac::{KeyInit, Mac};
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(&call.body);
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(header(call, "x-vulntrack-signature-256"), expected, "signed with the secret");
    }
    let sent: Value = serde_json::from_slice(&calls[1].body).expect("JSON");
    assert_eq!((&sent["event"], &sent["data"]["key"]), (&json!("vulnerability.created"), &record["key"]));

    let log = app.get_as(&format!("/api/v1/webhooks/{hook}/deliveries"), As::Cookie(&admin)).await;
    let attempts: Vec<(Value, Value)> = log.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| (d["attempt"].clone(), d["status_code"].clone()))
        .collect();
    assert_eq!(attempts, vec![(json!(2), json!(200)), (json!(1), json!(500))], "{log:?}");

    // Events it did not ask for are not sent; deleting it ends the calls.
    let path = format!("/api/v1/vulnerabilities/{}", record["id"].as_str().expect("id"));
    app.patch(&path, As::Cookie(&analyst), json!({ "title": "Exposed admin console on the gateway" })).await;
    assert_eq!(waiting().await, 0, "vulnerability.updated was not asked for");
    app.patch(&path, As::Cookie(&analyst), json!({ "status": "IN_PROGRESS" })).await;
    assert_eq!(waiting().await, 1, "vulnerability.status_changed was");
    assert_eq!(
        app.delete(&format!("/api/v1/webhooks/{hook}"), As::Cookie(&admin)).await.status,
        StatusCode::NO_CONTENT
    );
    let gone = vulntrack::delivery::deliver_due(&app.state, "node-a", Utc::now()).await.expect("pass");
    assert_eq!(gone.given_up, 1, "a call to a deleted webhook is dropped, not retried");
    let audit = app.get_as("/api/v1/audit-logs?action=WEBHOOK_CREATED", As::Cookie(&admin)).await;
    assert_eq!(audit.body["items"].as_array().map(Vec::len), Some(1));
}

/// Mail as each person chose: an assignment and a mention are mailed by
/// default (the mention names the member by email or name), a kind turned
/// off sends nothing, and a daily digest lists what is unread.
#[tokio::test]
async fn mail_follows_each_persons_choices_with_mentions_and_a_daily_digest() {
    install_crypto();
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = TestApp::spawn_with(|config| config.smtp_url = Some(SecretString::from(url))).await;
    let (admin, analyst) = team(&app).await;
    let grace = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].clone();
    let named = app.patch("/api/v1/me", As::Cookie(&analyst), json!({ "name": "Grace Hopper" })).await;
    assert_eq!(named.status, StatusCode::OK, "{named:?}");
    let deliver = || async { vulntrack::delivery::deliver_due(&app.state, "node-a", Utc::now()).await.expect("pass") };

    let mut assigned = sample("Exposed admin console");
    assigned["assignee_id"] = grace.clone();
    let record = create(&app, &admin, assigned).await;
    assert_eq!(deliver().await.delivered, 1);
    let mails = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails[0].to, vec!["grace@example.com".to_owned()]);
    assert!(mails[0].subject().contains("assigned you VT-1"), "{:?}", mails[0].subject());
    assert!(mails[0].data.contains(&format!("/vulnerabilities/{}", record["id"].as_str().expect("id"))), "a link");

    // A mention, by first name: mailed; the mention is a link on the page.
    let path = format!("/api/v1/vulnerabilities/{}/comments", record["id"].as_str().expect("id"));
    let said = app.post(&path, As::Cookie(&admin), json!({ "body": "@Grace can you look at the gateway?" })).await;
    assert_eq!(said.status, StatusCode::CREATED, "{said:?}");
    deliver().await;
    let mails = sink.wait_for(2, Duration::from_secs(5)).await;
    assert!(mails[1].subject().contains("mentioned you on VT-1"), "{:?}", mails[1].subject());
    let kinds = app.get_as("/api/v1/notifications", As::Cookie(&analyst)).await.body;
    let kinds: Vec<&str> = kinds["items"].as_array().into_iter().flatten().filter_map(|n| n["kind"].as_str()).collect();
    assert!(kinds.contains(&"MENTIONED") && !kinds.contains(&"COMMENTED"), "told once: {kinds:?}");
    let page = crate::web::page(&app, "/vulnerabilities/VT-1", &admin).await;
    assert!(crate::web::html(&page).contains(">@Grace</a>"), "the mention is a link");

    // Turned off: no notification, no mail. Bad choices are named.
    let prefs = app.get_as("/api/v1/me/notification-preferences", As::Cookie(&analyst)).await;
    assert_eq!((&prefs.body["kinds"]["ASSIGNED"], &prefs.body["digest"]), (&json!("email"), &json!(false)));
    let bad = app
        .patch(
            "/api/v1/me/notification-preferences",
            As::Cookie(&analyst),
            json!({ "kinds": { "ASSIGNED": "pigeon", "NOPE": "off" } }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        bad.body["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, vec!["kinds.ASSIGNED", "kinds.NOPE"]);
    let off = app
        .patch(
            "/api/v1/me/notification-preferences",
            As::Cookie(&analyst),
            json!({ "kinds": { "ASSIGNED": "off", "COMMENTED": "in_app" }, "digest": true }),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{off:?}");
    let mut second = sample("Outdated TLS on the VPN");
    second["assignee_id"] = grace.clone();
    create(&app, &admin, second).await;
    assert_eq!(deliver().await.delivered, 0, "nothing to send");
    let unread = app.get_as("/api/v1/notifications", As::Cookie(&analyst)).await.body["items"].as_array().map(Vec::len);
    assert_eq!(unread, Some(2), "no notification for the assignment either");

    // The digest: queued by the daily job, listing the unread ones.
    let tomorrow = Utc::now() + chrono::Duration::days(1);
    let ran = vulntrack::jobs::run_due(&app.state, "node-a", tomorrow).await.expect("jobs");
    assert!(ran.contains(&vulntrack::jobs::Job::Digest), "{ran:?}");
    assert_eq!(vulntrack::delivery::deliver_due(&app.state, "node-a", tomorrow).await.expect("pass").delivered, 1);
    let mails = sink.wait_for(3, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 3);
    assert!(mails[2].subject().contains("2 unread notifications"), "{:?}", mails[2].subject());
    assert!(mails[2].data.contains("assigned you VT-1") && mails[2].data.contains("mentioned you on VT-1"));
    // Not again the same day.
    vulntrack::jobs::run_due(&app.state, "node-a", tomorrow + chrono::Duration::hours(2)).await.expect("jobs");
    assert_eq!(vulntrack::delivery::deliver_due(&app.state, "node-a", tomorrow).await.expect("pass").delivered, 0);
}

/// Two workers asking at the same moment take disjoint messages: every
/// one is sent once (in one process, on either backend).
#[tokio::test]
async fn two_workers_send_each_message_once() {
    install_crypto();
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = TestApp::spawn_with(|config| config.smtp_url = Some(SecretString::from(url))).await;
    let (admin, analyst) = team(&app).await;
    let grace = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].clone();
    for n in 0..120 {
        let mut record = sample(&format!("Finding {n}"));
        record["assignee_id"] = grace.clone();
        create(&app, &admin, record).await;
    }
    let mut sent = 0;
    for _ in 0..10 {
        let now = Utc::now();
        let (a, b) = tokio::join!(
            vulntrack::delivery::deliver_due(&app.state, "node-a", now),
            vulntrack::delivery::deliver_due(&app.state, "node-b", now)
        );
        sent += a.expect("a").delivered + b.expect("b").delivered;
        if sent >= 120 {
            break;
        }
    }
    assert_eq!(sent, 120);
    let mails = sink.wait_for(120, Duration::from_secs(10)).await;
    let mut subjects: Vec<String> = mails.iter().map(|m| m.subject()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!((mails.len(), subjects.len()), (120, 120), "each once");
}

/// Two server processes on one database (PostgreSQL in the PostgreSQL
/// run), each sending the outbox every second: every queued mail arrives
/// exactly once.
#[tokio::test]
async fn two_server_processes_on_one_database_send_each_mail_once() {
    const MAILS: usize = 150;
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn().await;
    let (admin, analyst) = team(&app).await;
    let grace = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].clone();
    for n in 0..MAILS {
        let mut record = sample(&format!("Finding {n}"));
        record["assignee_id"] = grace.clone();
        create(&app, &admin, record).await;
    }
    assert_eq!(vulntrack_store::outbox::waiting(app.db.conn()).await.expect("count"), MAILS as u64);

    let url = app.test_db.url.expose().to_owned();
    let smtp = sink.url();
    let vars = [
        ("DATABASE_URL", url.as_str()),
        ("VULNTRACK_SECRET", crate::support::TEST_SECRET),
        ("VULNTRACK_SMTP_URL", smtp.as_str()),
        ("VULNTRACK_OUTBOX_INTERVAL", "1s"),
    ];
    let dir = app.test_db.dir.path();
    let (one, two) = tokio::join!(
        crate::cli::Server::start(dir, &["serve"], &vars),
        crate::cli::Server::start(dir, &["serve"], &vars)
    );
    let mails = sink.wait_for(MAILS, Duration::from_secs(60)).await;
    // Time for a duplicate to show, were there one.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mails = if mails.len() == MAILS { sink.received() } else { mails };
    let mut subjects: Vec<String> = mails.iter().map(|m| m.subject()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!((mails.len(), subjects.len()), (MAILS, MAILS), "each mail once");
    assert_eq!(vulntrack_store::outbox::waiting(app.db.conn()).await.expect("count"), 0);
    assert!(one.terminate().await.success());
    assert!(two.terminate().await.success());
}

/// The people on a record hear once when it is due soon and once when it
/// is overdue (time moved by the job runner, not waited for); the team's
/// webhooks hear of the breach; a new due time (another severity) starts
/// over.
#[tokio::test]
async fn sla_notices_come_once_per_due_time_and_breaches_reach_webhooks() {
    install_crypto();
    let receiver = WebhookReceiver::start().await;
    let app = TestApp::spawn_with(|config| config.settings.webhook_allow_private = true).await;
    let (admin, analyst) = team(&app).await;
    let hook = json!({ "url": receiver.url("/sla"), "events": ["sla.breached"] });
    assert_eq!(app.post("/api/v1/webhooks", As::Cookie(&admin), hook).await.status, StatusCode::CREATED);
    let grace = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].clone();
    let mut record = sample("Exposed admin console");
    record["severity"] = json!("CRITICAL");
    record["assignee_id"] = grace;
    let record = create(&app, &admin, record).await;
    let kinds = || async {
        let listed = app.get_as("/api/v1/notifications", As::Cookie(&analyst)).await.body;
        listed["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["kind"].as_str().filter(|k| k.starts_with("SLA_")).map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let start = Utc::now();
    let at = |hours: i64| start + chrono::Duration::hours(hours);
    let state = app.state.clone();
    let run = |when| {
        let state = state.clone();
        async move { vulntrack::jobs::run_due(&state, "node-a", when).await.expect("jobs") }
    };

    run(at(0)).await;
    assert!(kinds().await.is_empty(), "on track: nothing to say");
    run(at(6 * 24)).await; // CRITICAL: due in 7 days, due soon in its last 3
    assert_eq!(kinds().await, vec!["SLA_DUE_SOON"]);
    run(at(6 * 24 + 1)).await;
    assert_eq!(kinds().await, vec!["SLA_DUE_SOON"], "once");
    run(at(8 * 24)).await;
    assert_eq!(kinds().await, vec!["SLA_BREACHED", "SLA_DUE_SOON"]);
    run(at(9 * 24)).await;
    assert_eq!(kinds().await.len(), 2, "once");
    // With the assignment's and the breach's mail (to the log: no SMTP here).
    let sent = vulntrack::delivery::deliver_due(&app.state, "node-a", at(9 * 24)).await.expect("pass");
    assert_eq!((sent.delivered, receiver.received().len()), (3, 1), "the breach reached the webhook, once");
    let call: Value = serde_json::from_slice(&receiver.received()[0].body).expect("JSON");
    assert_eq!((&call["event"], &call["data"]["vulnerability"]["key"]), (&json!("sla.breached"), &record["key"]));

    // HIGH: due 30 days from creation, so on track again; its own notices follow.
    let path = format!("/api/v1/vulnerabilities/{}", record["id"].as_str().expect("id"));
    assert_eq!(app.patch(&path, As::Cookie(&admin), json!({ "severity": "HIGH" })).await.status, StatusCode::OK);
    run(at(10 * 24)).await;
    assert_eq!(kinds().await.len(), 2, "on track for its new due time");
    run(at(25 * 24)).await;
    assert_eq!(kinds().await, vec!["SLA_DUE_SOON", "SLA_BREACHED", "SLA_DUE_SOON"]);
}

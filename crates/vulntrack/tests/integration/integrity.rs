//! Acknowledged writes are never lost, and faults are reported truthfully
//! (the data-integrity issue): a full disk, concurrent changes to one
//! record, a database outage.

use std::{path::Path, sync::Arc, time::Duration};

use axum::http::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use vulntrack_store::{Backend, Database, DatabaseUrl, PoolSettings};

use crate::{
    readiness::app_behind_a_switchable_proxy,
    support::{As, Needs, PASSWORD, TestApp, TestDb, available, eventually, skip_unless},
    vulnerabilities::{app_with_admin, create, sample},
};

const ADMIN: &str = "admin@example.com";

fn header<'a>(response: &'a crate::support::TestResponse, name: &str) -> &'a str {
    response.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// A description big enough that a few hundred records fill a small disk.
fn bulky(i: usize) -> Value {
    json!({ "title": format!("record {i}"), "description": "x".repeat(4_000), "severity": "LOW" })
}

/// Creates records until storage refuses; returns the titles acknowledged
/// with 201 and checks every refusal is a 503 problem with `Retry-After`.
async fn fill(app: &TestApp, token: &str, limit: usize) -> Vec<String> {
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for i in 0..limit {
        let response = app.post("/api/v1/vulnerabilities", As::Bearer(token), bulky(i)).await;
        match response.status {
            StatusCode::CREATED => acknowledged.push(format!("record {i}")),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(response.content_type, "application/problem+json", "{response:?}");
                assert!(header(&response, "retry-after").parse::<u64>().is_ok(), "{response:?}");
                refused += 1;
                if refused >= 20 {
                    break;
                }
            }
            other => panic!("a full disk must answer 201 or 503, got {other}: {response:?}"),
        }
    }
    assert!(refused > 0, "storage never filled up after {} creates", acknowledged.len());
    acknowledged
}

async fn admin_token(app: &TestApp) -> String {
    app.setup_admin("Blue Team", ADMIN).await;
    let cookie = app.login(ADMIN, PASSWORD).await;
    let token = app.post("/api/v1/tokens", As::Cookie(&cookie), json!({ "name": "ci", "expires_in_days": 30 })).await;
    token.body["token"].as_str().expect("token").to_string()
}

/// Every acknowledged title is in the database, read through a new pool.
async fn assert_all_stored(url: &DatabaseUrl, acknowledged: &[String]) {
    let db = Database::connect(url, PoolSettings::default()).await.expect("reopen");
    use sea_orm::Statement;
    let rows = db
        .conn()
        .query_all_raw(Statement::from_string(db.conn().get_database_backend(), "SELECT title FROM vulnerabilities"))
        .await
        .expect("read back");
    let stored: std::collections::HashSet<String> =
        rows.iter().map(|r| r.try_get_by_index::<String>(0).expect("title")).collect();
    let lost: Vec<&String> = acknowledged.iter().filter(|t| !stored.contains(*t)).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged creates were lost: {lost:?}", lost.len(), acknowledged.len());
    db.close().await.expect("close");
}

#[tokio::test]
async fn a_full_database_refuses_with_503_loses_nothing_acknowledged_and_recovers_by_itself() {
    let test_db = TestDb::fresh().await;
    // SQLite's max_page_count stands in for a full disk; PostgreSQL's
    // outage test is below.
    if skip_unless(test_db.backend() == Backend::Sqlite, Needs::Sqlite) {
        return;
    }
    // Migrate, then cap the file a little above its size.
    let plain = test_db.migrated().await;
    plain.close().await.expect("close");
    let pages = std::fs::metadata(test_db.dir.path().join("test.db")).expect("db file").len() / 4096;
    let settings = PoolSettings { sqlite_max_page_count: Some(pages + 400), ..PoolSettings::default() };
    let db = Database::connect(&test_db.url, settings).await.expect("connect capped");
    let url = test_db.url.clone();
    let app = TestApp::over(test_db, db);
    let token = admin_token(&app).await;

    let acknowledged = fill(&app, &token, 2_000).await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "readyz reports the fault: {ready:?}");
    assert_eq!(ready.body["checks"]["database"], "full");
    assert_all_stored(&url, &acknowledged).await;

    // Space returns: an operator deletes old records (through a connection
    // without the cap). The running server recovers without a restart.
    let admin_db = Database::connect(&url, PoolSettings::default()).await.expect("operator connection");
    // A third of them or so: room for the 256 KiB storage probe (the
    // records' text is stored once; the search index holds only words).
    let freed = |t: &str| ["record 1", "record 2", "record 3"].iter().any(|p| t.starts_with(p));
    admin_db
        .conn()
        .execute_unprepared(
            "DELETE FROM vulnerabilities WHERE title LIKE 'record 1%' OR title LIKE 'record 2%' OR title LIKE 'record 3%'",
        )
        .await
        .expect("free");
    let survivors: Vec<String> = acknowledged.iter().filter(|t| !freed(t)).cloned().collect();
    admin_db.close().await.expect("close");
    let recovered =
        eventually(Duration::from_secs(10), async || app.get("/readyz").await.status == StatusCode::OK).await;
    assert!(recovered, "readyz is 200 again once there is room");
    let after = app.post("/api/v1/vulnerabilities", As::Bearer(&token), sample("After the fault")).await;
    assert_eq!(after.status, StatusCode::CREATED, "{after:?}");
    let mut expected = survivors;
    expected.push("After the fault".into());
    assert_all_stored(&url, &expected).await;
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(kib: u64) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Takes whatever room is left, as another program's file would: how
    /// much a refused write left free depends on the schema's page layout,
    /// and the readiness probe must find none.
    fn use_up(&self) {
        use std::io::Write;
        let mut filler = std::fs::File::create(self.dir.path().join("filler")).expect("filler file");
        while filler.write_all(&[0; 4096]).is_ok() {}
    }

    fn grow(&self, kib: u64) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={kib}k")])
            .arg(self.dir.path())
            .status()
            .expect("remount");
        assert!(status.success(), "remount the tmpfs larger");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.dir.path()).status();
    }
}

#[tokio::test]
async fn a_full_filesystem_refuses_with_503_loses_nothing_acknowledged_and_recovers_by_itself() {
    if skip_unless(crate::support::pg_admin_url().is_none(), Needs::Sqlite) {
        return;
    }
    let tmpfs = Needs::Tool("a tmpfs mount (root and mount(8); .ci/run checks both)");
    let Some(disk) = available(SmallDisk::mount(3 * 1024), tmpfs) else { return };
    let url = DatabaseUrl::sqlite_file(&disk.path().join("vulntrack.db"));
    let db = Database::connect(&url, PoolSettings::default()).await.expect("connect");
    db.migrate().await.expect("migrate");
    let test_db = TestDb::fresh().await;
    let app = TestApp::over(test_db, db);
    let token = admin_token(&app).await;

    let acknowledged = fill(&app, &token, 2_000).await;
    disk.use_up();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{ready:?}");
    assert_eq!(ready.body["checks"]["database"], "full");

    disk.grow(64 * 1024);
    let recovered =
        eventually(Duration::from_secs(10), async || app.get("/readyz").await.status == StatusCode::OK).await;
    assert!(recovered, "readyz is 200 again once space returns");
    let after = app.post("/api/v1/vulnerabilities", As::Bearer(&token), sample("After the fault")).await;
    assert_eq!(after.status, StatusCode::CREATED, "{after:?}");
    app.db.clone().close().await.expect("close the server's pool");
    let mut expected = acknowledged;
    expected.push("After the fault".into());
    assert_all_stored(&url, &expected).await;
}

/// The audit rows of one record's `VULNERABILITY_UPDATED` events, oldest
/// first.
async fn update_diffs(app: &TestApp, cookie: &str, id: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/audit-logs?entity_id={id}&action=VULNERABILITY_UPDATED&limit=200");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get_as(&path, As::Cookie(cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        rows.extend(page.body["items"].as_array().expect("items").iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    rows.sort_by_key(|r| r["seq"].as_i64().expect("seq"));
    rows.into_iter().map(|r| r["details"].clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patches_of_different_fields_lose_nothing_and_audit_diffs_chain() {
    let (app, admin) = app_with_admin().await;
    let app = Arc::new(app);
    let created = create(&app, &admin, sample("Race target")).await;
    let id = created["id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/vulnerabilities/{id}");
    const ROUNDS: usize = 100;
    let mut lost = Vec::new();
    for round in 0..ROUNDS {
        let title = json!({ "title": format!("Title {round}") });
        let remediation = json!({ "remediation": format!("Fix {round}") });
        let (a, b) = tokio::join!(
            app.patch(&path, As::Cookie(&admin), title),
            app.patch(&path, As::Cookie(&admin), remediation)
        );
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        assert_eq!(b.status, StatusCode::OK, "{b:?}");
        let now = app.get_as(&path, As::Cookie(&admin)).await.body;
        if now["title"] != format!("Title {round}") || now["remediation"] != format!("Fix {round}") {
            lost.push((round, now["title"].clone(), now["remediation"].clone()));
        }
    }
    assert!(lost.is_empty(), "{} of {ROUNDS} rounds lost a field: {lost:?}", lost.len());
    let final_version = app.get_as(&path, As::Cookie(&admin)).await.body["version"].as_i64().expect("version");
    assert_eq!(final_version, 1 + 2 * ROUNDS as i64, "every change bumped the version once");

    // Each field's audit trail chains: every "before" is the previous "after".
    let diffs = update_diffs(&app, &admin, &id).await;
    assert_eq!(diffs.len(), 2 * ROUNDS);
    for field in ["title", "remediation"] {
        let changes: Vec<&Value> = diffs.iter().filter_map(|d| d.get(field)).collect();
        assert_eq!(changes.len(), ROUNDS, "{field}: one audit diff per change");
        let mut previous = if field == "title" { json!("Race target") } else { Value::Null };
        for change in changes {
            assert_eq!(change["before"], previous, "{field}: audit diffs chain");
            previous = change["after"].clone();
        }
        assert_eq!(previous, if field == "title" { json!("Title 99") } else { json!("Fix 99") });
    }
}

#[tokio::test]
async fn if_match_makes_patch_and_delete_conditional_on_the_version_read() {
    let (app, admin) = app_with_admin().await;
    let created = create(&app, &admin, sample("Versioned")).await;
    let path = format!("/api/v1/vulnerabilities/{}", created["key"].as_str().expect("key"));
    let read = app.get_as(&path, As::Cookie(&admin)).await;
    assert_eq!(read.body["version"], 1);
    assert_eq!(header(&read, "etag"), "\"1\"", "a strong ETag of the version");

    let first = app
        .send(Method::PATCH, &path, As::Cookie(&admin), Some(json!({ "title": "Mine" })), &[("if-match", "\"1\"")])
        .await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    assert_eq!(header(&first, "etag"), "\"2\"");
    assert_eq!(first.body["version"], 2);

    for stale in ["\"1\"", "W/\"2\"", "\"nonsense\""] {
        let refused = app
            .send(Method::PATCH, &path, As::Cookie(&admin), Some(json!({ "title": "Theirs" })), &[("if-match", stale)])
            .await;
        assert_eq!(refused.status, StatusCode::PRECONDITION_FAILED, "If-Match {stale}: {refused:?}");
        assert_eq!(refused.content_type, "application/problem+json");
        assert_eq!(header(&refused, "etag"), "\"2\"", "the 412 names the current version");
    }
    let stale_delete = app.send(Method::DELETE, &path, As::Cookie(&admin), None, &[("if-match", "\"1\"")]).await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);
    let now = app.get_as(&path, As::Cookie(&admin)).await;
    assert_eq!(now.body["title"], "Mine", "refused changes changed nothing");
    assert_eq!(now.body["version"], 2);

    let any = app
        .send(Method::PATCH, &path, As::Cookie(&admin), Some(json!({ "severity": "LOW" })), &[("if-match", "*")])
        .await;
    assert_eq!(any.status, StatusCode::OK, "If-Match: * accepts any current version");
    assert_eq!(any.body["title"], "Mine", "a PATCH changes only the fields it names");
    let delete = app.send(Method::DELETE, &path, As::Cookie(&admin), None, &[("if-match", "\"3\"")]).await;
    assert_eq!(delete.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_edit_form_shows_a_concurrent_change_and_keeps_the_input() {
    let (app, admin) = app_with_admin().await;
    let created = create(&app, &admin, sample("Shared record")).await;
    let key = created["key"].as_str().expect("key").to_string();
    let form = app.get_as(&format!("/vulnerabilities/{key}/edit"), As::Cookie(&admin)).await;
    let page = form.body.as_str().expect("html");
    assert!(page.contains(r#"name="version" value="1""#), "the form carries the version it was opened at");

    // Someone else saves first.
    let other = app
        .patch(&format!("/api/v1/vulnerabilities/{key}"), As::Cookie(&admin), json!({ "severity": "CRITICAL" }))
        .await;
    assert_eq!(other.status, StatusCode::OK);

    let fields = [
        ("version", "1"),
        ("title", "My retitled record"),
        ("description", "User input reaches a SQL query without parameters."),
        ("severity", "HIGH"),
        ("status", "OPEN"),
        ("kind", "VULNERABILITY"),
    ];
    let conflict = crate::web::post_form(&app, &format!("/vulnerabilities/{key}/edit"), Some(&admin), &fields).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{conflict:?}");
    let html = conflict.body.as_str().expect("html");
    assert!(html.contains("Someone else saved this record"), "{html}");
    assert!(html.contains("My retitled record"), "the user's input is kept");
    assert!(html.contains("CRITICAL"), "what the other change saved is shown");
    assert!(html.contains(r#"name="version" value="2""#), "saving again applies over the new version");
    let unchanged = app.get_as(&format!("/api/v1/vulnerabilities/{key}"), As::Cookie(&admin)).await;
    assert_eq!(unchanged.body["title"], "Shared record", "nothing was overwritten");
    assert_eq!(unchanged.body["severity"], "CRITICAL");
}

#[tokio::test]
async fn during_a_database_outage_every_request_answers_503_and_no_alert_is_made_up() {
    let Some((app, proxy)) = app_behind_a_switchable_proxy(PoolSettings::default().acquire_timeout, |_| {}).await
    else {
        return;
    };
    let token = admin_token(&app).await;
    let cookie = app.login(ADMIN, PASSWORD).await;

    proxy.down();
    let started = std::time::Instant::now();
    let probes = [
        ("token", app.get_as("/api/v1/vulnerabilities", As::Bearer(&token)).await),
        ("cookie", app.get_as("/api/v1/vulnerabilities", As::Cookie(&cookie)).await),
        ("write", app.post("/api/v1/vulnerabilities", As::Bearer(&token), sample("During the outage")).await),
        (
            "sign-in",
            app.post("/api/v1/auth/login", As::Anonymous, json!({ "email": ADMIN, "password": PASSWORD })).await,
        ),
    ];
    for (what, response) in &probes {
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {response:?}");
        assert_eq!(response.content_type, "application/problem+json", "{what}");
        assert_eq!(header(response, "retry-after"), "5", "{what}");
    }
    let page = app.get_as("/vulnerabilities", As::Cookie(&cookie)).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "pages too");
    assert!(page.content_type.starts_with("text/html"), "{page:?}");
    assert_eq!(header(&page, "retry-after"), "5");
    // Six requests, each bounded by the pool's 3 s acquire timeout (not 10 s).
    assert!(started.elapsed() < Duration::from_secs(6 * 5), "took {:?}", started.elapsed());

    proxy.up();
    assert!(eventually(Duration::from_secs(15), async || app.get("/readyz").await.status == StatusCode::OK).await);
    let alerts = app.get_as("/api/v1/security/alerts", As::Cookie(&cookie)).await;
    let rules: Vec<&str> =
        alerts.body["items"].as_array().expect("items").iter().filter_map(|a| a["rule"].as_str()).collect();
    assert!(!rules.contains(&"INVALID_API_TOKENS"), "a storage error is not a bad token: {rules:?}");
    assert!(!rules.contains(&"HIGH_ERROR_RATE"), "the outage's 503s are the outage alert's: {rules:?}");
    let still_valid = app.get_as("/api/v1/vulnerabilities", As::Bearer(&token)).await;
    assert_eq!(still_valid.status, StatusCode::OK, "the token was never treated as revoked");
}

/// Every resource with a PATCH carries a version and honours `If-Match`
/// (the class, not only vulnerabilities).
#[tokio::test]
async fn every_patchable_resource_has_a_version_and_refuses_a_stale_if_match() {
    let (app, admin) = app_with_admin().await;
    let analyst = app.add_member(&admin, "analyst@example.com", "ANALYST").await;
    let analyst_id = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].as_str().expect("id").to_string();
    let vuln = create(&app, &admin, sample("Versioned record")).await;
    let vuln_path = format!("/api/v1/vulnerabilities/{}", vuln["id"].as_str().expect("id"));
    let comment = app.post(&format!("{vuln_path}/comments"), As::Cookie(&admin), json!({ "body": "First" })).await;
    assert_eq!(comment.status, StatusCode::CREATED);
    let comment_path = format!("/api/v1/comments/{}", comment.body["id"].as_str().expect("id"));
    let user_path = format!("/api/v1/users/{analyst_id}");

    // (what, PATCH path, how to read its version, a change, another change)
    let cases: [(&str, String, Option<String>, Value, Value); 5] = [
        ("vulnerability", vuln_path.clone(), Some(vuln_path.clone()), json!({ "title": "A" }), json!({ "title": "B" })),
        ("comment", comment_path.clone(), None, json!({ "body": "Second" }), json!({ "body": "Third" })),
        ("user", user_path.clone(), None, json!({ "role": "VIEWER" }), json!({ "role": "ANALYST" })),
        ("me", "/api/v1/me".into(), Some("/api/v1/me".into()), json!({ "name": "Ada A" }), json!({ "name": "Ada B" })),
        (
            "team",
            "/api/v1/team".into(),
            Some("/api/v1/team".into()),
            json!({ "name": "Team A" }),
            json!({ "name": "Team B" }),
        ),
    ];
    for (what, path, read_path, change, other_change) in cases {
        let version = match &read_path {
            Some(read) => {
                let read = app.get_as(read, As::Cookie(&admin)).await;
                assert_eq!(header(&read, "etag"), format!("\"{}\"", read.body["version"]), "{what}: GET's ETag");
                read.body["version"].as_i64().unwrap_or_else(|| panic!("{what} has a version: {read:?}"))
            }
            None => 1,
        };
        let tag = format!("\"{version}\"");
        let first = app.send(Method::PATCH, &path, As::Cookie(&admin), Some(change), &[("if-match", &tag)]).await;
        assert_eq!(first.status, StatusCode::OK, "{what}: {first:?}");
        assert_eq!(first.body["version"], version + 1, "{what}: the version moves on");
        assert_eq!(header(&first, "etag"), format!("\"{}\"", version + 1), "{what}");
        let stale = app.send(Method::PATCH, &path, As::Cookie(&admin), Some(other_change), &[("if-match", &tag)]).await;
        assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{what}: {stale:?}");
        assert_eq!(stale.content_type, "application/problem+json", "{what}");
    }
    let stale_delete =
        app.send(Method::DELETE, &comment_path, As::Cookie(&admin), None, &[("if-match", "\"1\"")]).await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED, "DELETE honours If-Match too");
    let stale_user_delete =
        app.send(Method::DELETE, &user_path, As::Cookie(&admin), None, &[("if-match", "\"1\"")]).await;
    assert_eq!(stale_user_delete.status, StatusCode::PRECONDITION_FAILED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_simultaneous_demotions_of_the_last_two_admins_leave_one() {
    last_two_admins_demote_each_other().await;
}

/// Two ADMINs demote each other at the same moment, ten times over: each
/// time exactly one demotion lands and one active ADMIN remains (also the
/// security-findings issue's item 8).
pub async fn last_two_admins_demote_each_other() {
    let (app, first) = app_with_admin().await;
    let second = app.add_member(&first, "second@example.com", "ADMIN").await;
    let id_of = async |cookie: &str| {
        app.get_as("/api/v1/me", As::Cookie(cookie)).await.body["id"].as_str().expect("id").to_string()
    };
    let (first_id, second_id) = (id_of(&first).await, id_of(&second).await);
    let (first_path, second_path) = (format!("/api/v1/users/{first_id}"), format!("/api/v1/users/{second_id}"));
    for round in 0..10 {
        let (a, b) = tokio::join!(
            app.patch(&second_path, As::Cookie(&first), json!({ "role": "ANALYST" })),
            app.patch(&first_path, As::Cookie(&second), json!({ "role": "ANALYST" }))
        );
        let outcomes = [a.status, b.status];
        assert_eq!(outcomes.iter().filter(|s| **s == StatusCode::OK).count(), 1, "round {round}: {a:?} {b:?}");
        let members =
            app.get_as("/api/v1/users", As::Cookie(if a.status == StatusCode::OK { &first } else { &second })).await;
        let admins = members.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|u| u["role"] == "ADMIN" && u["status"] == "ACTIVE")
            .count();
        assert_eq!(admins, 1, "round {round}: exactly one active ADMIN remains");
        // The survivor promotes the other back for the next round.
        let (survivor, demoted) = if a.status == StatusCode::OK { (&first, &second_id) } else { (&second, &first_id) };
        let back =
            app.patch(&format!("/api/v1/users/{demoted}"), As::Cookie(survivor), json!({ "role": "ADMIN" })).await;
        assert_eq!(back.status, StatusCode::OK, "{back:?}");
    }
}

//! The CVE catalogue: NVD, CISA KEV and FIRST EPSS files loaded through
//! the command line in any order and idempotently, a newer file changing
//! only what changed, a broken file writing nothing, and the API that reads
//! the catalogue.

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use serde_json::Value;

use crate::{
    cli::{assert_one_line_error, run},
    support::{As, PASSWORD, TEST_SECRET, TestApp},
};

const ADMIN: &str = "admin@example.com";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cve").join(name)
}

/// Copies fixtures into `dir` (the binary runs there, from a clean environment).
fn copy_fixtures(dir: &Path, names: &[&str]) {
    for name in names {
        std::fs::copy(fixture(name), dir.join(name)).expect("fixture");
    }
}

/// `vulntrack cve import --json FILES`: each file's counts.
async fn load(app: &TestApp, files: &[&str]) -> Vec<Value> {
    let url = app.test_db.url.expose().to_string();
    let vars = [("DATABASE_URL", url.as_str()), ("VULNTRACK_SECRET", TEST_SECRET)];
    let mut args = vec!["cve", "import", "--json"];
    args.extend_from_slice(files);
    let output = run(app.test_db.dir.path(), &args, &vars).await;
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

fn counts(loaded: &Value) -> (u64, u64, u64) {
    let n = |k: &str| loaded[k].as_u64().unwrap_or_else(|| panic!("{k} in {loaded}"));
    (n("inserted"), n("updated"), n("unchanged"))
}

async fn cve(app: &TestApp, cookie: &str, id: &str) -> Value {
    let found = app.get_as(&format!("/api/v1/cves/{id}"), As::Cookie(cookie)).await;
    assert_eq!(found.status, StatusCode::OK, "{id}: {:?}", found.body);
    found.body
}

/// Acceptance 1: the three feeds load in any order (KEV and EPSS before
/// the NVD), again without change, and newer files update only what they
/// change; the API shows every feed's fields, with our CVSS scores beside
/// the NVD's.
#[tokio::test]
async fn feeds_load_in_any_order_idempotently_and_newer_files_change_only_what_changed() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let dir = app.test_db.dir.path();
    copy_fixtures(
        dir,
        &["nvd-page.json", "nvd-page-newer.json", "kev.json", "kev-newer.json", "epss.csv", "epss-newer.csv"],
    );
    // EPSS compressed, as FIRST publishes it.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &std::fs::read(fixture("epss.csv")).expect("fixture")).expect("gzip");
    std::fs::write(dir.join("epss.csv.gz"), gz.finish().expect("gzip")).expect("write");

    // KEV and EPSS first: they create rows the NVD then completes.
    let first = load(&app, &["kev.json", "epss.csv.gz", "nvd-page.json"]).await;
    assert_eq!(first[0]["source"], "kev");
    assert_eq!(first[0]["version"], "2024.04.11");
    assert_eq!(counts(&first[0]), (2, 0, 0));
    assert_eq!(first[0]["newly_known_exploited"], 2);
    assert_eq!(first[1]["source"], "epss");
    assert_eq!(first[1]["version"], "v2023.03.01");
    assert_eq!(counts(&first[1]), (4, 0, 0));
    assert_eq!(first[2]["source"], "nvd");
    assert_eq!(counts(&first[2]), (3, 0, 0), "new to the NVD's columns, though KEV made two rows");

    let log4j = cve(&app, &admin, "cve-2021-44228").await;
    assert_eq!(log4j["id"], "CVE-2021-44228");
    assert_eq!(log4j["status"], "Analyzed");
    assert!(log4j["description"].as_str().is_some_and(|d| d.starts_with("Apache Log4j2 2.0-beta9")), "{log4j}");
    assert_eq!(log4j["published_at"], "2021-12-10T10:15:09.143Z");
    assert_eq!(log4j["cvss_v3"]["vector"], "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H");
    assert_eq!(log4j["cvss_v3"]["score"], 10.0);
    assert_eq!(log4j["cvss_v3"]["nvd_score"], 10.0);
    assert_eq!(log4j["cvss_v3"]["rating"], "CRITICAL");
    assert_eq!(log4j["cwe_ids"], serde_json::json!([20, 400, 502, 917]));
    assert_eq!(log4j["references"].as_array().map(Vec::len), Some(3));
    assert_eq!(log4j["kev"]["date_added"], "2021-12-10");
    assert_eq!(log4j["kev"]["due_date"], "2021-12-24");
    assert_eq!(log4j["kev"]["known_ransomware"], true);
    assert_eq!(log4j["epss"]["score"], 0.97565);
    assert_eq!(log4j["epss"]["percentile"], 0.99996);
    assert_eq!(log4j["epss"]["date"], "2024-11-28");
    let panos = cve(&app, &admin, "CVE-2024-3400").await;
    assert_eq!(panos["cvss_v4"]["vector"], "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H");
    assert_eq!(panos["cvss_v4"]["score"], 10.0);
    assert_eq!(panos["kev"], Value::Null, "not on the older KEV list");
    // Only EPSS named this one: a row with nothing else.
    let old = cve(&app, &admin, "CVE-1999-0001").await;
    assert_eq!((old["description"].clone(), old["kev"].clone()), (Value::Null, Value::Null));
    assert_eq!(old["epss"]["score"], 0.00857);

    // The same files again: nothing written.
    let again = load(&app, &["nvd-page.json", "kev.json", "epss.csv"]).await;
    for loaded in &again {
        assert_eq!(counts(loaded), (0, 0, loaded["read"].as_u64().expect("read")), "{loaded}");
    }
    let unchanged = cve(&app, &admin, "CVE-2021-44228").await;
    assert_eq!(unchanged["updated_at"], log4j["updated_at"], "an unchanged record is not rewritten");

    // Newer files: only what they change.
    let newer = load(&app, &["nvd-page-newer.json", "kev-newer.json", "epss-newer.csv"]).await;
    assert_eq!(counts(&newer[0]), (0, 1, 2), "the NVD page changed one CVE");
    assert_eq!(counts(&newer[1]), (1, 0, 2), "KEV added one");
    assert_eq!(newer[1]["newly_known_exploited"], 1);
    assert_eq!(counts(&newer[2]), (0, 2, 0), "EPSS rescored two on a new date");
    let webp = cve(&app, &admin, "CVE-2023-4863").await;
    assert!(webp["description"].as_str().is_some_and(|d| d.ends_with("(Chromium security severity: Critical)")));
    assert_eq!(webp["references"].as_array().map(Vec::len), Some(3));
    assert_eq!(webp["epss"]["score"], 0.4336);
    assert_eq!(webp["epss"]["date"], "2024-11-29");
    let panos = cve(&app, &admin, "CVE-2024-3400").await;
    assert_eq!(panos["kev"]["date_added"], "2024-04-12");
    assert_eq!(panos["epss"]["date"], "2024-11-29");
    assert_eq!(cve(&app, &admin, "CVE-2021-44228").await["epss"]["date"], "2024-11-28", "not in the newer EPSS file");
    assert_eq!(cve(&app, &admin, "CVE-2021-44228").await["updated_at"], log4j["updated_at"]);
}

/// A broken file writes nothing, even when its first records were fine;
/// one bad file does not stop the others; a bad `--feed` is a bad argument.
#[tokio::test]
async fn a_broken_feed_file_writes_nothing_and_the_command_says_why_in_one_line() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let dir = app.test_db.dir.path();
    copy_fixtures(dir, &["kev.json"]);
    let page = std::fs::read_to_string(fixture("nvd-page.json")).expect("fixture");
    // Cut off in the third CVE: the first two were read and sent.
    let cut = page.find("CVE-2024-3400").expect("third CVE");
    std::fs::write(dir.join("cut.json"), &page[..cut]).expect("write");
    std::fs::write(dir.join("report.json"), br#"{"SchemaVersion": 2, "Results": []}"#).expect("write");
    let url = app.test_db.url.expose().to_string();
    let vars = [("DATABASE_URL", url.as_str()), ("VULNTRACK_SECRET", TEST_SECRET)];

    let output = run(dir, &["cve", "import", "cut.json", "report.json", "kev.json"], &vars).await;
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("kev.json: CISA KEV 2024.04.11: 2 records: 2 inserted, 0 updated, 0 unchanged"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: cut.json: not loaded: not a valid NVD CVE API 2.0 report"), "{stderr}");
    assert!(stderr.contains("error: report.json: not a CVE feed VulnTrack reads"), "{stderr}");
    assert!(stderr.contains("2 of 3 files did not load"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // CVE-2021-44228 came before the cut: not written, its row is KEV's alone.
    let log4j = cve(&app, &admin, "CVE-2021-44228").await;
    assert_eq!(log4j["description"], Value::Null, "{log4j}");
    let webp = app.get_as("/api/v1/cves/CVE-2023-4863", As::Cookie(&admin)).await;
    assert_eq!(webp.body["description"], Value::Null);

    let bad_feed = run(dir, &["cve", "import", "--feed", "osv", "kev.json"], &vars).await;
    assert_one_line_error(&bad_feed, 2, "--feed must be one of nvd, kev, epss");
    // A file named as another feed than it is: an error, nothing written.
    let wrong = run(dir, &["cve", "import", "--feed", "epss", "kev.json"], &vars).await;
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("not a valid FIRST EPSS"), "{wrong:?}");
}

/// `GET /api/v1/cves/{id}` and `?q=`: for any signed-in user (a VIEWER
/// too), nobody else; an id prefix or words; bad queries are 422.
#[tokio::test]
async fn the_catalogue_is_read_by_id_and_searched_by_id_prefix_or_words() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let viewer = app.add_member(&admin, "viewer@example.com", "VIEWER").await;
    copy_fixtures(app.test_db.dir.path(), &["nvd-page.json", "kev.json"]);
    load(&app, &["nvd-page.json", "kev.json"]).await;

    let anonymous = app.get("/api/v1/cves/CVE-2021-44228").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/v1/cves?q=log4j").await.status, StatusCode::UNAUTHORIZED);
    for missing in ["CVE-2099-0001", "not-a-cve", "CVE-2021-44228%27%20OR%201=1"] {
        let found = app.get_as(&format!("/api/v1/cves/{missing}"), As::Cookie(&viewer)).await;
        assert_eq!(found.status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(found.content_type, "application/problem+json");
    }
    assert_eq!(cve(&app, &viewer, "CVE-2021-44228").await["kev"]["product"], "Log4j2");

    let ids = |body: &Value| -> Vec<String> {
        body["items"].as_array().expect("items").iter().map(|c| c["id"].as_str().expect("id").to_owned()).collect()
    };
    let search =
        |q: &str| format!("/api/v1/cves?q={}", url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>());
    let by_prefix = app.get_as(&search("cve-2023"), As::Cookie(&viewer)).await;
    assert_eq!(by_prefix.status, StatusCode::OK);
    assert_eq!(ids(&by_prefix.body), ["CVE-2023-4863"]);
    assert_eq!(
        ids(&app.get_as(&search("CVE-20"), As::Cookie(&viewer)).await.body),
        ["CVE-2021-44228", "CVE-2023-4863", "CVE-2024-3400"]
    );
    assert_eq!(ids(&app.get_as(&search("2024-3400"), As::Cookie(&viewer)).await.body), ["CVE-2024-3400"]);
    assert_eq!(ids(&app.get_as(&search("heap overflow libwebp"), As::Cookie(&viewer)).await.body), ["CVE-2023-4863"]);
    assert_eq!(ids(&app.get_as(&search("JNDI LDAP"), As::Cookie(&viewer)).await.body), ["CVE-2021-44228"]);
    // Words of every CVE, newest first, within the limit.
    let limited = app.get_as(&format!("{}&limit=2", search("attacker")), As::Cookie(&viewer)).await;
    assert_eq!(ids(&limited.body), ["CVE-2024-3400", "CVE-2023-4863"]);
    // Characters that mean something to LIKE or to tsquery are words, not syntax.
    for literal in ["100%", "zz_qq", "zz & qq | !jj", "'; DROP TABLE cves; --"] {
        let found = app.get_as(&search(literal), As::Cookie(&viewer)).await;
        assert_eq!(found.status, StatusCode::OK, "{literal}: {:?}", found.body);
        assert_eq!(ids(&found.body), Vec::<String>::new(), "{literal}");
    }

    for (query, field) in [("", "q"), ("  ", "q"), (&"a".repeat(201)[..], "q")] {
        let refused = app.get_as(&search(query), As::Cookie(&viewer)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{query:?}");
        assert_eq!(refused.body["errors"][0]["field"], field, "{:?}", refused.body);
    }
    let bad_limit = app.get_as(&format!("{}&limit=1000", search("log4j")), As::Cookie(&viewer)).await;
    assert_eq!(bad_limit.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn create(app: &TestApp, cookie: &str, mut body: Value) -> Value {
    body["description"] = "Found in the quarterly review.".into();
    let created = app.post("/api/v1/vulnerabilities", As::Cookie(cookie), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    created.body
}

fn keys(body: &Value) -> Vec<String> {
    body["items"].as_array().expect("items").iter().map(|v| v["key"].as_str().expect("key").to_owned()).collect()
}

fn kinds_for(inbox: &Value, key: &str) -> Vec<String> {
    inbox["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|n| n["message"].as_str().is_some_and(|m| m.starts_with(&format!("{key}:"))))
        .map(|n| n["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Acceptance 2 (API): records with a CVE carry the catalogue's KEV and
/// EPSS and a priority that follows severity, exploitation, EPSS and the
/// asset; the list filters by `kev` and `epss_min` and sorts by EPSS and
/// priority; a KEV update that lists the CVE of open records tells their
/// assignees and ADMINs (that team's only) and shows in their activity;
/// an asset's new criticality and a record's new CVE move priorities.
#[tokio::test]
async fn the_catalogue_enriches_records_filters_and_sorts_them_and_a_new_kev_listing_is_told() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, "analyst@example.com", "ANALYST").await;
    let analyst_id = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].clone();
    let red_admin = crate::support::other_team_admin(&app, "red@example.com").await;
    let asset = app
        .post(
            "/api/v1/assets",
            As::Cookie(&admin),
            serde_json::json!({ "name": "payments", "kind": "application", "environment": "production", "criticality": "CRITICAL" }),
        )
        .await;
    assert_eq!(asset.status, StatusCode::CREATED, "{:?}", asset.body);
    let a = create(&app, &admin, serde_json::json!({ "title": "Log4Shell in payments", "severity": "HIGH", "cve_id": "CVE-2021-44228", "assets": ["payments"], "assignee_id": analyst_id })).await;
    let b = create(&app, &admin, serde_json::json!({ "title": "libwebp overflow", "severity": "CRITICAL", "cve_id": "CVE-2023-4863", "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H" })).await;
    let c = create(&app, &admin, serde_json::json!({ "title": "GlobalProtect injection", "severity": "MEDIUM", "cve_id": "CVE-2024-3400", "assignee_id": analyst_id })).await;
    let d = create(&app, &admin, serde_json::json!({ "title": "Verbose banner", "severity": "LOW" })).await;
    let e = create(&app, &admin, serde_json::json!({ "title": "Old firewall, patched", "severity": "MEDIUM", "cve_id": "CVE-2024-3400", "status": "RESOLVED", "resolution": "FIXED" })).await;
    let red = app
        .post("/api/v1/vulnerabilities", As::Cookie(&red_admin), serde_json::json!({ "title": "Red firewall", "description": "Edge firewall.", "severity": "HIGH", "cve_id": "CVE-2024-3400" }))
        .await;
    assert_eq!(red.status, StatusCode::CREATED);
    // Before the catalogue: severity (or CVSS) and the asset only.
    assert_eq!(
        (a["priority"].clone(), a["known_exploited"].clone(), a["epss"].clone()),
        (40.into(), false.into(), Value::Null)
    );
    assert_eq!(b["priority"], 39, "8.8 × 4 + 4 for no asset, rounded");
    assert_eq!((c["priority"].clone(), d["priority"].clone()), (24.into(), 12.into()));

    copy_fixtures(app.test_db.dir.path(), &["nvd-page.json", "kev.json", "kev-newer.json", "epss.csv"]);
    load(&app, &["kev.json", "epss.csv", "nvd-page.json"]).await;
    let key = |v: &Value| v["key"].as_str().expect("key").to_owned();
    let (a_key, b_key, c_key, d_key, e_key) = (key(&a), key(&b), key(&c), key(&d), key(&e));
    let shown = app.get_as(&format!("/api/v1/vulnerabilities/{a_key}"), As::Cookie(&analyst)).await.body;
    assert_eq!(shown["known_exploited"], true);
    assert_eq!(shown["epss"], 0.97565);
    assert_eq!(shown["priority"], 90, "30 + 30 + 19.5 + 10");
    assert_eq!(shown["cve"]["kev"]["due_date"], "2021-12-24");
    assert_eq!(shown["cve"]["cvss_v3"]["score"], 10.0);
    let list = async |query: &str| -> Vec<String> {
        let found = app.get_as(&format!("/api/v1/vulnerabilities?{query}"), As::Cookie(&admin)).await;
        assert_eq!(found.status, StatusCode::OK, "{query}: {:?}", found.body);
        keys(&found.body)
    };
    assert_eq!(list("status=OPEN&sort=-priority").await, [a_key.clone(), b_key.clone(), c_key.clone(), d_key.clone()]);
    assert_eq!(list("kev=true&sort=-priority").await, [a_key.clone(), b_key.clone()]);
    assert_eq!(list("status=OPEN&epss_min=0.5&sort=-priority").await, [a_key.clone(), c_key.clone()]);
    assert_eq!(list("status=OPEN&sort=-epss").await, [a_key.clone(), c_key.clone(), b_key.clone(), d_key.clone()]);
    assert_eq!(list("status=OPEN&sort=epss").await, [d_key.clone(), b_key.clone(), c_key.clone(), a_key.clone()]);
    // Keyset paging by priority shows every record once.
    let first = app.get_as("/api/v1/vulnerabilities?status=OPEN&sort=-priority&limit=2", As::Cookie(&admin)).await;
    let cursor = first.body["next_cursor"].as_str().expect("a next page").to_owned();
    let second = app
        .get_as(
            &format!("/api/v1/vulnerabilities?status=OPEN&sort=-priority&limit=2&cursor={cursor}"),
            As::Cookie(&admin),
        )
        .await;
    assert_eq!(
        [keys(&first.body), keys(&second.body)].concat(),
        [a_key.clone(), b_key.clone(), c_key.clone(), d_key.clone()]
    );
    for (query, field) in
        [("kev=maybe", "kev"), ("epss_min=2", "epss_min"), ("epss_min=x", "epss_min"), ("sort=-exploits", "sort")]
    {
        let refused = app.get_as(&format!("/api/v1/vulnerabilities?{query}"), As::Cookie(&admin)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(refused.body["errors"][0]["field"], field, "{query}");
    }
    // The first KEV list loaded is the starting point: nobody is told.
    let inbox = app.get_as("/api/v1/notifications", As::Cookie(&analyst)).await.body;
    assert!(kinds_for(&inbox, &a_key).iter().all(|k| k != "KNOWN_EXPLOITED"), "{inbox}");

    // A newer KEV list adds CVE-2024-3400.
    load(&app, &["kev-newer.json"]).await;
    let c_now = app.get_as(&format!("/api/v1/vulnerabilities/{c_key}"), As::Cookie(&admin)).await.body;
    assert_eq!((c_now["known_exploited"].clone(), c_now["priority"].clone()), (true.into(), 73.into()));
    let inbox = app.get_as("/api/v1/notifications", As::Cookie(&analyst)).await.body;
    assert_eq!(kinds_for(&inbox, &c_key), ["KNOWN_EXPLOITED"], "the assignee: {inbox}");
    let admin_inbox = app.get_as("/api/v1/notifications", As::Cookie(&admin)).await.body;
    assert_eq!(kinds_for(&admin_inbox, &c_key), ["KNOWN_EXPLOITED"], "an ADMIN: {admin_inbox}");
    assert!(kinds_for(&admin_inbox, &e_key).is_empty(), "a resolved record is not news");
    let red_inbox = app.get_as("/api/v1/notifications", As::Cookie(&red_admin)).await.body;
    let red_messages: Vec<&str> =
        red_inbox["items"].as_array().expect("items").iter().filter_map(|n| n["message"].as_str()).collect();
    assert_eq!(red_messages.len(), 1, "{red_messages:?}");
    assert!(red_messages[0].contains("Red firewall") && red_messages[0].contains("CISA's due date 2024-04-19"));
    let activity = app.get_as("/api/v1/audit-logs?action=VULNERABILITY_KNOWN_EXPLOITED", As::Cookie(&admin)).await;
    let rows = activity.body["items"].as_array().expect("items");
    assert_eq!(rows.len(), 1, "one open record of this team: {rows:?}");
    assert_eq!(rows[0]["entity_id"], c["id"]);
    assert_eq!(rows[0]["actor"]["kind"], "SYSTEM");
    assert_eq!(rows[0]["details"]["cve_id"], "CVE-2024-3400");

    // The asset is worth less now; a record gains a CVE.
    let changed = app
        .patch(
            "/api/v1/assets/payments",
            As::Cookie(&admin),
            serde_json::json!({ "criticality": "LOW", "environment": "development" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    let a_now = app.get_as(&format!("/api/v1/vulnerabilities/{a_key}"), As::Cookie(&admin)).await.body;
    assert_eq!(a_now["priority"], 80, "30 + 30 + 19.5 + 0.3");
    assert_eq!(a_now["version"], shown["version"], "a derived field does not move the record's version");
    let d_now = app
        .patch(
            &format!("/api/v1/vulnerabilities/{d_key}"),
            As::Cookie(&admin),
            serde_json::json!({ "cve_id": "CVE-2023-4863" }),
        )
        .await;
    assert_eq!(d_now.status, StatusCode::OK, "{:?}", d_now.body);
    assert_eq!((d_now.body["known_exploited"].clone(), d_now.body["priority"].clone()), (true.into(), 50.into()));
    let stats = app.get_as("/api/v1/vulnerabilities/stats", As::Cookie(&admin)).await.body;
    assert_eq!(stats["known_exploited_open"], 4, "{stats}");
}

/// The create form fills its empty fields from the catalogue: "Fill from
/// CVE" without JavaScript (nothing saved), and the JSON the script asks
/// for as an id is typed; an unknown or malformed id is a form message.
#[tokio::test]
async fn the_create_form_fills_its_empty_fields_from_the_catalogue() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let viewer = app.add_member(&admin, "viewer@example.com", "VIEWER").await;
    copy_fixtures(app.test_db.dir.path(), &["nvd-page.json", "kev.json"]);
    load(&app, &["nvd-page.json", "kev.json"]).await;
    let html = |r: &crate::support::TestResponse| r.body.as_str().unwrap_or_default().to_owned();

    let filled = crate::web::post_form(
        &app,
        "/vulnerabilities",
        Some(&admin),
        &[
            ("fill_from_cve", "1"),
            ("cve_id", " cve-2021-44228 "),
            ("title", ""),
            ("description", ""),
            ("severity", "HIGH"),
            ("remediation", "Upgrade to 2.17.1."),
        ],
    )
    .await;
    assert_eq!(filled.status, StatusCode::OK);
    let page = html(&filled);
    assert!(
        page.contains(
            "Filled from CVE-2021-44228: title, description, cvss vector, references. Check them, then save."
        ),
        "{page}"
    );
    assert!(page.contains(r#"value="CVE-2021-44228: Apache Log4j2 Remote Code Execution Vulnerability""#), "{page}");
    assert!(page.contains("Apache Log4j2 2.0-beta9 through 2.15.0"));
    assert!(page.contains(r#"value="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H""#));
    assert!(page.contains("Upgrade to 2.17.1."), "a typed field is kept");
    assert!(page.contains(r#"value="CVE-2021-44228""#), "the id as the catalogue writes it");
    let none = app.get_as("/api/v1/vulnerabilities", As::Cookie(&admin)).await;
    assert_eq!(none.body["items"].as_array().map(Vec::len), Some(0), "filling saves nothing");

    for (typed, message) in
        [("CVE-2099-0001", "CVE-2099-0001 is not in the CVE catalogue"), ("log4shell", "is not a CVE id")]
    {
        let refused = crate::web::post_form(
            &app,
            "/vulnerabilities",
            Some(&admin),
            &[("fill_from_cve", "1"), ("cve_id", typed), ("title", "Mine")],
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{typed}");
        let page = html(&refused);
        assert!(page.contains(message) && page.contains(r#"value="Mine""#), "{typed}: {page}");
    }

    let json = app.get_as("/vulnerabilities/new/cve?cve_id=CVE-2023-4863", As::Cookie(&admin)).await;
    assert_eq!(json.status, StatusCode::OK);
    assert_eq!(json.body["title"], "CVE-2023-4863: Google Chromium WebP Heap-Based Buffer Overflow Vulnerability");
    assert_eq!(json.body["cvss_vector"], "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H");
    assert_eq!(json.body["references"].as_array().map(Vec::len), Some(2));
    assert!(json.body["remediation"].as_str().is_some_and(|r| r.starts_with("Apply mitigations")));
    let unknown = app.get_as("/vulnerabilities/new/cve?cve_id=CVE-2099-0001", As::Cookie(&admin)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body["reason"].as_str().is_some_and(|r| r.contains("not in the CVE catalogue")));
    let forbidden = app.get_as("/vulnerabilities/new/cve?cve_id=CVE-2023-4863", As::Cookie(&viewer)).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "a VIEWER writes no records");
}

/// An NVD page of `items` (ids from the fixture page) out of `total`.
fn nvd_page(items: &[Value], start: u64, total: u64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "resultsPerPage": items.len(), "startIndex": start, "totalResults": total,
        "format": "NVD_CVE", "version": "2.0", "timestamp": "2024-12-02T16:00:00.000", "vulnerabilities": items
    }))
    .expect("json")
}

fn fixture_items(name: &str) -> Vec<Value> {
    let page: Value = serde_json::from_slice(&std::fs::read(fixture(name)).expect("fixture")).expect("json");
    page["vulnerabilities"].as_array().expect("items").clone()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, data).expect("gzip");
    gz.finish().expect("gzip")
}

/// A feed server with the fixtures: the NVD page split in two pages at
/// `nvd`, KEV, and EPSS gzipped.
async fn fixture_server(nvd: &str) -> crate::support::sinks::FeedServer {
    let server = crate::support::sinks::FeedServer::start().await;
    let items = fixture_items("nvd-page.json");
    server.serve(nvd, 0, nvd_page(&items[..2], 0, 3));
    server.serve(nvd, 2, nvd_page(&items[2..], 2, 3));
    server.serve("/kev.json", 0, std::fs::read(fixture("kev.json")).expect("fixture"));
    server.serve("/epss.csv.gz", 0, gzip(&std::fs::read(fixture("epss.csv")).expect("fixture")));
    server
}

/// An app whose catalogue syncs from `server` (no pause between NVD pages).
async fn syncing_app(server: &crate::support::sinks::FeedServer) -> TestApp {
    let (nvd, kev, epss) = (server.url("/rest/json/cves/2.0"), server.url("/kev.json"), server.url("/epss.csv.gz"));
    TestApp::spawn_with(|config| {
        config.nvd_url = Some(nvd);
        config.kev_url = Some(kev);
        config.epss_url = Some(epss);
        config.nvd_request_interval = Some(std::time::Duration::ZERO);
        config.nvd_api_key = Some(secrecy::SecretString::from("test-nvd-key"));
    })
    .await
}

/// Acceptance 4: the sync job fetches the three feeds from a local server
/// in their real formats: the NVD page by page with the API key, then from
/// where the last sync ended (`lastModStartDate`), retrying a 429 and a
/// 503; a later sync changes only what changed. Without URLs it never runs.
#[tokio::test]
async fn the_sync_job_fetches_every_feed_page_by_page_retries_and_continues_from_its_cursor() {
    let nvd = "/rest/json/cves/2.0";
    let server = fixture_server(nvd).await;
    server.fail("/kev.json", 0, &[429]);
    server.fail("/epss.csv.gz", 0, &[503]);
    server.fail(nvd, 2, &[502]);
    let app = syncing_app(&server).await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;

    let now = chrono::Utc::now();
    let ran = vulntrack::jobs::run_due(&app.state, "node-a", now).await.expect("jobs");
    assert!(ran.contains(&vulntrack::jobs::Job::IntelSync), "{ran:?}");
    let log4j = cve(&app, &admin, "CVE-2021-44228").await;
    assert_eq!(
        (log4j["kev"]["due_date"].clone(), log4j["epss"]["score"].clone()),
        ("2021-12-24".into(), 0.97565.into())
    );
    assert_eq!(cve(&app, &admin, "CVE-2024-3400").await["cvss_v4"]["score"], 10.0, "the second page");
    let requests = server.requests();
    let count = |path: &str| requests.iter().filter(|r| r.path == path).count();
    assert_eq!((count("/kev.json"), count("/epss.csv.gz"), count(nvd)), (2, 2, 3), "each failure tried again");
    let pages: Vec<&crate::support::sinks::FeedRequest> = requests.iter().filter(|r| r.path == nvd).collect();
    assert!(pages.iter().all(|r| r.api_key.as_deref() == Some("test-nvd-key")), "{pages:?}");
    assert!(pages.iter().all(|r| r.query.contains("resultsPerPage=2000") && !r.query.contains("lastModStartDate")));
    assert!(pages[0].query.contains("startIndex=0") && pages[2].query.contains("startIndex=2"), "{pages:?}");
    let kev_request = requests.iter().find(|r| r.path == "/kev.json").expect("kev");
    assert_eq!(kev_request.api_key, None, "the NVD's key goes to the NVD only");
    let state = vulntrack_store::cves::source(app.db.conn(), "nvd").await.expect("state");
    assert_eq!(state.consecutive_failures, 0);
    let cursor = state.cursor.expect("a cursor");

    // Not due again before VULNTRACK_INTEL_SYNC (24 h) has passed.
    let soon = vulntrack::jobs::run_due(&app.state, "node-a", now + chrono::Duration::hours(1)).await.expect("jobs");
    assert!(!soon.contains(&vulntrack::jobs::Job::IntelSync));
    // A day later: only what changed since the cursor.
    let newer = fixture_items("nvd-page-newer.json");
    server.serve(nvd, 0, nvd_page(&newer[1..2], 0, 1));
    let later = now + chrono::Duration::hours(25);
    let ran = vulntrack::jobs::run_due(&app.state, "node-a", later).await.expect("jobs");
    assert!(ran.contains(&vulntrack::jobs::Job::IntelSync));
    let incremental = server.requests().into_iter().rfind(|r| r.path == nvd).expect("request");
    let since: String = url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
    assert!(incremental.query.contains(&format!("lastModStartDate={since}")), "{incremental:?} since {cursor}");
    assert!(incremental.query.contains("lastModEndDate="), "{incremental:?}");
    let webp = cve(&app, &admin, "CVE-2023-4863").await;
    assert!(webp["description"].as_str().is_some_and(|d| d.ends_with("(Chromium security severity: Critical)")));
    assert_eq!(cve(&app, &admin, "CVE-2021-44228").await["updated_at"], log4j["updated_at"], "untouched");

    // Two nodes on one database when the next sync is due: one runs it.
    let requests_before = server.requests().len();
    let due = now + chrono::Duration::hours(50);
    let (a, b) = tokio::join!(
        vulntrack::jobs::run_due(&app.state, "node-a", due),
        vulntrack::jobs::run_due(&app.state, "node-b", due)
    );
    let synced = [a.expect("node a"), b.expect("node b")]
        .iter()
        .filter(|ran| ran.contains(&vulntrack::jobs::Job::IntelSync))
        .count();
    assert_eq!(synced, 1, "the job's claim keeps the sync to one node");
    let fetched = server.requests().len() - requests_before;
    assert_eq!(fetched, 3, "one KEV, one EPSS and one NVD request: {:?}", server.requests());

    // An instance with no URL set never runs the sync.
    let quiet = TestApp::spawn().await;
    let ran = vulntrack::jobs::run_due(&quiet.state, "node-a", now).await.expect("jobs");
    assert!(!ran.contains(&vulntrack::jobs::Job::IntelSync), "{ran:?}");
}

/// A sync whose second NVD page keeps failing applies nothing of the first
/// (no half-applied update), records the failure, and the third failure in
/// a row raises the operator's security alert; the next good sync clears
/// the count.
#[tokio::test]
async fn a_sync_that_fails_half_way_applies_nothing_and_repeated_failures_alert_the_operator() {
    let nvd = "/rest/json/cves/2.0";
    let server = fixture_server(nvd).await;
    // Every attempt of three syncs (four attempts each) fails on page 2.
    server.fail(nvd, 2, &[500; 12]);
    let app = syncing_app(&server).await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let alerts = || async {
        vulntrack_store::operator::instance_alerts(app.db.conn(), 100)
            .await
            .expect("alerts")
            .into_iter()
            .filter(|a| a.rule == "CVE_SYNC_FAILING")
            .count()
    };

    let start = chrono::Utc::now();
    for day in 0..3 {
        let when = start + chrono::Duration::hours(25 * day);
        vulntrack::jobs::run_due(&app.state, "node-a", when).await.expect("jobs");
        let state = vulntrack_store::cves::source(app.db.conn(), "nvd").await.expect("state");
        assert_eq!(state.consecutive_failures, i32::try_from(day + 1).expect("small"));
        assert!(
            state.last_error.as_deref().is_some_and(|e| e.contains("answered 500") && e.contains("after 4 attempts")),
            "{state:?}"
        );
        // Page 1 was fetched, but nothing of the NVD was written.
        let log4j = cve(&app, &admin, "CVE-2021-44228").await;
        assert_eq!(log4j["description"], Value::Null, "no half-applied update: {log4j}");
        assert_eq!(log4j["kev"]["date_added"], "2021-12-10", "the other feeds synced");
        assert_eq!(alerts().await, usize::from(day == 2), "the alert comes with the third failure");
    }
    let kev_state = vulntrack_store::cves::source(app.db.conn(), "kev").await.expect("state");
    assert_eq!(kev_state.consecutive_failures, 0);

    // The server recovers: the next sync applies both pages and clears the count.
    let when = start + chrono::Duration::hours(100);
    vulntrack::jobs::run_due(&app.state, "node-a", when).await.expect("jobs");
    assert!(cve(&app, &admin, "CVE-2021-44228").await["description"].is_string());
    let state = vulntrack_store::cves::source(app.db.conn(), "nvd").await.expect("state");
    assert_eq!((state.consecutive_failures, state.last_error), (0, None));
    assert_eq!(alerts().await, 1, "no second alert");
}

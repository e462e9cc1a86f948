//! Scanner imports through the API and the command line: every report of
//! the shared corpus, deduplication and reimport, who may import, what is
//! audited, and the refusals of bad, oversized and hostile uploads.

use axum::http::StatusCode;
use serde_json::{Value, json};
use vulntrack_scanners::corpus::{self, Observed};

use crate::{
    cli::run,
    support::{As, PASSWORD, TEST_SECRET, TestApp, other_team_admin},
};

const ADMIN: &str = "admin@example.com";

/// Uploads `data` as `file_name` with `fields`.
async fn import(
    app: &TestApp,
    cookie: &str,
    fields: &[(&str, &str)],
    file_name: &str,
    data: &[u8],
) -> crate::support::TestResponse {
    app.upload("/api/v1/imports", As::Cookie(cookie), fields, Some((file_name, data))).await
}

/// The first record an import created on `asset`, as the API shows it.
async fn first_on(app: &TestApp, cookie: &str, asset: &str) -> Value {
    let listed =
        app.get_as(&format!("/api/v1/vulnerabilities?asset={asset}&sort=created&limit=1"), As::Cookie(cookie)).await;
    assert_eq!(listed.status, StatusCode::OK, "{listed:?}");
    listed.body["items"][0].clone()
}

fn observed(record: &Value) -> Observed<'_> {
    Observed {
        title: record["title"].as_str().unwrap_or_default(),
        severity: record["severity"].as_str(),
        cve_id: record["cve_id"].as_str(),
        rule_id: record["rule_id"].as_str(),
        component_name: record["component"]["name"].as_str(),
        component_version: record["component"]["version"].as_str(),
        file: record["location"]["file"].as_str(),
        line: record["location"]["line"].as_u64(),
        cwe_ids: record["cwe_ids"]
            .as_array()
            .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default(),
    }
}

/// The manifest's first-finding fields that `record` does not have.
fn field_failures(entry: &corpus::Entry, record: &Value) -> Vec<String> {
    entry
        .fields
        .iter()
        .filter_map(|(key, value)| corpus::check(key, value, &observed(record)).err())
        .map(|why| format!("{}: {why}", entry.file))
        .collect()
}

/// Acceptance 1: each report of the corpus imports through the API onto
/// its own asset and through `vulntrack import --json`, giving the
/// manifest's number of findings and the first finding's fields.
#[tokio::test]
async fn every_corpus_report_imports_through_the_api_and_the_cli_with_the_manifest_findings() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let entries = corpus::entries();
    assert_eq!(entries.len(), 82, "the manifest lists every report");
    let url = app.test_db.url.expose().to_string();
    let vars = [("DATABASE_URL", url.as_str()), ("VULNTRACK_SECRET", TEST_SECRET)];
    let mut failures = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let data = std::fs::read(corpus::dir().join(&entry.file)).expect("the report");
        let name = entry.file.rsplit('/').next().unwrap_or("report");

        let asset = format!("api-{index}");
        let answer = import(&app, &admin, &[("format", &entry.format), ("asset", &asset)], name, &data).await;
        if answer.status != StatusCode::CREATED {
            failures.push(format!("{} through the API: {answer:?}", entry.file));
            continue;
        }
        let body = &answer.body;
        if (body["total"].as_u64(), body["created"].as_u64())
            != (Some(entry.findings as u64), Some(entry.findings as u64))
        {
            failures.push(format!(
                "{}: the API created {} of {} findings, expected {}",
                entry.file, body["created"], body["total"], entry.findings
            ));
        }
        if entry.findings > 0 {
            failures.extend(field_failures(entry, &first_on(&app, &admin, &asset).await));
        }

        let asset = format!("cli-{index}");
        let path = corpus::dir().join(&entry.file);
        let args = [
            "import",
            "--team",
            "Blue Team",
            "--asset",
            &asset,
            "--format",
            &entry.format,
            "--json",
            path.to_str().expect("path"),
        ];
        let output = run(app.test_db.dir.path(), &args, &vars).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            failures.push(format!("{} through the CLI: {}", entry.file, String::from_utf8_lossy(&output.stderr)));
            continue;
        }
        let line: Value =
            serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("one JSON line, got {stdout:?}: {e}"));
        if line["total"].as_u64() != Some(entry.findings as u64) || line["created"] != body["created"] {
            failures.push(format!("{}: the CLI said {line}", entry.file));
        }
        if entry.findings > 0 {
            failures.extend(field_failures(entry, &first_on(&app, &admin, &asset).await));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// A Trivy report of `packages` (name, version, CVE).
pub fn trivy(packages: &[(&str, &str, &str)]) -> Vec<u8> {
    let vulnerabilities: Vec<Value> = packages
        .iter()
        .map(|(name, version, cve)| {
            json!({
                "VulnerabilityID": cve, "PkgName": name, "InstalledVersion": version, "FixedVersion": "9.9.9",
                "Severity": "HIGH", "Title": format!("{cve} in {name}"), "Description": "A flaw in the package lets an attacker in.",
            })
        })
        .collect();
    serde_json::to_vec(&json!({
        "SchemaVersion": 2, "ArtifactName": "registry.example.com/shop:1.4", "ArtifactType": "container_image",
        "Results": [{ "Target": "registry.example.com/shop:1.4 (alpine 3.19)", "Class": "os-pkgs", "Type": "alpine", "Vulnerabilities": vulnerabilities }]
    }))
    .expect("json")
}

pub const PACKAGES: [(&str, &str, &str); 5] = [
    ("openssl", "3.1.4-r0", "CVE-2024-0001"),
    ("zlib", "1.3-r0", "CVE-2024-0002"),
    ("busybox", "1.36.1-r5", "CVE-2024-0003"),
    ("curl", "8.5.0-r0", "CVE-2024-0004"),
    ("musl", "1.2.4-r2", "CVE-2024-0005"),
];

async fn record(app: &TestApp, cookie: &str, cve: &str) -> Value {
    let found = app.get_as(&format!("/api/v1/vulnerabilities?q={cve}&asset=shop"), As::Cookie(cookie)).await;
    let items = found.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "one record of {cve}: {found:?}");
    items[0].clone()
}

fn counts(body: &Value) -> [u64; 5] {
    ["created", "updated", "unchanged", "reopened", "closed"].map(|k| body[k].as_u64().unwrap_or(u64::MAX))
}

/// Acceptance 2: the same report twice creates nothing the second time;
/// a report without two findings closes exactly those; with them again
/// reopens them; a person's status, assignee and severity survive it all,
/// and a record a person closed as not applicable is never reopened.
#[tokio::test]
async fn reimports_deduplicate_close_what_is_gone_and_reopen_what_returns_keeping_triage() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let fields = [("asset", "shop")];
    let first = import(&app, &admin, &fields, "trivy.json", &trivy(&PACKAGES)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_eq!(counts(&first.body), [5, 0, 0, 0, 0]);
    assert_eq!((first.body["format"].as_str(), first.body["total"].as_u64()), (Some("trivy"), Some(5)));
    let before = record(&app, &admin, "CVE-2024-0003").await;
    let again = import(&app, &admin, &fields, "trivy.json", &trivy(&PACKAGES)).await;
    assert_eq!(counts(&again.body), [0, 0, 5, 0, 0], "{again:?}");
    // Seen again unchanged: last seen moves on; the record itself (its
    // version, first sighting) does not change.
    let after = record(&app, &admin, "CVE-2024-0003").await;
    let seen =
        |v: &Value, field: &str| v[field].as_str().expect(field).parse::<chrono::DateTime<chrono::Utc>>().expect(field);
    assert!(seen(&after, "last_seen_at") > seen(&before, "last_seen_at"), "{before} {after}");
    assert_eq!(after["first_seen_at"], before["first_seen_at"]);
    assert_eq!(after["version"], before["version"], "an unchanged finding is not rewritten");
    let total = app.get_as("/api/v1/vulnerabilities/stats", As::Cookie(&admin)).await.body["total"].as_u64();
    assert_eq!(total, Some(5), "never a second record");

    // A person triages: openssl in progress, assigned, severity raised;
    // zlib closed by a person (not applicable here).
    let me = app.get_as("/api/v1/me", As::Cookie(&admin)).await.body["id"].clone();
    let openssl = record(&app, &admin, "CVE-2024-0001").await;
    let changed = app
        .patch(
            &format!("/api/v1/vulnerabilities/{}", openssl["id"].as_str().expect("id")),
            As::Cookie(&admin),
            json!({ "status": "IN_PROGRESS", "assignee_id": me, "severity": "CRITICAL" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    let zlib = record(&app, &admin, "CVE-2024-0002").await;
    let closed = app
        .patch(
            &format!("/api/v1/vulnerabilities/{}", zlib["id"].as_str().expect("id")),
            As::Cookie(&admin),
            json!({ "status": "CLOSED", "resolution": "NOT_APPLICABLE", "resolution_note": "Not in the image." }),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{closed:?}");

    // curl and musl are fixed: the next complete report lists neither.
    let fewer = import(&app, &admin, &fields, "trivy.json", &trivy(&PACKAGES[..3])).await;
    assert_eq!(counts(&fewer.body), [0, 0, 3, 0, 2], "{fewer:?}");
    for cve in ["CVE-2024-0004", "CVE-2024-0005"] {
        let gone = record(&app, &admin, cve).await;
        assert_eq!((gone["status"].as_str(), gone["resolution"].as_str()), (Some("RESOLVED"), Some("FIXED")), "{cve}");
    }
    let openssl = record(&app, &admin, "CVE-2024-0001").await;
    assert_eq!((openssl["status"].as_str(), openssl["severity"].as_str()), (Some("IN_PROGRESS"), Some("CRITICAL")));
    assert_eq!(openssl["assignee_id"], me);

    // They come back (and zlib is still there): the two reopen, zlib stays closed.
    let all = import(&app, &admin, &fields, "trivy.json", &trivy(&PACKAGES)).await;
    assert_eq!(counts(&all.body), [0, 0, 3, 2, 0], "{all:?}");
    for cve in ["CVE-2024-0004", "CVE-2024-0005"] {
        let back = record(&app, &admin, cve).await;
        assert_eq!((back["status"].as_str(), &back["resolution"]), (Some("OPEN"), &Value::Null), "{cve} reopened");
    }
    let zlib = record(&app, &admin, "CVE-2024-0002").await;
    assert_eq!((zlib["status"].as_str(), zlib["resolution"].as_str()), (Some("CLOSED"), Some("NOT_APPLICABLE")));
    let openssl = record(&app, &admin, "CVE-2024-0001").await;
    assert_eq!((openssl["status"].as_str(), openssl["severity"].as_str()), (Some("IN_PROGRESS"), Some("CRITICAL")));
    assert_eq!(openssl["source"], "trivy");
    assert_eq!(openssl["component"]["name"], "openssl");
    assert_eq!(openssl["fixed_version"], "9.9.9");

    // A new fixed version is an update; a partial scan closes nothing.
    let mut newer = trivy(&PACKAGES[..1]);
    newer = String::from_utf8(newer).expect("utf8").replace("9.9.9", "3.1.5-r0").into_bytes();
    let partial = import(&app, &admin, &[("asset", "shop"), ("close_missing", "false")], "trivy.json", &newer).await;
    assert_eq!(counts(&partial.body), [0, 1, 0, 0, 0], "{partial:?}");
    assert_eq!(record(&app, &admin, "CVE-2024-0001").await["fixed_version"], "3.1.5-r0");

    // The history lists all five imports, newest first, with the file's hash.
    let history = app.get_as("/api/v1/imports?asset=shop", As::Cookie(&admin)).await;
    let items = history.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 5, "{history:?}");
    assert_eq!(items[0]["id"], partial.body["id"]);
    assert_eq!(items[4]["sha256"].as_str().map(str::len), Some(64));
    let shown =
        app.get_as(&format!("/api/v1/imports/{}", first.body["id"].as_str().expect("id")), As::Cookie(&admin)).await;
    assert_eq!(shown.body["created"], 5);
}

async fn audit_rows(app: &TestApp, cookie: &str, action: &str) -> Vec<Value> {
    let audit = app.get_as(&format!("/api/v1/audit-logs?action={action}&limit=200"), As::Cookie(cookie)).await;
    audit.body["items"].as_array().cloned().unwrap_or_default()
}

/// Acceptance 3: VIEWERs may not import, another team's asset is not
/// found, and each import is one audit row plus one per record it
/// reopened or closed; the asset's owner hears of it.
#[tokio::test]
async fn imports_are_for_analysts_kept_to_their_team_and_audited_once_plus_each_automatic_change() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let viewer = app.add_member(&admin, "viewer@example.com", "VIEWER").await;
    let analyst = app.add_member(&admin, "analyst@example.com", "ANALYST").await;
    let report = trivy(&PACKAGES);

    let refused = import(&app, &viewer, &[("asset", "shop")], "trivy.json", &report).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    let owner = app.get_as("/api/v1/me", As::Cookie(&admin)).await.body["id"].clone();
    let asset = app.post("/api/v1/assets", As::Cookie(&admin), json!({ "name": "shop", "owner_id": owner })).await;
    let asset_id = asset.body["id"].as_str().expect("asset id").to_string();
    let red = other_team_admin(&app, "red@example.com").await;
    let theirs = import(&app, &red, &[("asset", &asset_id)], "trivy.json", &report).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "another team's asset id: {theirs:?}");
    let not_theirs = app.get_as("/api/v1/imports", As::Cookie(&red)).await;
    assert_eq!(not_theirs.body["items"], json!([]));

    let first = import(&app, &analyst, &[("asset", &asset_id)], "trivy.json", &report).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    let viewed =
        app.get_as(&format!("/api/v1/imports/{}", first.body["id"].as_str().expect("id")), As::Cookie(&viewer)).await;
    assert_eq!(viewed.status, StatusCode::OK, "a VIEWER reads the history");
    let hidden =
        app.get_as(&format!("/api/v1/imports/{}", first.body["id"].as_str().expect("id")), As::Cookie(&red)).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let musl = record(&app, &admin, "CVE-2024-0005").await;
    let assigned = app
        .patch(
            &format!("/api/v1/vulnerabilities/{}", musl["id"].as_str().expect("id")),
            As::Cookie(&admin),
            json!({ "assignee_id": owner }),
        )
        .await;
    assert_eq!(assigned.status, StatusCode::OK, "{assigned:?}");
    import(&app, &analyst, &[("asset", &asset_id)], "trivy.json", &trivy(&PACKAGES[..2])).await;
    import(&app, &analyst, &[("asset", &asset_id)], "trivy.json", &report).await;

    let completed = audit_rows(&app, &admin, "IMPORT_COMPLETED").await;
    assert_eq!(completed.len(), 3, "one row per import");
    assert_eq!(completed[2]["details"]["created"], 5);
    assert_eq!(completed[1]["details"]["closed"], 3);
    let automatic = audit_rows(&app, &admin, "VULNERABILITY_STATUS_CHANGED").await;
    assert_eq!(automatic.len(), 6, "three closed, three reopened: {automatic:?}");
    assert!(automatic.iter().all(|row| row["actor"]["email"] == "analyst@example.com"));
    assert!(
        audit_rows(&app, &admin, "VULNERABILITY_CREATED").await.is_empty(),
        "the import row covers what it created"
    );

    let inbox = app.get_as("/api/v1/notifications", As::Cookie(&admin)).await;
    let messages: Vec<&str> =
        inbox.body["items"].as_array().expect("items").iter().filter_map(|n| n["message"].as_str()).collect();
    assert_eq!(messages.iter().filter(|m| m.contains("import on shop")).count(), 3, "{messages:?}");
    let reopened = format!("{} was reported again by an import and reopened", musl["key"].as_str().expect("key"));
    assert!(messages.iter().any(|m| m.contains(&reopened)), "the assignee hears of the reopening: {messages:?}");
}

fn problem_text(body: &Value) -> String {
    body.to_string()
}

/// A malformed, mismatched, unknown, hostile or oversized upload is refused
/// with a clear problem (the line for a malformed file) and writes nothing.
#[tokio::test]
async fn bad_uploads_are_refused_clearly_and_write_nothing() {
    let app = TestApp::spawn_with(|config| config.import_max_bytes = 64 * 1024).await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let asset = [("asset", "shop")];

    let broken = import(
        &app,
        &admin,
        &[("asset", "shop"), ("format", "trivy")],
        "t.json",
        b"{\n  \"SchemaVersion\": 2,\n  \"Results\": [\n}",
    )
    .await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY, "{broken:?}");
    assert_eq!(broken.body["errors"][0]["field"], "file");
    assert!(problem_text(&broken.body).contains("line 4"), "{broken:?}");

    let grype = std::fs::read(corpus::dir().join("grype/many_vulns4.json")).expect("grype");
    let mismatch = import(&app, &admin, &[("asset", "shop"), ("format", "trivy")], "g.json", &grype).await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY, "{mismatch:?}");
    let text = problem_text(&mismatch.body);
    assert!(text.contains("expected a trivy report") && text.contains("found a grype report"), "{text}");

    let unknown = import(&app, &admin, &asset, "page.html", b"<html><body>not a report</body></html>").await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem_text(&unknown.body).contains("could not be detected"), "{unknown:?}");

    let xxe = b"<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<OWASPZAPReport><site>&x;</site></OWASPZAPReport>";
    let refused = import(&app, &admin, &[("asset", "shop"), ("format", "zap")], "zap.xml", xxe).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{refused:?}");
    assert!(problem_text(&refused.body).contains("declares entities"), "{refused:?}");
    assert!(!problem_text(&refused.body).contains("root:"), "nothing of the file leaks");

    let big = vec![b' '; 70 * 1024];
    let oversized = import(&app, &admin, &asset, "big.json", &big).await;
    assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE, "{oversized:?}");
    let bomb = {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b' '; 16 << 20]).expect("gzip");
        encoder.finish().expect("gzip")
    };
    assert!(bomb.len() < 64 * 1024, "the bomb itself is small: {}", bomb.len());
    let exploded = import(&app, &admin, &asset, "bomb.json.gz", &bomb).await;
    assert_eq!(exploded.status, StatusCode::PAYLOAD_TOO_LARGE, "{exploded:?}");

    let missing = app.upload("/api/v1/imports", As::Cookie(&admin), &[("format", "excel")], None).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        missing.body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["format", "asset", "file"], "{missing:?}");

    let history = app.get_as("/api/v1/imports", As::Cookie(&admin)).await;
    assert_eq!(history.body["items"], json!([]), "nothing was imported");
    let total = app.get_as("/api/v1/vulnerabilities/stats", As::Cookie(&admin)).await.body["total"].as_u64();
    assert_eq!(total, Some(0));
    let assets = app.get_as("/api/v1/assets", As::Cookie(&admin)).await;
    assert_eq!(assets.body["items"], json!([]), "not even the asset");
}

/// A gzip or a zip of one report imports like the report itself.
#[tokio::test]
async fn compressed_reports_import_like_the_report() {
    use std::io::Write;
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let report = trivy(&PACKAGES);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&report).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let answer = import(&app, &admin, &[("asset", "shop")], "trivy.json.gz", &gz).await;
    assert_eq!((answer.status, answer.body["created"].as_u64()), (StatusCode::CREATED, Some(5)), "{answer:?}");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("trivy.json", zip::write::SimpleFileOptions::default()).expect("zip");
    zip.write_all(&report).expect("zip");
    let zip = zip.finish().expect("zip").into_inner();
    let answer = import(&app, &admin, &[("asset", "shop")], "trivy.zip", &zip).await;
    assert_eq!((answer.status, answer.body["unchanged"].as_u64()), (StatusCode::CREATED, Some(5)), "{answer:?}");
}

/// The `/imports` page imports through the same service: an upload lands
/// on the import's page, listed in the history and on the asset's page; a
/// bad upload comes back as a form message; a VIEWER has no form.
#[tokio::test]
async fn the_imports_page_uploads_lists_and_explains_refusals() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let viewer = app.add_member(&admin, "viewer@example.com", "VIEWER").await;
    let report = trivy(&PACKAGES);
    let done = app
        .upload(
            "/imports",
            As::Cookie(&admin),
            &[("asset", "shop"), ("format", "auto"), ("close_missing", "true")],
            Some(("shop.json", &report)),
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{done:?}");
    let location = done.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(location.starts_with("/imports/"), "{location}");
    let page = app.get_as(&location, As::Cookie(&admin)).await;
    let html = page.body.as_str().unwrap_or_default();
    assert!(html.contains("shop.json") && html.contains("CVE-2024-0003 in busybox"), "{html}");
    let history = app.get_as("/imports", As::Cookie(&admin)).await;
    assert!(history.body.as_str().unwrap_or_default().contains(&location), "the history links the import");
    let asset = app.get_as("/assets/shop", As::Cookie(&admin)).await;
    assert!(asset.body.as_str().unwrap_or_default().contains(&location), "the asset's page lists the import");

    let refused = app
        .upload("/imports", As::Cookie(&admin), &[("asset", "shop"), ("format", "grype")], Some(("shop.json", &report)))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.body.as_str().unwrap_or_default();
    assert!(
        html.contains("expected a grype report") && html.contains("value=\"shop\""),
        "a message, the form kept: {html}"
    );

    let as_viewer = app.get_as("/imports", As::Cookie(&viewer)).await;
    assert_eq!(as_viewer.status, StatusCode::OK);
    assert!(
        !as_viewer.body.as_str().unwrap_or_default().contains("enctype=\"multipart/form-data\""),
        "no form for a VIEWER"
    );
    let forbidden =
        app.upload("/imports", As::Cookie(&viewer), &[("asset", "shop")], Some(("shop.json", &report))).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
}

/// `vulntrack import`: a summary line per file, exit 1 when one of several
/// files fails (the others still import), exit 2 for bad arguments, one
/// line of error each, never a trace.
#[tokio::test]
async fn the_import_command_reports_each_file_and_exits_by_what_failed() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let dir = app.test_db.dir.path();
    std::fs::write(dir.join("good.json"), trivy(&PACKAGES)).expect("report");
    std::fs::write(dir.join("broken.json"), b"{\"SchemaVersion\": 2, \"Results\": [").expect("report");
    let url = app.test_db.url.expose().to_string();
    let vars = [("DATABASE_URL", url.as_str()), ("VULNTRACK_SECRET", TEST_SECRET)];

    let both = run(dir, &["import", "--team", "Blue Team", "--asset", "shop", "broken.json", "good.json"], &vars).await;
    assert_eq!(both.status.code(), Some(1), "one file failed");
    let stdout = String::from_utf8_lossy(&both.stdout);
    assert!(stdout.contains("good.json: trivy") && stdout.contains("5 created"), "{stdout}");
    let stderr = String::from_utf8_lossy(&both.stderr);
    assert!(
        stderr.contains("error: broken.json: file: not a valid trivy report") && stderr.contains("line 1"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let history = app.get_as("/api/v1/imports", As::Cookie(&admin)).await;
    assert_eq!(history.body["items"].as_array().map(Vec::len), Some(1), "the good file imported");
    assert_eq!(history.body["items"][0]["actor_kind"], "CLI");
    // The file is read as it is parsed: its digest is still that of every
    // byte, and a compressed file imports as its report does.
    use sha2::Digest;
    let good = std::fs::read(dir.join("good.json")).expect("report");
    assert_eq!(history.body["items"][0]["sha256"], hex::encode(sha2::Sha256::digest(&good)));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &good).expect("compress");
    std::fs::write(dir.join("good.json.gz"), gz.finish().expect("compress")).expect("report");
    let packed = run(dir, &["import", "--team", "Blue Team", "--asset", "packed", "good.json.gz"], &vars).await;
    assert_eq!(packed.status.code(), Some(0), "{}", String::from_utf8_lossy(&packed.stderr));
    assert!(String::from_utf8_lossy(&packed.stdout).contains("5 created"), "{packed:?}");

    for (args, needle) in [
        (vec!["import", "--team", "Blue Team", "--asset", "shop", "--format", "excel", "good.json"], "unknown format"),
        (vec!["import", "--team", "No Such Team", "--asset", "shop", "good.json"], "no team is named"),
        (
            vec!["import", "--team", "Blue Team", "--asset", "shop", "--minimum-severity", "huge", "good.json"],
            "minimum_severity",
        ),
    ] {
        let output = run(dir, &args, &vars).await;
        crate::cli::assert_one_line_error(&output, 2, needle);
    }
    let missing = run(dir, &["import", "--team", "Blue Team", "good.json"], &vars).await;
    assert_eq!(missing.status.code(), Some(2), "clap refuses a missing --asset");
}

/// A person records the scanner's fields of a finding by hand (a pentest
/// finding at a URL, a vulnerable package): validated field by field,
/// changed and cleared by PATCH, audited, shown on the detail page; a
/// typed record's `source` is `manual`.
#[tokio::test]
async fn a_person_sets_the_scanner_fields_of_a_record_by_hand() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let body = json!({
        "title": "Reflected XSS in search", "description": "The q parameter is echoed unescaped.", "severity": "HIGH",
        "rule_id": "pentest-2026-07", "cwe_ids": [79],
        "location": { "url": "https://shop.example.com/search?q=x", "host": "shop.example.com", "port": 443, "protocol": "tcp" },
        "component": { "name": "search-ui", "version": "3.2.0" }, "fixed_version": "3.2.1",
    });
    let created = app.post("/api/v1/vulnerabilities", As::Cookie(&admin), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let record = &created.body;
    assert_eq!((record["source"].as_str(), record["rule_id"].as_str()), (Some("manual"), Some("pentest-2026-07")));
    assert_eq!(record["cwe_ids"], json!([79]));
    assert_eq!(record["location"]["port"], 443);
    assert_eq!(record["component"]["version"], "3.2.0");
    let page = app.get_as("/vulnerabilities/VT-1", As::Cookie(&admin)).await;
    let html = page.body.as_str().unwrap_or_default();
    assert!(html.contains("CWE-79") && html.contains("https://shop.example.com/search?q=x"), "shown: {html}");

    let bad = app
        .post(
            "/api/v1/vulnerabilities",
            As::Cookie(&admin),
            json!({ "title": "", "description": "short", "cwe_ids": ["x"], "location": { "url": "javascript:alert(1)", "port": 0 }, "component": { "purl": "lodash" } }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        bad.body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    for field in
        ["title", "description", "cwe_ids[0]", "location.url", "location.port", "component.name", "component.purl"]
    {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }

    let changed = app
        .patch(
            "/api/v1/vulnerabilities/VT-1",
            As::Cookie(&admin),
            json!({ "location": null, "fixed_version": "3.3.0" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    assert_eq!(
        (changed.body["location"].clone(), changed.body["fixed_version"].as_str()),
        (Value::Null, Some("3.3.0"))
    );
    assert_eq!(changed.body["rule_id"], "pentest-2026-07", "fields not sent stay");
    let audit = audit_rows(&app, &admin, "VULNERABILITY_UPDATED").await;
    assert_eq!(audit[0]["details"]["fixed_version"], json!({ "before": "3.2.1", "after": "3.3.0" }), "{audit:?}");
    assert!(audit[0]["details"]["location"]["before"].is_object());
}

/// A report larger than the service's write batch (5 000 new records per
/// call of the store): every finding is written once, numbered in the
/// report's order across the batches, and a reimport of part of it
/// compares against all of them.
#[tokio::test]
async fn a_report_larger_than_a_write_batch_imports_whole_and_in_order() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let owned: Vec<(String, String, String)> =
        (0..5_600).map(|i| (format!("pkg{i}"), format!("1.{i}.0"), format!("CVE-2025-{}", 10_000 + i))).collect();
    let packages: Vec<(&str, &str, &str)> =
        owned.iter().map(|(n, v, c)| (n.as_str(), v.as_str(), c.as_str())).collect();
    let fields = [("asset", "fleet")];
    let first = import(&app, &admin, &fields, "trivy.json", &trivy(&packages)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_eq!(counts(&first.body), [5_600, 0, 0, 0, 0]);
    let total = app.get_as("/api/v1/vulnerabilities/stats", As::Cookie(&admin)).await.body["total"].as_u64();
    assert_eq!(total, Some(5_600), "one record per finding");
    let last = app.get_as("/api/v1/vulnerabilities?q=CVE-2025-15599", As::Cookie(&admin)).await;
    assert_eq!(last.body["items"][0]["key"], "VT-5600", "numbered in the report's order: {:?}", last.body);
    let again = import(&app, &admin, &fields, "trivy.json", &trivy(&packages[..5_550])).await;
    assert_eq!(counts(&again.body), [0, 0, 5_550, 0, 50], "{again:?}");
}

/// Only a fix regresses: a reimport reopens a FIXED record (closed by a
/// person or by an import alike) and leaves every other resolution a
/// person chose as it is.
#[tokio::test]
async fn a_reimport_reopens_only_what_was_fixed() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let fields = [("asset", "shop")];
    let first = import(&app, &admin, &fields, "trivy.json", &trivy(&PACKAGES)).await;
    assert_eq!(counts(&first.body), [5, 0, 0, 0, 0], "{first:?}");
    // An imported finding is due by its severity's SLA from when it was first seen.
    for cve in ["CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003", "CVE-2024-0004", "CVE-2024-0005"] {
        let found = record(&app, &admin, cve).await;
        let days = match found["severity"].as_str() {
            Some("CRITICAL") => Some(7),
            Some("HIGH") => Some(30),
            Some("MEDIUM") => Some(90),
            Some("LOW") => Some(180),
            _ => None,
        };
        let time =
            |field: &str| found[field].as_str().map(|t| t.parse::<chrono::DateTime<chrono::Utc>>().expect(field));
        let due = days.and_then(|d| time("first_seen_at").map(|seen| seen + chrono::Duration::days(d)));
        assert_eq!(time("due_at"), due, "{cve}: {found}");
    }
    let original = record(&app, &admin, "CVE-2024-0001").await["id"].clone();
    let decisions = [
        ("CVE-2024-0001", json!({ "status": "RESOLVED", "resolution": "FALSE_POSITIVE" })),
        ("CVE-2024-0002", json!({ "status": "CLOSED", "resolution": "WONT_FIX", "resolution_note": "End of life." })),
        ("CVE-2024-0003", json!({ "status": "RESOLVED", "resolution": "DUPLICATE", "duplicate_of": original })),
        (
            "CVE-2024-0004",
            json!({ "status": "RESOLVED", "resolution": "RISK_ACCEPTED", "resolution_note": "Internal network only.",
                    "risk_accepted_until": in_days(30) }),
        ),
        ("CVE-2024-0005", json!({ "status": "CLOSED", "resolution": "FIXED" })),
    ];
    for (cve, body) in &decisions {
        let id = record(&app, &admin, cve).await["id"].as_str().expect("id").to_owned();
        let decided = app.patch(&format!("/api/v1/vulnerabilities/{id}"), As::Cookie(&admin), body.clone()).await;
        assert_eq!(decided.status, StatusCode::OK, "{cve}: {decided:?}");
    }
    let again = import(&app, &admin, &fields, "trivy.json", &trivy(&PACKAGES)).await;
    assert_eq!(counts(&again.body), [0, 0, 4, 1, 0], "{again:?}");
    for (cve, body) in &decisions[..4] {
        let kept = record(&app, &admin, cve).await;
        assert_eq!((&kept["status"], &kept["resolution"]), (&body["status"], &body["resolution"]), "{cve} stays");
    }
    let fixed = record(&app, &admin, "CVE-2024-0005").await;
    assert_eq!((fixed["status"].as_str(), &fixed["resolution"]), (Some("OPEN"), &Value::Null), "a fix regressed");

    // The acceptance runs out (its last day was yesterday): the next scan
    // that still finds it reopens it.
    let accepted = record(&app, &admin, "CVE-2024-0004").await;
    let id = uuid::Uuid::parse_str(accepted["id"].as_str().expect("id")).expect("uuid");
    let yesterday = chrono::Utc::now().date_naive() - chrono::Days::new(1);
    expire_acceptance(&app, id, yesterday).await;
    let after_expiry = import(&app, &admin, &fields, "trivy.json", &trivy(&PACKAGES)).await;
    assert_eq!(counts(&after_expiry.body), [0, 0, 4, 1, 0], "{after_expiry:?}");
    let reopened = record(&app, &admin, "CVE-2024-0004").await;
    assert_eq!(
        (reopened["status"].as_str(), &reopened["resolution"], &reopened["risk_accepted_until"]),
        (Some("OPEN"), &Value::Null, &Value::Null)
    );
}

/// `YYYY-MM-DD`, `days` from today.
fn in_days(days: u64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(days)).to_string()
}

/// Moves an acceptance's last day into the past, as time would (the API
/// only takes days ahead).
async fn expire_acceptance(app: &TestApp, id: uuid::Uuid, last_day: chrono::NaiveDate) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = app.db.conn();
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => "UPDATE vulnerabilities SET risk_accepted_until = $1 WHERE id = $2",
        _ => "UPDATE vulnerabilities SET risk_accepted_until = ? WHERE id = ?",
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [last_day.into(), id.into()])).await.expect("expire");
}

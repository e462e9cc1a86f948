//! Exporting the register (`GET /api/v1/vulnerabilities/export`): each
//! format's content, the list's filters and sort honoured, formulas
//! neutralised, the export audited, SARIF and CycloneDX valid against their
//! official schemas and imported again to the same findings.

use std::{
    collections::BTreeSet,
    io::Read,
    path::{Path, PathBuf},
};

use axum::http::StatusCode;
use serde_json::{Value, json};
use vulntrack_scanners::corpus;

use crate::support::{As, Needs, PASSWORD, TestApp, TestResponse, available, other_team_admin};

const ADMIN: &str = "admin@example.com";
const FORMULA_TITLE: &str = "=HYPERLINK(\"http://evil.example\",\"click\")";

/// The variable naming a folder with the official schemas
/// (`sarif-2.1.0-rtm.5.json`, `bom-1.6.SNAPSHOT.schema.json` and the two it
/// refers to); `.ci/run` fills it from the npm packages that ship them.
const SCHEMA_DIR_VAR: &str = "VULNTRACK_TEST_SCHEMA_DIR";
const SARIF_SCHEMA: &str = "sarif-2.1.0-rtm.5.json";
const CYCLONEDX_SCHEMA: &str = "bom-1.6.SNAPSHOT.schema.json";

async fn import(app: &TestApp, cookie: &str, asset: &str, format: &str, file: &str) {
    let data = std::fs::read(corpus::dir().join(file)).expect("the report");
    let name = file.rsplit('/').next().unwrap_or("report");
    let answer = app
        .upload("/api/v1/imports", As::Cookie(cookie), &[("format", format), ("asset", asset)], Some((name, &data)))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{file}: {answer:?}");
}

async fn export(app: &TestApp, cookie: &str, query: &str) -> TestResponse {
    let answer = app.get_as(&format!("/api/v1/vulnerabilities/export?{query}"), As::Cookie(cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{query}: {answer:?}");
    answer
}

fn total(answer: &TestResponse) -> u64 {
    answer.headers.get("x-total-count").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).expect("count")
}

/// Every record the list API shows for `query`, page by page.
async fn listed(app: &TestApp, cookie: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.get_as(&format!("/api/v1/vulnerabilities?{query}&limit=200{cursor}"), As::Cookie(cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        items.extend(page.body["items"].as_array().expect("items").iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return items,
        }
    }
}

fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().expect("headers").iter().map(str::to_owned).collect();
    let rows = reader.records().map(|r| r.expect("row").iter().map(str::to_owned).collect()).collect();
    (headers, rows)
}

fn column(headers: &[String], name: &str) -> usize {
    headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("column {name} in {headers:?}"))
}

/// The team: records typed by hand (one with a formula for a title, one
/// resolved as a false positive, a URL and a host location) and imported
/// reports with components and file locations; another team's record.
async fn register(app: &TestApp) -> String {
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let records = [
        json!({ "title": FORMULA_TITLE, "description": "A title a spreadsheet would run.", "severity": "HIGH",
                "tags": ["pci"], "location": { "url": "https://shop.example/login" } }),
        json!({ "title": "Weak TLS on the mail relay", "description": "TLS 1.0 is still offered.", "severity": "LOW",
                "cvss_vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N",
                "location": { "host": "10.0.0.25", "port": 25, "protocol": "tcp" } }),
        json!({ "title": "Debug endpoint exposed", "description": "The actuator answers without a password.",
                "severity": "CRITICAL", "cwe_ids": [200], "status": "CLOSED", "resolution": "FALSE_POSITIVE",
                "resolution_note": "Only on the lab network" }),
    ];
    for record in records {
        let created = app.post("/api/v1/vulnerabilities", As::Cookie(&admin), record).await;
        assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    }
    import(app, &admin, "web-01", "trivy", "trivy/scheme_2_many_vulns.json").await;
    import(app, &admin, "web-01", "sarif", "sarif/mobsfscan.json").await;
    import(app, &admin, "api-01", "grype", "grype/many_vulns4.json").await;
    let other = other_team_admin(app, "other@example.com").await;
    let theirs = app
        .post(
            "/api/v1/vulnerabilities",
            As::Cookie(&other),
            json!({ "title": "Another team's secret finding", "description": "Not for Blue Team's eyes.", "severity": "HIGH" }),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    admin
}

#[tokio::test]
async fn the_register_exports_in_every_format_with_the_lists_filters_and_sort() {
    let app = TestApp::spawn().await;
    let admin = register(&app).await;
    let all = listed(&app, &admin, "sort=-cvss").await;

    // CSV: every record, the list's sort, the formula neutralised, nobody else's.
    let csv = export(&app, &admin, "format=csv&sort=-cvss").await;
    assert!(csv.content_type.starts_with("text/csv"), "{csv:?}");
    let disposition = csv.headers.get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(disposition.starts_with("attachment") && disposition.contains(".csv"), "{disposition}");
    let (headers, rows) = csv_rows(&csv.bytes);
    assert_eq!(total(&csv), all.len() as u64);
    let keys: Vec<&str> = rows.iter().map(|r| r[column(&headers, "Key")].as_str()).collect();
    let expected: Vec<&str> = all.iter().map(|r| r["key"].as_str().expect("key")).collect();
    assert_eq!(keys, expected, "the list's records in the list's order");
    let titles: Vec<&str> = rows.iter().map(|r| r[column(&headers, "Title")].as_str()).collect();
    assert!(titles.contains(&format!("'{FORMULA_TITLE}").as_str()), "{titles:?}");
    assert!(!titles.iter().any(|t| t.starts_with('=')), "no cell opens with a formula: {titles:?}");
    assert!(!titles.contains(&"Another team's secret finding"));
    let locations: Vec<&str> = rows.iter().map(|r| r[column(&headers, "Location")].as_str()).collect();
    assert!(locations.contains(&"10.0.0.25:25/tcp") && locations.contains(&"https://shop.example/login"));
    assert!(locations.iter().any(|l| l.contains(".java:") || l.contains(".py:") || l.contains(':')), "{locations:?}");
    assert!(!csv.bytes.starts_with("\u{feff}".as_bytes()), "no byte order mark unless asked");

    // Filters: what the list shows for them, and a byte order mark for Excel.
    let high = export(&app, &admin, "format=csv&severity=HIGH&bom=true").await;
    assert!(high.bytes.starts_with("\u{feff}".as_bytes()), "the byte order mark Excel needs");
    let (headers, rows) = csv_rows(&high.bytes[3..]);
    let listed_high = listed(&app, &admin, "severity=HIGH").await;
    assert_eq!(rows.len(), listed_high.len());
    assert!(!rows.is_empty() && rows.iter().all(|r| r[column(&headers, "Severity")] == "HIGH"));
    let tagged = csv_rows(&export(&app, &admin, "format=csv&tag=pci").await.bytes).1;
    assert_eq!(tagged.len(), 1);
    let on_api = csv_rows(&export(&app, &admin, "format=csv&asset=api-01").await.bytes).1;
    assert_eq!(on_api.len(), listed(&app, &admin, "asset=api-01").await.len());

    // JSON Lines: each line the API's record.
    let jsonl = export(&app, &admin, "format=jsonl&sort=-cvss").await;
    assert_eq!(jsonl.content_type, "application/x-ndjson");
    let lines: Vec<Value> = String::from_utf8(jsonl.bytes.clone())
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), all.len());
    for (line, record) in lines.iter().zip(&all) {
        assert_eq!(line["key"], record["key"]);
        assert_eq!(line["title"], record["title"]);
        assert_eq!(line["component"], record["component"]);
    }

    // XLSX: a workbook whose cells hold the text, never a formula.
    let xlsx = export(&app, &admin, "format=xlsx").await;
    assert!(xlsx.content_type.contains("spreadsheetml"), "{xlsx:?}");
    let mut book = zip::ZipArchive::new(std::io::Cursor::new(xlsx.bytes.clone())).expect("an XLSX is a zip");
    let mut sheet = String::new();
    book.by_name("xl/worksheets/sheet1.xml").expect("the register's sheet").read_to_string(&mut sheet).expect("xml");
    assert_eq!(sheet.matches("<row ").count(), all.len() + 1, "a heading row and a row per record");
    assert!(!sheet.contains("<f>"), "no formula cell");
    assert!(sheet.contains(r#"t="inlineStr"><is><t>=HYPERLINK("http://evil.example""#), "the title, kept as text");
    let mut strings = String::new();
    if let Ok(mut shared) = book.by_name("xl/sharedStrings.xml") {
        shared.read_to_string(&mut strings).expect("xml");
    }
    assert!(!sheet.contains("Another team") && !strings.contains("Another team"));

    // SARIF and CycloneDX: parse, count.
    let sarif = export(&app, &admin, "format=sarif").await;
    assert_eq!(sarif.content_type, "application/sarif+json");
    let results = sarif.body["runs"][0]["results"].as_array().expect("results").len();
    assert_eq!(results, all.len());
    let vex = export(&app, &admin, "format=cyclonedx").await;
    let with_component = all.iter().filter(|r| !r["component"].is_null()).count();
    assert!(with_component > 0);
    assert_eq!(vex.body["vulnerabilities"].as_array().expect("vulnerabilities").len(), with_component);
    assert_eq!(total(&vex), with_component as u64, "VEX names only records found in a component");
    let refs: BTreeSet<&str> =
        vex.body["components"].as_array().expect("components").iter().filter_map(|c| c["bom-ref"].as_str()).collect();
    for entry in vex.body["vulnerabilities"].as_array().expect("vulnerabilities") {
        assert!(refs.contains(entry["affects"][0]["ref"].as_str().expect("ref")), "{entry}");
    }

    // Each export is audited with its format, filters and count.
    let log =
        app.get_as("/api/v1/audit-logs?action=DATA_EXPORTED&entity_type=vulnerabilities", As::Cookie(&admin)).await;
    let rows = log.body["items"].as_array().expect("audit rows");
    assert_eq!(rows.len(), 8, "one row per export: {rows:?}");
    let high_row = rows.iter().find(|r| r["details"]["filters"]["severity"] == "HIGH").expect("the HIGH export");
    assert_eq!(high_row["details"]["format"], "csv");
    assert_eq!(high_row["details"]["count"], listed_high.len());

    // Refusals: a bad format or filter is a field error; no session, no export.
    let bad = app.get_as("/api/v1/vulnerabilities/export?format=pdf&severity=SEVERE", As::Cookie(&admin)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    let fields: Vec<&str> =
        bad.body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert!(fields.contains(&"format") && fields.contains(&"severity"), "{fields:?}");
    assert_eq!(app.get("/api/v1/vulnerabilities/export?format=csv").await.status, StatusCode::UNAUTHORIZED);
    let viewer = app.add_member(&admin, "viewer@example.com", "VIEWER").await;
    let seen = export(&app, &viewer, "format=csv").await;
    assert_eq!(csv_rows(&seen.bytes).1.len(), all.len(), "a viewer exports what they can read");
}

/// Results without a `security-severity` band's worth of fields, or
/// components unresolved, would not survive the trip.
fn sarif_finding(record: &Value) -> Value {
    json!({
        "title": record["title"], "severity": record["severity"], "rule_id": record["rule_id"],
        "cve_id": record["cve_id"], "cwe_ids": record["cwe_ids"],
        "file": record["location"]["file"], "line": record["location"]["line"],
    })
}

fn vex_finding(record: &Value) -> Value {
    json!({
        "cve_id": record["cve_id"], "severity": record["severity"], "cvss_vector": record["cvss_vector"],
        "component": record["component"]["name"], "version": record["component"]["version"],
        "purl": record["component"]["purl"], "fixed_version": record["fixed_version"], "cwe_ids": record["cwe_ids"],
    })
}

fn sorted(mut values: Vec<Value>) -> Vec<Value> {
    values.sort_by_key(Value::to_string);
    values
}

#[tokio::test]
async fn sarif_and_cyclonedx_exports_import_again_to_the_same_findings() {
    let app = TestApp::spawn().await;
    let admin = register(&app).await;
    for (format, compare, filter) in [
        ("sarif", sarif_finding as fn(&Value) -> Value, "asset=web-01"),
        ("cyclonedx", vex_finding, "asset=web-01&asset=api-01"),
    ] {
        let originals = listed(&app, &admin, filter).await;
        let exported = export(&app, &admin, &format!("format={format}&{filter}")).await;
        let target = format!("again-{format}");
        let import_it = || async {
            let name = format!("export.{format}.json");
            let fields = [("format", format), ("asset", target.as_str())];
            app.upload("/api/v1/imports", As::Cookie(&admin), &fields, Some((&name, &exported.bytes))).await
        };
        let answer = import_it().await;
        assert_eq!(answer.status, StatusCode::CREATED, "{format}: {answer:?}");
        let again = listed(&app, &admin, &format!("asset={target}")).await;
        let expected: Vec<Value> =
            originals.iter().filter(|r| format == "sarif" || !r["component"].is_null()).map(compare).collect();
        assert!(!expected.is_empty());
        assert_eq!(answer.body["created"].as_u64(), Some(expected.len() as u64), "{format}: {answer:?}");
        assert_eq!(sorted(again.iter().map(compare).collect()), sorted(expected), "{format}: the same findings");
        if format == "sarif" {
            for record in &again {
                let place = |r: &Value| (r["title"].clone(), r["location"].clone());
                let original = originals.iter().find(|o| place(o) == place(record)).expect("its original");
                let description = original["description"].as_str().expect("description");
                let again = record["description"].as_str().expect("description");
                assert!(again.contains(description.trim()), "{again:?} holds {description:?}");
            }
        }
        // Importing the same export again finds nothing new.
        let repeat = import_it().await;
        assert_eq!(repeat.body["created"].as_u64(), Some(0), "{format}: {repeat:?}");
    }
}

/// Resolves the schemas' references to the files beside them.
struct SchemaFolder(PathBuf);

impl jsonschema::Retrieve for SchemaFolder {
    fn retrieve(&self, uri: &jsonschema::Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().rsplit('/').next().unwrap_or_default();
        Ok(serde_json::from_slice(&std::fs::read(self.0.join(name))?)?)
    }
}

fn fix_language_patterns(value: &mut Value) {
    const STRAY: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    match value {
        Value::String(text) if text == STRAY => *text = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".to_owned(),
        Value::Array(items) => items.iter_mut().for_each(fix_language_patterns),
        Value::Object(members) => members.values_mut().for_each(fix_language_patterns),
        _ => {}
    }
}

fn schema_errors(folder: &Path, schema: &str, document: &Value) -> Vec<String> {
    let mut schema: Value =
        serde_json::from_slice(&std::fs::read(folder.join(schema)).expect("the schema")).expect("json");
    // The SARIF 2.1.0 schema's pattern for `run.language` has a stray `]`
    // that an ECMA-262 regex refuses, so the schema fails its own
    // meta-schema; the pattern as the specification's text gives it
    // (a language tag such as `en-US`) stands in for it.
    fix_language_patterns(&mut schema);
    let validator = jsonschema::options()
        .with_retriever(SchemaFolder(folder.to_path_buf()))
        .build(&schema)
        .expect("the official schema compiles");
    validator.iter_errors(document).map(|e| format!("{e} at {}", e.instance_path())).collect()
}

#[tokio::test]
async fn exported_sarif_and_cyclonedx_validate_against_their_official_schemas() {
    let folder = std::env::var_os(SCHEMA_DIR_VAR).map(PathBuf::from).filter(|d| d.join(SARIF_SCHEMA).is_file());
    let Some(folder) =
        available(folder, Needs::Tool("the official SARIF and CycloneDX schemas (VULNTRACK_TEST_SCHEMA_DIR)"))
    else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = register(&app).await;
    let sarif = export(&app, &admin, "format=sarif").await;
    assert!(sarif.body["runs"][0]["results"].as_array().is_some_and(|r| r.len() > 20));
    assert_eq!(schema_errors(&folder, SARIF_SCHEMA, &sarif.body), Vec::<String>::new());
    let mut broken = sarif.body.clone();
    broken["runs"][0]["results"][0]["level"] = json!("severe");
    assert!(!schema_errors(&folder, SARIF_SCHEMA, &broken).is_empty(), "the SARIF validator refuses a bad level");
    let vex = export(&app, &admin, "format=cyclonedx").await;
    assert!(vex.body["vulnerabilities"].as_array().is_some_and(|v| v.len() > 10));
    assert_eq!(schema_errors(&folder, CYCLONEDX_SCHEMA, &vex.body), Vec::<String>::new());
    // The validator is not blind: a document the schema forbids fails.
    let mut broken = vex.body.clone();
    broken["vulnerabilities"][0]["analysis"]["state"] = json!("probably_fine");
    assert!(!schema_errors(&folder, CYCLONEDX_SCHEMA, &broken).is_empty());
}

#[tokio::test]
async fn the_list_pages_export_menu_downloads_what_the_list_shows() {
    let app = TestApp::spawn().await;
    let admin = register(&app).await;
    let page = crate::web::page(&app, "/vulnerabilities?severity=HIGH&sort=-cvss&limit=5", &admin).await;
    let html = page.body.as_str().expect("html");
    let links: Vec<String> = html
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with("/api/v1/vulnerabilities/export?"))
        .map(|href| href.replace("&#38;", "&").replace("&amp;", "&"))
        .collect();
    let formats: Vec<&str> =
        links.iter().filter_map(|l| l.split("format=").nth(1)).map(|f| f.split('&').next().unwrap_or(f)).collect();
    assert_eq!(formats, ["csv", "csv", "xlsx", "jsonl", "sarif", "cyclonedx"], "{links:?}");
    let csv = links.first().expect("the CSV link");
    assert!(csv.contains("severity=HIGH") && csv.contains("sort=-cvss") && !csv.contains("limit"), "{csv}");
    let download = app.get_as(csv, As::Cookie(&admin)).await;
    assert_eq!(download.status, StatusCode::OK, "{download:?}");
    let (headers, rows) = csv_rows(&download.bytes);
    let shown = listed(&app, &admin, "severity=HIGH&sort=-cvss").await;
    assert_eq!(rows.len(), shown.len(), "every matching record, not the page of 5: {csv}");
    let keys: Vec<&str> = rows.iter().map(|r| r[column(&headers, "Key")].as_str()).collect();
    assert_eq!(keys, shown.iter().filter_map(|r| r["key"].as_str()).collect::<Vec<_>>());
    // The dashboard's "due this week" filters survive into the export link.
    let due = crate::web::page(&app, "/vulnerabilities?sla=due_soon&due_before=2030-01-01T00:00:00Z", &admin).await;
    let due_html = due.body.as_str().expect("html").replace("&#38;", "&");
    let kept = due_html
        .split("href=\"")
        .find(|h| h.starts_with("/api/v1/vulnerabilities/export?format=csv"))
        .unwrap_or_default();
    assert!(
        kept.contains("format=csv&sla=due_soon&due_before=2030-01-01T00%3A00%3A00Z"),
        "sla and due_before kept: {kept}"
    );
}

//! Loading the CVE catalogue: a generated NVD CVE API 2.0 file of 250 000
//! records (the size of the whole NVD), then the same file again, then an
//! EPSS file scoring every one of them and a KEV catalogue, each through
//! `vulntrack cve import` in its own process, on SQLite and PostgreSQL.
//! Prints each load's wall time and the process's peak resident memory
//! (`VmHWM`), against the same command on a one-record file.
//!
//! ```sh
//! cargo bench -p vulntrack --bench cve_catalogue -- --postgres postgres://postgres@127.0.0.1:5432/postgres
//! cargo test --locked -p vulntrack --bench cve_catalogue -- --short --postgres …   # what CI runs
//! ```

#[path = "support/peak_rss.rs"]
mod peak_rss;

use std::{
    io::{BufWriter, Write},
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use clap::Parser;
use rand::{RngExt, SeedableRng, rngs::StdRng};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use vulntrack_store::{Database, DatabaseUrl, PoolSettings};

#[derive(Parser, Debug, Clone)]
struct Args {
    /// CVEs in the generated NVD file.
    #[arg(long, default_value_t = 250_000)]
    records: usize,
    /// 5 000 records: what CI runs to prove every figure is produced.
    #[arg(long)]
    short: bool,
    /// A PostgreSQL admin URL; a fresh database is created and dropped.
    #[arg(long)]
    postgres: Option<String>,
    #[arg(long)]
    skip_sqlite: bool,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

const SECRET: &str = "bench-secret-bench-secret-bench-secret!";

const WORDS: &[&str] = &[
    "allows",
    "remote",
    "attackers",
    "to",
    "execute",
    "arbitrary",
    "code",
    "via",
    "a",
    "crafted",
    "request",
    "in",
    "the",
    "component",
    "before",
    "version",
    "when",
    "processing",
    "untrusted",
    "input",
    "leading",
    "buffer",
    "overflow",
    "authentication",
    "bypass",
    "denial",
    "of",
    "service",
    "improper",
    "validation",
    "memory",
    "corruption",
    "privilege",
    "escalation",
    "local",
    "users",
    "sensitive",
    "information",
    "disclosure",
    "heap",
    "use-after-free",
    "injection",
    "parameter",
    "server",
    "client",
    "library",
    "plugin",
    "kernel",
    "driver",
];
const VENDORS: &[&str] =
    &["apache", "microsoft", "google", "oracle", "cisco", "linux", "mozilla", "adobe", "vmware", "fortinet"];
const V3: &[(&str, f64)] = &[
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8),
    ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 6.5),
    ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9),
];
const V4: &str = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";

fn sentence(rng: &mut StdRng, words: usize) -> String {
    (0..words).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect::<Vec<_>>().join(" ")
}

fn cve_id(serial: usize) -> String {
    format!("CVE-{}-{:05}", 1999 + serial % 27, serial)
}

/// One NVD item as the CVE API 2.0 writes it (metrics, weaknesses,
/// configurations and references; the parser reads all but the
/// configurations).
fn nvd_item(serial: usize) -> Value {
    let mut rng = StdRng::seed_from_u64(serial as u64);
    let vendor = VENDORS[serial % VENDORS.len()];
    let (vector, score) = V3[serial % V3.len()];
    let description = format!(
        "{} in {vendor} product {} {}.{}",
        sentence(&mut rng, 6),
        serial % 997,
        sentence(&mut rng, 28),
        if serial.is_multiple_of(3) { format!(" {}.", sentence(&mut rng, 20)) } else { String::new() }
    );
    let mut metrics = json!({
        "cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {"version": "3.1", "vectorString": vector, "baseScore": score, "baseSeverity": "HIGH"}, "exploitabilityScore": 3.9, "impactScore": 5.9}]
    });
    if serial.is_multiple_of(5) {
        metrics["cvssMetricV40"] = json!([{"source": "cna@example.com", "type": "Secondary", "cvssData": {"version": "4.0", "vectorString": V4, "baseScore": 9.3, "baseSeverity": "CRITICAL"}}]);
    }
    let references: Vec<Value> = (0..3 + serial % 6)
        .map(|i| json!({"url": format!("https://{vendor}.example.com/security/advisory-{serial}-{i}"), "source": "cna@example.com", "tags": ["Vendor Advisory"]}))
        .collect();
    json!({"cve": {
        "id": cve_id(serial),
        "sourceIdentifier": "cna@example.com",
        "published": format!("{}-{:02}-{:02}T10:15:{:02}.123", 1999 + serial % 27, 1 + serial % 12, 1 + serial % 28, serial % 60),
        "lastModified": "2026-11-20T08:00:00.000",
        "vulnStatus": if serial.is_multiple_of(4) { "Modified" } else { "Analyzed" },
        "cveTags": [],
        "descriptions": [{"lang": "en", "value": description}],
        "metrics": metrics,
        "weaknesses": [{"source": "nvd@nist.gov", "type": "Primary", "description": [{"lang": "en", "value": format!("CWE-{}", [79, 89, 787, 20, 125, 416, 22, 352][serial % 8])}]}],
        "configurations": [{"nodes": [{"operator": "OR", "negate": false, "cpeMatch": [{"vulnerable": true, "criteria": format!("cpe:2.3:a:{vendor}:product_{}:*:*:*:*:*:*:*:*", serial % 997), "versionEndExcluding": format!("{}.{}.{}", serial % 9, serial % 7, serial % 5), "matchCriteriaId": format!("{serial:08X}-0000-4000-8000-000000000000")}]}]}],
        "references": references
    }})
}

fn write_nvd(path: &Path, serials: std::ops::Range<usize>) {
    let count = serials.len();
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("create"));
    write!(
        out,
        r#"{{"resultsPerPage":{count},"startIndex":0,"totalResults":{count},"format":"NVD_CVE","version":"2.0","timestamp":"2026-11-29T00:00:00.000","vulnerabilities":["#
    )
    .expect("write");
    for serial in serials.clone() {
        if serial > serials.start {
            out.write_all(b",").expect("write");
        }
        serde_json::to_writer(&mut out, &nvd_item(serial)).expect("write");
    }
    out.write_all(b"]}").expect("write");
    out.flush().expect("flush");
}

fn write_epss(path: &Path, count: usize) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(out, "#model_version:v2025.03.14,score_date:2026-11-29T00:00:00+0000\ncve,epss,percentile")
        .expect("write");
    for serial in 0..count {
        let score = ((serial * 7919) % 100_000) as f64 / 100_000.0;
        writeln!(out, "{},{score:.5},{:.5}", cve_id(serial), (score * 0.9 + 0.05).min(1.0)).expect("write");
    }
    out.flush().expect("flush");
}

fn write_kev(path: &Path, count: usize) {
    let entries: Vec<Value> = (0..count)
        .map(|i| {
            let serial = i * 97 % count.max(1);
            json!({"cveID": cve_id(serial), "vendorProject": VENDORS[serial % VENDORS.len()], "product": format!("Product {}", serial % 997),
                   "vulnerabilityName": "Remote code execution vulnerability", "dateAdded": "2024-05-01", "shortDescription": "Allows remote code execution.",
                   "requiredAction": "Apply mitigations per vendor instructions or discontinue use of the product.", "dueDate": "2024-05-22",
                   "knownRansomwareCampaignUse": if serial.is_multiple_of(7) { "Known" } else { "Unknown" }, "notes": "", "cwes": ["CWE-787"]})
        })
        .collect();
    let catalogue = json!({"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2026.11.29",
                           "dateReleased": "2026-11-29T17:00:00.000Z", "count": count, "vulnerabilities": entries});
    std::fs::write(path, serde_json::to_vec(&catalogue).expect("json")).expect("write");
}

/// Runs `vulntrack cve import --json FILE`: its peak resident memory in
/// MiB, its wall time and what it printed.
async fn load(url: &DatabaseUrl, data_dir: &Path, file: &Path) -> (f64, Duration, Value) {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_vulntrack"))
        .args(["cve", "import", "--json"])
        .arg(file)
        .env("DATABASE_URL", url.expose())
        .env("VULNTRACK_DATA_DIR", data_dir)
        .env("VULNTRACK_SECRET", SECRET)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start vulntrack cve import");
    let (peak, output) = peak_rss::until_exit(child).await;
    assert!(output.status.success(), "vulntrack cve import failed: {}", output.status);
    let printed: Value = serde_json::from_slice(&output.stdout).expect("the load as JSON");
    (peak, started.elapsed(), printed)
}

async fn measure(backend: &str, url: DatabaseUrl, args: &Args, files: &Path, data_dir: &Path) {
    let db = Database::connect(&url, PoolSettings::default()).await.expect("connect");
    db.migrate().await.expect("migrate");
    db.close().await.expect("close");
    println!("\n#### {backend}: {} NVD records\n", args.records);
    println!(
        "| load | file | wall | records/s | inserted | updated | unchanged | peak RSS | growth over a one-record file |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let (baseline, _, _) = load(&url, data_dir, &files.join("one.json")).await;
    for (what, file) in [
        ("NVD into an empty catalogue", "nvd.json"),
        ("the same NVD file again", "nvd.json"),
        ("EPSS for every CVE", "epss.csv"),
        ("CISA KEV", "kev.json"),
    ] {
        let path = files.join(file);
        let size = std::fs::metadata(&path).expect("file").len() as f64 / 1e6;
        let (peak, wall, printed) = load(&url, data_dir, &path).await;
        let read = printed["read"].as_u64().unwrap_or(0);
        println!(
            "| {what} | {size:.1} MB | {:.2} s | {:.0} | {} | {} | {} | {peak:.1} MiB | {:.1} MiB |",
            wall.as_secs_f64(),
            read as f64 / wall.as_secs_f64(),
            printed["inserted"],
            printed["updated"],
            printed["unchanged"],
            peak - baseline
        );
    }
    println!("\nthe one-record file's peak RSS: {baseline:.1} MiB");
    let floor = database_floor(&url).await;
    println!(
        "the database's own `INSERT … SELECT` of the same {} rows into a copy of the table (same indexes): {:.2} s",
        args.records + 1,
        floor.as_secs_f64()
    );
}

/// How long the database itself takes to write the catalogue's rows: an
/// `INSERT … SELECT` of every stored row into an empty table built like
/// `cves` (its keys, indexes and, on PostgreSQL, storage settings), with
/// no parsing, transfer or comparing.
async fn database_floor(url: &DatabaseUrl) -> Duration {
    let db = Database::connect(url, PoolSettings::default()).await.expect("connect");
    let conn = db.conn();
    let postgres = conn.get_database_backend() == sea_orm::DbBackend::Postgres;
    let mut copy: Vec<String> = Vec::new();
    if postgres {
        copy.push("CREATE TABLE cves_floor (LIKE cves INCLUDING ALL)".into());
    } else {
        let rows = conn
            .query_all_raw(sea_orm::Statement::from_string(
                conn.get_database_backend(),
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'cves' AND sql IS NOT NULL ORDER BY type DESC",
            ))
            .await
            .expect("schema");
        for row in rows {
            let sql: String = row.try_get_by_index(0).expect("sql");
            copy.push(
                sql.replacen("\"cves\"", "\"cves_floor\"", 1)
                    .replacen(" cves ", " cves_floor ", 1)
                    .replace("ix_cves_", "ix_cves_floor_"),
            );
        }
    }
    for statement in &copy {
        conn.execute_unprepared(statement).await.expect("copy of the table");
    }
    let started = Instant::now();
    conn.execute_unprepared("INSERT INTO cves_floor SELECT * FROM cves").await.expect("insert");
    let took = started.elapsed();
    conn.execute_unprepared("DROP TABLE cves_floor").await.expect("drop");
    db.close().await.expect("close");
    took
}

#[tokio::main]
async fn main() {
    let mut args = Args::parse();
    if args.short {
        args.records = args.records.min(5_000);
    }
    if cfg!(debug_assertions) && !args.short {
        eprintln!("note: a debug build; `cargo bench` builds with optimisations");
    }
    let started = Instant::now();
    let files = tempfile::tempdir().expect("temp dir");
    // A CVE of its own, so the large file's counts are its own.
    write_nvd(&files.path().join("one.json"), args.records..args.records + 1);
    write_nvd(&files.path().join("nvd.json"), 0..args.records);
    write_epss(&files.path().join("epss.csv"), args.records);
    write_kev(&files.path().join("kev.json"), (args.records / 200).max(10));
    eprintln!("  generated the files in {:.1?}", started.elapsed());
    if !args.skip_sqlite {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::sqlite_file(&dir.path().join("bench.db"));
        measure("SQLite", url, &args, files.path(), dir.path()).await;
    }
    if let Some(admin) = &args.postgres {
        let admin_url = DatabaseUrl::parse(admin).expect("--postgres must be a postgres:// URL");
        let admin_db = Database::connect(&admin_url, PoolSettings::default()).await.expect("connect to PostgreSQL");
        let name = format!("vt_bench_{}", uuid::Uuid::now_v7().simple());
        admin_db.conn().execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
        let mut url = url::Url::parse(admin).expect("url");
        url.set_path(&format!("/{name}"));
        let url = DatabaseUrl::parse(url.as_str()).expect("url");
        let dir = tempfile::tempdir().expect("temp dir");
        let (args, files_dir, data_dir) = (args.clone(), files.path().to_path_buf(), dir.path().to_path_buf());
        let outcome = tokio::spawn(async move { measure("PostgreSQL", url, &args, &files_dir, &data_dir).await }).await;
        admin_db.conn().execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.expect("drop database");
        if let Err(failure) = outcome {
            std::panic::resume_unwind(failure.into_panic());
        }
    }
    eprintln!("  done in {:.1?}", started.elapsed());
}

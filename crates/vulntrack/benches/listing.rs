//! Listing latency at scale: seeds N vulnerabilities across M teams, then
//! measures, for one team, the median and p99 latency of a first page, a
//! filtered page and a full-text search through the real router.
//!
//! ```sh
//! cargo bench -p vulntrack --bench listing -- --rows 1000000 --teams 1000 \
//!     --postgres postgres://postgres@127.0.0.1:5432/postgres
//! ```
//! Without `--postgres` only SQLite is measured; `--skip-sqlite` skips it.

use std::time::{Duration, Instant};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use clap::Parser;
use http_body_util::BodyExt;
use rand::{RngExt, SeedableRng, rngs::StdRng};
use sea_orm::ConnectionTrait;
use secrecy::SecretString;
use tower::ServiceExt;
use vulntrack::{AppState, Config, auth::secret_token};
use vulntrack_domain::{
    Role,
    vulnerability::{Severity, VulnKind, VulnStatus, record::VulnerabilityRecord, risk::Stride},
};
use vulntrack_store::{Database, DatabaseUrl, PoolSettings, api_tokens, teams, users, vulnerabilities};

#[derive(Debug, Parser)]
struct Args {
    /// Vulnerabilities in all.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Teams they are spread over (evenly).
    #[arg(long, default_value_t = 1_000)]
    teams: usize,
    /// Timed requests per query.
    #[arg(long, default_value_t = 200)]
    iterations: usize,
    /// A PostgreSQL admin URL; a fresh database is created and dropped.
    #[arg(long)]
    postgres: Option<String>,
    #[arg(long)]
    skip_sqlite: bool,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

const WORDS: &[&str] = &[
    "sql",
    "injection",
    "cross",
    "site",
    "scripting",
    "request",
    "forgery",
    "server",
    "side",
    "deserialization",
    "path",
    "traversal",
    "buffer",
    "overflow",
    "openssl",
    "log4j",
    "jackson",
    "struts",
    "kerberos",
    "ldap",
    "smb",
    "rdp",
    "tls",
    "cipher",
    "header",
    "cookie",
    "session",
    "token",
    "password",
    "hash",
    "upload",
    "template",
    "xml",
    "entity",
    "redirect",
    "cors",
    "policy",
    "bucket",
    "public",
    "exposed",
    "admin",
    "console",
    "default",
    "credentials",
    "outdated",
    "library",
    "kernel",
    "container",
    "image",
    "secret",
];
const SEARCH_WORD: &str = "kerberos";

fn sentence(rng: &mut StdRng, words: usize) -> String {
    (0..words).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect::<Vec<_>>().join(" ")
}

fn record(rng: &mut StdRng, i: usize) -> VulnerabilityRecord {
    let severity = Severity::ALL[rng.random_range(0..Severity::ALL.len())];
    let status = VulnStatus::ALL[rng.random_range(0..VulnStatus::ALL.len())];
    VulnerabilityRecord {
        title: format!("{} #{i}", sentence(rng, 4)),
        description: sentence(rng, 24),
        severity,
        status,
        kind: if rng.random_range(0..10) == 0 { VulnKind::Misconfiguration } else { VulnKind::Vulnerability },
        cve_id: (rng.random_range(0..3) == 0)
            .then(|| format!("CVE-20{}-{}", rng.random_range(10..26), rng.random_range(1000..99999))),
        cvss_vector: None,
        cvss_version: None,
        cvss_score: (rng.random_range(0..4) != 0).then(|| f64::from(rng.random_range(0..=100)) / 10.0),
        dread: None,
        stride: Stride::default(),
        assets: vec![format!("host-{}", rng.random_range(0..500))],
        references: Vec::new(),
        remediation: None,
        assignee_id: None,
        tags: Vec::new(),
    }
}

/// Seeds the database and returns an API token of the measured team.
async fn seed(db: &Database, args: &Args) -> String {
    let per_team = args.rows / args.teams;
    let measured = args.teams / 2;
    let mut rng = StdRng::seed_from_u64(7);
    let started = Instant::now();
    let mut token = None;
    for t in 0..args.teams {
        let txn = db.begin().await.expect("begin");
        let team = teams::create(&txn, &format!("Team {t:04}")).await.expect("team");
        if t == measured {
            let email = format!("bench{t}@example.com");
            let new = users::NewUser {
                email: &email,
                name: "Bench User",
                role: Role::Analyst,
                password_hash: "$argon2id$unused",
            };
            let user = users::create(&txn, team.scope(), new).await.expect("user");
            let secret = secret_token::issue("vt_");
            let new_token = api_tokens::NewApiToken {
                user_id: user.id,
                name: "bench",
                token_hash: &secret.hash,
                prefix: "vt_bench",
                expires_at: None,
            };
            api_tokens::create(&txn, team.scope(), new_token).await.expect("token");
            token = Some(secret.plain);
        }
        let records: Vec<VulnerabilityRecord> = (0..per_team).map(|i| record(&mut rng, i)).collect();
        vulnerabilities::create_many(&txn, team.scope(), &records, None).await.expect("rows");
        txn.commit().await.expect("commit");
        if (t + 1) % 100 == 0 {
            eprintln!("  seeded {} teams, {} rows, {:.0?}", t + 1, (t + 1) * per_team, started.elapsed());
        }
    }
    // Fresh statistics, as autovacuum / a DBA would have by now.
    db.conn().execute_unprepared("ANALYZE").await.expect("analyze");
    eprintln!("  seeding took {:.1?}", started.elapsed());
    token.expect("the measured team was seeded")
}

async fn timed(router: &Router, token: &str, path: &str, iterations: usize) -> (Duration, Duration, usize) {
    let request = || {
        Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request")
    };
    let mut items = 0;
    for _ in 0..10 {
        let response = router.clone().oneshot(request()).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body = response.into_body().collect().await.expect("body").to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
        items = json["items"].as_array().map_or(0, Vec::len);
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        let response = router.clone().oneshot(request()).await.expect("response");
        let _ = response.into_body().collect().await.expect("body");
        samples.push(started.elapsed());
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    let p99 = samples[(samples.len() * 99).div_ceil(100).saturating_sub(1)];
    (median, p99, items)
}

async fn measure(label: &str, url: DatabaseUrl, args: &Args, data_dir: &std::path::Path) {
    eprintln!("{label}: seeding {} rows across {} teams", args.rows, args.teams);
    let db = Database::connect(&url, PoolSettings::default()).await.expect("connect");
    db.migrate().await.expect("migrate");
    let token = seed(&db, args).await;
    let secret = SecretString::from("bench-secret-bench-secret-bench-secret!");
    let mut config = Config::development(url, data_dir.to_path_buf(), secret.clone());
    // The benchmark measures listing, not the API rate limit.
    config.rate_limit_api = vulntrack_domain::rate::RateRule::new(u32::MAX, Duration::from_secs(60));
    let router = vulntrack::build_router(AppState::new(db, config, secret).expect("state"));
    for (name, path) in [
        ("first page (50, newest first)", "/api/v1/vulnerabilities?limit=50".to_string()),
        (
            "filtered page (CRITICAL+OPEN, by severity)",
            "/api/v1/vulnerabilities?severity=CRITICAL&status=OPEN&sort=-severity&limit=50".into(),
        ),
        ("full-text search", format!("/api/v1/vulnerabilities?q={SEARCH_WORD}&limit=50")),
    ] {
        let (median, p99, items) = timed(&router, &token, &path, args.iterations).await;
        println!(
            "| {label} | {name} | {:.2} ms | {:.2} ms | {items} |",
            median.as_secs_f64() * 1000.0,
            p99.as_secs_f64() * 1000.0
        );
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    assert!(args.teams > 0 && args.rows >= args.teams, "--rows must be at least --teams");
    println!("\n{} rows across {} teams, {} timed requests per query\n", args.rows, args.teams, args.iterations);
    println!("| backend | query | median | p99 | rows returned |");
    println!("|---|---|---|---|---|");
    let dir = tempfile::tempdir().expect("temp dir");
    if !args.skip_sqlite {
        let url = DatabaseUrl::sqlite_file(&dir.path().join("bench.db"));
        measure("SQLite", url, &args, dir.path()).await;
    }
    if let Some(admin) = &args.postgres {
        let admin_url = DatabaseUrl::parse(admin).expect("--postgres must be a postgres:// URL");
        let admin_db = Database::connect(&admin_url, PoolSettings::default()).await.expect("connect to PostgreSQL");
        let name = format!("vt_bench_{}", uuid::Uuid::now_v7().simple());
        admin_db.conn().execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
        let mut url = url::Url::parse(admin).expect("url");
        url.set_path(&format!("/{name}"));
        measure("PostgreSQL", DatabaseUrl::parse(url.as_str()).expect("url"), &args, dir.path()).await;
        admin_db.conn().execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.expect("drop database");
    }
}

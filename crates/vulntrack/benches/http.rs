//! The server against its own database, in one run.
//!
//! Seeds N vulnerabilities over M teams through the store's bulk write
//! path, interleaved the way real data arrives (every team's rows mixed
//! over time, tagged, assigned), then for each endpoint alternates, three
//! times: (a) the endpoint over real HTTP from C concurrent keep-alive
//! clients against the `vulntrack` binary in its own process, and (b) the
//! exact SQL statements that endpoint ran (recorded from the real handler)
//! sent straight through the same driver with the same concurrency. It
//! prints throughput, p50, p99, the server's CPU per request and the ratio
//! (a)/(b); then resident memory idle, under 64 connections and after a
//! sign-in flood, and the list p99 with and without a flood beside it.
//!
//! ```sh
//! # full mode, figures for docs/PERFORMANCE.md (release build):
//! cargo bench -p vulntrack --bench http -- \
//!     --postgres postgres://postgres@127.0.0.1:5432/postgres
//! # short mode, as .ci/run runs it (small data, every figure printed):
//! cargo bench -p vulntrack --bench http -- --short --postgres …
//! ```
//! No figure is asserted: timings belong to the machine, not to a test.

use std::{
    collections::BTreeMap,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{body::Body, http::Request};
use clap::Parser;
use http_body_util::BodyExt;
use rand::{RngExt, SeedableRng, rngs::StdRng};
use sea_orm::{ConnectionTrait, Statement};
use secrecy::SecretString;
use tower::ServiceExt;
use vulntrack::{AppState, Config, auth::secret_token};
use vulntrack_domain::{
    Role, UserId,
    vulnerability::{Resolution, Severity, VulnKind, VulnStatus, record::VulnerabilityRecord, risk::Stride},
};
use vulntrack_store::{Database, DatabaseUrl, PoolSettings, api_tokens, teams, users, vulnerabilities};

#[derive(Debug, Parser)]
struct Args {
    /// Vulnerabilities in all.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Teams they are spread over.
    #[arg(long, default_value_t = 1_000)]
    teams: usize,
    /// Concurrent clients (HTTP) and tasks (raw SQL).
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Seconds per measured phase.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Small data and short phases: what CI runs to prove every figure
    /// is produced.
    #[arg(long)]
    short: bool,
    /// A PostgreSQL admin URL; a fresh database is created and dropped.
    #[arg(long)]
    postgres: Option<String>,
    #[arg(long)]
    skip_sqlite: bool,
    /// Keep the seeded databases (their location is printed), to look at
    /// query plans afterwards.
    #[arg(long)]
    keep: bool,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

impl Args {
    fn effective(mut self) -> Self {
        if self.short {
            self.rows = self.rows.min(4_000);
            self.teams = self.teams.min(20);
            self.seconds = self.seconds.min(0.5);
        }
        self
    }
    fn phase(&self) -> Duration {
        Duration::from_secs_f64(self.seconds)
    }
}

const ROUNDS: usize = 3;
const PASSWORD: &str = "Bench-password-7!";
const SECRET: &str = "bench-secret-bench-secret-bench-secret!";
/// In about 4.7 % of the rows, and in about 44 %.
const RARE_WORD: &str = "kerberos";
const COMMON_WORD: &str = "exposure";
const WORDS: &[&str] = &[
    "sql",
    "injection",
    "cross",
    "site",
    "scripting",
    "request",
    "forgery",
    "server",
    "deserialization",
    "path",
    "traversal",
    "buffer",
    "overflow",
    "openssl",
    "jackson",
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
    "upload",
    "template",
    "xml",
    "redirect",
    "cors",
    "bucket",
    "public",
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
const TAGS: &[&str] = &["pci", "internet-facing", "sca", "sast", "dast", "pentest", "infra", "cloud", "legacy", "q3"];

fn sentence(rng: &mut StdRng, words: usize) -> String {
    (0..words).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect::<Vec<_>>().join(" ")
}

fn record(rng: &mut StdRng, i: usize, members: &[UserId]) -> VulnerabilityRecord {
    let mut description = sentence(rng, 20);
    if rng.random_range(0..1000) < 47 {
        description.push_str(&format!(" {RARE_WORD}"));
    }
    if rng.random_range(0..100) < 44 {
        description.push_str(&format!(" {COMMON_WORD}"));
    }
    let tags = (0..rng.random_range(0..3)).map(|_| TAGS[rng.random_range(0..TAGS.len())].to_string()).collect();
    let status = VulnStatus::ALL[rng.random_range(0..VulnStatus::ALL.len())];
    // Resolved records say why, as a person's or an import's would.
    let resolution = matches!(status, VulnStatus::Resolved | VulnStatus::Closed).then(|| {
        const REASONS: [Resolution; 6] = [
            Resolution::Fixed,
            Resolution::Fixed,
            Resolution::Fixed,
            Resolution::FalsePositive,
            Resolution::WontFix,
            Resolution::NotApplicable,
        ];
        REASONS[rng.random_range(0..REASONS.len())]
    });
    VulnerabilityRecord {
        title: format!("{} #{i}", sentence(rng, 4)),
        description,
        severity: Severity::ALL[rng.random_range(0..Severity::ALL.len())],
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
        assignee_id: (rng.random_range(0..3) != 0).then(|| members[rng.random_range(0..members.len())]),
        tags: {
            let mut tags: Vec<String> = tags;
            tags.sort();
            tags.dedup();
            tags
        },
        resolution,
        resolution_note: None,
        duplicate_of: None,
        risk_accepted_until: None,
    }
}

/// The measured team's credentials.
struct Measured {
    email: String,
    token: String,
}

/// Seeds teams with three members each, then their rows in rounds: each
/// round gives every team a few rows, so each team's rows are spread over
/// the whole table and over time, as when many teams work side by side.
async fn seed(db: &Database, args: &Args) -> Measured {
    let started = Instant::now();
    let password_hash =
        vulntrack::auth::PasswordHasher::default().hash(SecretString::from(PASSWORD)).await.expect("hash");
    let measured_index = args.teams / 2;
    let mut teams_and_members = Vec::with_capacity(args.teams);
    let mut measured = None;
    for t in 0..args.teams {
        let txn = db.begin().await.expect("begin");
        let team = teams::create(&txn, &format!("Team {t:04}")).await.expect("team");
        let mut members = Vec::new();
        for (m, role) in [Role::Admin, Role::Analyst, Role::Analyst].into_iter().enumerate() {
            let email = format!("member{m}.team{t}@example.com");
            let new = users::NewUser { email: &email, name: "Bench Member", role, password_hash: &password_hash };
            let user = users::create(&txn, team.scope(), new).await.expect("user");
            if t == measured_index && m == 0 {
                let secret = secret_token::issue("vt_");
                let new_token = api_tokens::NewApiToken {
                    user_id: user.id,
                    name: "bench",
                    token_hash: &secret.hash,
                    prefix: "vt_bench",
                    expires_at: Some(chrono::Utc::now() + chrono::Duration::days(30)),
                };
                api_tokens::create(&txn, team.scope(), new_token).await.expect("token");
                measured = Some(Measured { email: email.clone(), token: secret.plain });
            }
            members.push(user.id);
        }
        txn.commit().await.expect("commit");
        teams_and_members.push((team, members));
    }
    let per_round = 10;
    let rounds = (args.rows / args.teams).div_ceil(per_round);
    let mut rng = StdRng::seed_from_u64(7);
    let mut seeded = 0;
    for round in 0..rounds {
        let txn = db.begin().await.expect("begin");
        for (team, members) in &teams_and_members {
            let count = per_round.min(args.rows / args.teams - round * per_round);
            let records: Vec<VulnerabilityRecord> =
                (0..count).map(|i| record(&mut rng, round * per_round + i, members)).collect();
            vulnerabilities::create_many(&txn, team.scope(), &records, None).await.expect("rows");
            seeded += count;
        }
        txn.commit().await.expect("commit");
        if (round + 1) % 10 == 0 {
            eprintln!("  seeded {seeded} rows, {:.0?}", started.elapsed());
        }
    }
    vulnerabilities::merge_search_index(db.conn()).await.expect("merge the search index");
    // Fresh statistics, as autovacuum or a DBA would have by now.
    db.conn().execute_unprepared("ANALYZE").await.expect("analyze");
    eprintln!("  seeded {seeded} rows over {} teams in {:.1?}", args.teams, started.elapsed());
    measured.expect("the measured team was seeded")
}

/// What a request sends.
#[derive(Clone)]
struct Call {
    name: &'static str,
    method: &'static str,
    path: String,
    body: Option<serde_json::Value>,
    /// Signed in with the session cookie (pages) instead of the token.
    by_cookie: bool,
}

fn calls() -> Vec<Call> {
    let get = |name, path: String| Call { name, method: "GET", path, body: None, by_cookie: false };
    vec![
        get("list, first page of 50", "/api/v1/vulnerabilities?limit=50".into()),
        get(
            "list, filtered (severity+status, by severity)",
            "/api/v1/vulnerabilities?severity=CRITICAL&severity=HIGH&status=OPEN&sort=-severity&limit=50".into(),
        ),
        get("search, word in ~4.7 % of rows", format!("/api/v1/vulnerabilities?q={RARE_WORD}&limit=50")),
        get("search, word in ~44 % of rows", format!("/api/v1/vulnerabilities?q={COMMON_WORD}&limit=50")),
        get("stats", "/api/v1/vulnerabilities/stats".into()),
        Call { by_cookie: true, ..get("dashboard page", "/".into()) },
        Call {
            name: "create",
            method: "POST",
            path: "/api/v1/vulnerabilities".into(),
            body: Some(serde_json::json!({
                "title": "Benchmark finding", "description": "Created by the benchmark.", "severity": "HIGH",
                "tags": ["bench"]
            })),
            by_cookie: false,
        },
    ]
}

/// Runs each read call once through the real router with every statement
/// recorded, and returns the statements per call (the second run's: the
/// first may also do once-a-minute bookkeeping).
async fn record_statements(
    db: &Database,
    config: &Config,
    measured: &Measured,
) -> BTreeMap<&'static str, Vec<Statement>> {
    let seen: Arc<Mutex<Vec<Statement>>> = Arc::default();
    let mut observed = db.clone();
    let sink = seen.clone();
    observed.observe_statements(move |info| sink.lock().expect("statements").push(info.statement.clone()));
    let state = AppState::new(observed, config.clone(), SecretString::from(SECRET)).expect("state");
    let router = vulntrack::build_router(state);
    let login = Request::post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(serde_json::json!({ "email": measured.email, "password": PASSWORD }).to_string()))
        .expect("request");
    let signed_in = router.clone().oneshot(login).await.expect("login");
    let cookie =
        signed_in.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_string();
    let mut statements = BTreeMap::new();
    for call in calls().into_iter().filter(|c| c.method == "GET") {
        for _ in 0..2 {
            seen.lock().expect("statements").clear();
            let request = Request::get(&call.path);
            let request = if call.by_cookie {
                request.header("cookie", &cookie)
            } else {
                request.header("authorization", format!("Bearer {}", measured.token))
            };
            let response = router.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("call");
            assert!(response.status().is_success(), "{}: {}", call.path, response.status());
            let _ = response.into_body().collect().await.expect("body");
        }
        statements.insert(call.name, seen.lock().expect("statements").clone());
    }
    statements
}

/// The server binary in its own process, as in service.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(url: &DatabaseUrl, data_dir: &Path, port: u16) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_vulntrack"))
            .arg("serve")
            .env("DATABASE_URL", url.expose())
            .env("VULNTRACK_DATA_DIR", data_dir)
            .env("VULNTRACK_BIND", format!("127.0.0.1:{port}"))
            .env("VULNTRACK_SECRET", SECRET)
            .env("VULNTRACK_AUTO_MIGRATE", "false")
            .env("RUST_LOG", "error")
            // The benchmark measures work, not the limits on it.
            .envs(
                ["LOGIN", "LOGIN_CLIENT", "RESET", "API", "CREATE", "ANON"]
                    .map(|rule| (format!("VULNTRACK_RATE_LIMIT_{rule}"), "100000000/1m")),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server");
        Self { child, base: format!("http://127.0.0.1:{port}") }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The process's CPU time so far (user + system).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th of the whole line, in clock ticks.
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        let out = Command::new("getconf").arg("CLK_TCK").output().expect("getconf");
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(100.0)
    })
}

/// Resident memory in MB.
fn resident_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS");
    kb / 1024.0
}

/// One phase's figures.
#[derive(Debug, Clone, Copy)]
struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    cpu_per_request: Option<Duration>,
}

impl Figures {
    fn of(mut samples: Vec<Duration>, elapsed: Duration, cpu: Option<Duration>) -> Self {
        samples.sort();
        let at = |q: usize| samples[(samples.len() * q).div_ceil(100).saturating_sub(1).min(samples.len() - 1)];
        let count = samples.len().max(1);
        Self {
            per_second: samples.len() as f64 / elapsed.as_secs_f64(),
            p50: at(50),
            p99: at(99),
            cpu_per_request: cpu.map(|c| c / u32::try_from(count).unwrap_or(u32::MAX)),
        }
    }
}

/// `clients` tasks calling `once` in a loop for `phase`; each call's latency.
async fn load<F, Fut>(clients: usize, phase: Duration, once: F) -> (Vec<Duration>, Duration)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = Instant::now();
    let deadline = started + phase;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let once = once.clone();
            tokio::spawn(async move {
                let mut samples = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    once().await;
                    samples.push(t.elapsed());
                }
                samples
            })
        })
        .collect();
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await.expect("client"));
    }
    (samples, started.elapsed())
}

async fn over_http(
    client: &reqwest::Client,
    server: &Server,
    call: &Call,
    auth: &(String, String),
    clients: usize,
    phase: Duration,
) -> Figures {
    let url = format!("{}{}", server.base, call.path);
    let (client, call) = (client.clone(), call.clone());
    let (header, value) = if call.by_cookie { ("cookie", auth.1.clone()) } else { ("authorization", auth.0.clone()) };
    let cpu_before = cpu_time(server.pid());
    let (samples, elapsed) = load(clients, phase, move || {
        let (client, url, call, value) = (client.clone(), url.clone(), call.clone(), value.clone());
        async move {
            let request = match call.method {
                "POST" => client.post(&url).json(call.body.as_ref().expect("body")),
                _ => client.get(&url),
            };
            let response = request.header(header, value).send().await.expect("send");
            assert!(response.status().is_success(), "{}: {}", call.path, response.status());
            let _ = response.bytes().await.expect("body");
        }
    })
    .await;
    Figures::of(samples, elapsed, Some(cpu_time(server.pid()) - cpu_before))
}

async fn over_sql(db: &Database, statements: &[Statement], clients: usize, phase: Duration) -> Figures {
    let (db, statements) = (db.clone(), statements.to_vec());
    let (samples, elapsed) = load(clients, phase, move || {
        let (db, statements) = (db.clone(), statements.clone());
        async move {
            for statement in statements {
                db.conn().query_all_raw(statement).await.expect("statement");
            }
        }
    })
    .await;
    Figures::of(samples, elapsed, None)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn sign_in_flood(client: reqwest::Client, base: String, clients: usize, phase: Duration) -> usize {
    let url = format!("{base}/api/v1/auth/login");
    let (samples, _) = load(clients, phase, move || {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let body = serde_json::json!({ "email": "nobody@example.com", "password": "wrong-password-1!" });
            let _ = client.post(&url).json(&body).send().await.map(|r| r.status());
        }
    })
    .await;
    samples.len()
}

async fn measure(backend: &str, url: DatabaseUrl, args: &Args, data_dir: &Path, port: u16) {
    println!(
        "\n## {backend}: {} rows over {} teams, {} clients, {} s phases\n",
        args.rows, args.teams, args.clients, args.seconds
    );
    let db = Database::connect(&url, PoolSettings::default()).await.expect("connect");
    db.migrate().await.expect("migrate");
    let measured = seed(&db, args).await;
    let mut config = Config::development(url.clone(), data_dir.to_path_buf(), SecretString::from(SECRET));
    config.rate_limit_api = vulntrack_domain::rate::RateRule::new(u32::MAX, Duration::from_secs(60));
    let statements = record_statements(&db, &config, &measured).await;

    let server = Server::start(&url, data_dir, port);
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().expect("client");
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{}/healthz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not start");
    let idle_mb = resident_mb(server.pid());
    let login = client
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&serde_json::json!({ "email": measured.email, "password": PASSWORD }))
        .send()
        .await
        .expect("login");
    let cookie = login.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_string();
    let auth = (format!("Bearer {}", measured.token), cookie);

    for (name, sql) in &statements {
        println!("- {name}: {} SQL statements per request", sql.len());
    }
    println!();
    println!(
        "| endpoint | round | server req/s | p50 | p99 | server CPU/req | raw SQL req/s | raw p50 | raw p99 | server/raw |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let phase = args.phase();
    for call in calls() {
        for round in 1..=ROUNDS {
            let served = over_http(&client, &server, &call, &auth, args.clients, phase).await;
            let cpu = served.cpu_per_request.map_or_else(|| "—".into(), ms);
            match statements.get(call.name) {
                Some(sql) => {
                    let raw = over_sql(&db, sql, args.clients, phase).await;
                    println!(
                        "| {} | {round} | {:.0} | {} | {} | {cpu} | {:.0} | {} | {} | {:.2} |",
                        call.name,
                        served.per_second,
                        ms(served.p50),
                        ms(served.p99),
                        raw.per_second,
                        ms(raw.p50),
                        ms(raw.p99),
                        served.per_second / raw.per_second
                    );
                }
                None => println!(
                    "| {} | {round} | {:.0} | {} | {} | {cpu} | (writes: not replayed) | | | |",
                    call.name,
                    served.per_second,
                    ms(served.p50),
                    ms(served.p99)
                ),
            }
        }
    }

    // Memory and the sign-in flood.
    let list = calls().into_iter().next().expect("list call");
    let wide = over_http(&client, &server, &list, &auth, 64, phase).await;
    let loaded_mb = resident_mb(server.pid());
    let calm = over_http(&client, &server, &list, &auth, args.clients, phase).await;
    let flood = tokio::spawn(sign_in_flood(client.clone(), server.base.clone(), 16, phase * 2));
    let flooded = over_http(&client, &server, &list, &auth, args.clients, phase).await;
    let attempts = flood.await.expect("flood");
    let after_flood_mb = resident_mb(server.pid());
    let settle = if args.short { Duration::from_secs(2) } else { Duration::from_secs(60) };
    tokio::time::sleep(settle).await;
    let settled_mb = resident_mb(server.pid());
    println!("\n| memory and flood | figure |\n|---|---|");
    println!("| resident memory, idle after start | {idle_mb:.1} MB |");
    println!(
        "| resident memory, after 64-connection load ({:.0} req/s, p99 {}) | {loaded_mb:.1} MB |",
        wide.per_second,
        ms(wide.p99)
    );
    println!(
        "| resident memory, right after a 16-connection sign-in flood ({attempts} attempts) | {after_flood_mb:.1} MB |"
    );
    println!(
        "| resident memory, {} s after the flood | {settled_mb:.1} MB ({:.2}× idle) |",
        settle.as_secs(),
        settled_mb / idle_mb
    );
    println!(
        "| list p99 without / with a sign-in flood | {} / {} ({:.2}×) |",
        ms(calm.p99),
        ms(flooded.p99),
        flooded.p99.as_secs_f64() / calm.p99.as_secs_f64()
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port()
}

#[tokio::main]
async fn main() {
    let args = Args::parse().effective();
    assert!(args.teams > 0 && args.rows >= args.teams, "--rows must be at least --teams");
    if cfg!(debug_assertions) && !args.short {
        eprintln!("note: a debug build; `cargo bench` builds with optimisations");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    if !args.skip_sqlite {
        let url = DatabaseUrl::sqlite_file(&dir.path().join("bench.db"));
        measure("SQLite", url, &args, dir.path(), free_port()).await;
    }
    if args.keep && !args.skip_sqlite {
        eprintln!("kept the SQLite database: {}", dir.keep().join("bench.db").display());
    }
    if let Some(admin) = &args.postgres {
        let admin_url = DatabaseUrl::parse(admin).expect("--postgres must be a postgres:// URL");
        let admin_db = Database::connect(&admin_url, PoolSettings::default()).await.expect("connect to PostgreSQL");
        let name = format!("vt_bench_{}", uuid::Uuid::now_v7().simple());
        admin_db.conn().execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
        let mut url = url::Url::parse(admin).expect("url");
        url.set_path(&format!("/{name}"));
        let pg_dir = tempfile::tempdir().expect("temp dir");
        measure("PostgreSQL", DatabaseUrl::parse(url.as_str()).expect("url"), &args, pg_dir.path(), free_port()).await;
        if args.keep {
            eprintln!("kept the PostgreSQL database: {name}");
        } else {
            admin_db
                .conn()
                .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .await
                .expect("drop database");
        }
    }
}

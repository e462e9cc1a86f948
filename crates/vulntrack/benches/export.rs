//! Exporting the register, against its own database, in one run.
//!
//! Seeds a database the way a large register looks after two years of use:
//! N records of the exported team (1 000 000 by default) and, interleaved
//! with them over the same two years, a twentieth as many of each of nine
//! other teams. About half the records come from a dependency scanner
//! (Trivy: a component with name, version and purl, a CVE, a fixed
//! version), a fifth from a code scanner (CodeQL SARIF: rule, file, line,
//! CWE), a tenth from a web scanner (ZAP: URL, host, port) and the rest
//! were typed by people; with tags, assignees among the team's members,
//! assets, CVSS scores, varied severities and statuses, resolutions and
//! SLA deadlines. The rows are written by SQL alone (`INSERT … SELECT` over
//! `generate_series` on PostgreSQL, over a recursive CTE on SQLite), many
//! times faster than the store's write path.
//!
//! Then, for each export format (`csv`, `jsonl`, `xlsx`, `sarif`,
//! `cyclonedx`), it starts the `vulntrack` binary in its own process,
//! signs a request in with an API token, and reads
//! `GET /api/v1/vulnerabilities/export?format=…` to its end (counting, not
//! keeping, the bytes). It prints the records exported, the wall time, the
//! first byte's time, the bytes, and the server's peak resident memory
//! growth during the export: its peak (`VmHWM`, reset just before the
//! request, read every 2 ms by `support/peak_rss.rs` until the server has
//! stopped) less its resident memory just before the request. Beside it,
//! in the same run: the database's own time to read the same rows with
//! plain SQL through the same driver (`SELECT *` in the export's order,
//! every row fetched, 5 000 rows a statement; and in the export's own
//! keyset pages of 500, without the tags and assets it reads beside them).
//!
//! ```sh
//! # full mode (release build):
//! cargo bench -p vulntrack --bench export -- \
//!     --postgres postgres://postgres@127.0.0.1:5432/postgres
//! # short mode, as CI runs it (20 000 records, every figure printed):
//! cargo test --locked -p vulntrack --bench export -- --short --postgres …
//! ```
//! No figure is asserted: timings belong to the machine, not to a test.
//! Only the data is checked (every CSV and JSON Lines export holds exactly
//! the records `X-Total-Count` announced, which are the team's).
//!
//! The search index is not filled (an export does not search), and the
//! background jobs are marked as just run by another node, so that the
//! SLA notices of two years of overdue records do not run beside the
//! measured exports.

#[path = "support/peak_rss.rs"]
mod peak_rss;

use std::{
    fmt::Write as _,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use clap::Parser;
use rand::{RngExt, SeedableRng, rngs::StdRng};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use secrecy::SecretString;
use uuid::Uuid;
use vulntrack::auth::secret_token;
use vulntrack_domain::Role;
use vulntrack_store::{Database, DatabaseUrl, PoolSettings, api_tokens, teams, users};

#[derive(Debug, Clone, Parser)]
struct Args {
    /// Records of the exported team.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Teams in all: the exported one, and others holding a twentieth as
    /// many records each, interleaved with its records over time.
    #[arg(long, default_value_t = 10)]
    teams: usize,
    /// Only these formats (comma-separated; all five by default).
    #[arg(long, value_delimiter = ',')]
    formats: Vec<String>,
    /// 20 000 records: what CI runs to prove every figure is produced.
    #[arg(long)]
    short: bool,
    /// A PostgreSQL admin URL; a fresh database is created and dropped.
    #[arg(long)]
    postgres: Option<String>,
    #[arg(long)]
    skip_sqlite: bool,
    /// Versions of each of the 120 packages the dependency scanner finds
    /// (distinct components: 120 times as many at most).
    #[arg(long, default_value_t = 25)]
    versions: u32,
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
            self.rows = self.rows.min(20_000);
            self.teams = self.teams.min(10);
        }
        // Whole blocks (see `Plan`).
        self.rows = self.rows.div_ceil(PER_BLOCK as usize).max(1) * PER_BLOCK as usize;
        if self.formats.is_empty() {
            self.formats = FORMATS.iter().map(|f| (*f).to_owned()).collect();
        }
        self
    }
}

const FORMATS: [&str; 5] = ["csv", "jsonl", "xlsx", "sarif", "cyclonedx"];
const SECRET: &str = "bench-secret-bench-secret-bench-secret!";
const PASSWORD: &str = "Bench-password-7!";
/// The exported team's records in each block of rows; each other team has
/// one (so a twentieth as many).
const PER_BLOCK: i64 = 20;
/// Members of each team (one ADMIN, the rest ANALYSTs).
const MEMBERS: usize = 5;
/// Assets (hosts) of each team.
const ASSETS: i64 = 200;
/// The records' creation times span the two years before the run.
const SPAN_SECONDS: i64 = 730 * 86_400;
/// Rows written per statement (and transaction) while seeding.
const CHUNK_ROWS: i64 = 150_000;
/// The export reads this many records per query (`services::vulnerability_export`).
const EXPORT_PAGE: usize = 500;
/// Rows a statement of the database's own read.
const RAW_PAGE: usize = 5_000;

// ---------------------------------------------------------------------------
// Words

const WORDS: &[&str] = &[
    "remote",
    "attacker",
    "crafted",
    "request",
    "header",
    "payload",
    "input",
    "buffer",
    "heap",
    "overflow",
    "out-of-bounds",
    "read",
    "write",
    "use-after-free",
    "null",
    "pointer",
    "integer",
    "denial",
    "service",
    "arbitrary",
    "code",
    "execution",
    "information",
    "disclosure",
    "memory",
    "corruption",
    "parsing",
    "certificate",
    "validation",
    "improper",
    "missing",
    "check",
    "function",
    "component",
    "library",
    "session",
    "token",
    "authentication",
    "bypass",
    "privilege",
    "escalation",
    "deserialization",
    "untrusted",
    "injection",
    "template",
    "redirect",
    "traversal",
    "cookie",
];

/// Sentences descriptions are made of, three each.
fn sentences() -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(18);
    (0..48)
        .map(|_| {
            let count = rng.random_range(9..20);
            let text = (0..count).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect::<Vec<_>>().join(" ");
            let mut chars = text.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or('A');
            format!("{first}{}.", chars.as_str())
        })
        .collect()
}

/// Ecosystem, purl type, the file the scanner found it in, packages.
const ECOSYSTEMS: &[(&str, &str, &str, [&str; 15])] = &[
    (
        "npm",
        "npm",
        "web/package-lock.json",
        [
            "lodash",
            "express",
            "axios",
            "minimist",
            "semver",
            "tough-cookie",
            "ws",
            "jsonwebtoken",
            "qs",
            "undici",
            "follow-redirects",
            "body-parser",
            "path-to-regexp",
            "cookie",
            "braces",
        ],
    ),
    (
        "pypi",
        "pypi",
        "services/reports/requirements.txt",
        [
            "django",
            "requests",
            "urllib3",
            "jinja2",
            "pyyaml",
            "cryptography",
            "pillow",
            "flask",
            "lxml",
            "setuptools",
            "certifi",
            "idna",
            "werkzeug",
            "sqlparse",
            "aiohttp",
        ],
    ),
    (
        "maven",
        "maven",
        "backend/pom.xml",
        [
            "org.apache.logging.log4j:log4j-core",
            "com.fasterxml.jackson.core:jackson-databind",
            "org.springframework:spring-web",
            "org.yaml:snakeyaml",
            "commons-io:commons-io",
            "io.netty:netty-codec-http",
            "org.apache.tomcat.embed:tomcat-embed-core",
            "com.google.guava:guava",
            "org.bouncycastle:bcprov-jdk18on",
            "ch.qos.logback:logback-core",
            "org.apache.commons:commons-text",
            "com.google.protobuf:protobuf-java",
            "org.postgresql:postgresql",
            "io.undertow:undertow-core",
            "org.eclipse.jetty:jetty-server",
        ],
    ),
    (
        "gomod",
        "golang",
        "usr/local/bin/api",
        [
            "golang.org/x/net",
            "golang.org/x/crypto",
            "golang.org/x/text",
            "google.golang.org/grpc",
            "github.com/gin-gonic/gin",
            "stdlib",
            "github.com/docker/docker",
            "google.golang.org/protobuf",
            "github.com/golang-jwt/jwt/v4",
            "gopkg.in/yaml.v3",
            "github.com/opencontainers/runc",
            "github.com/containerd/containerd",
            "github.com/hashicorp/go-getter",
            "k8s.io/apimachinery",
            "github.com/prometheus/client_golang",
        ],
    ),
    (
        "cargo",
        "cargo",
        "app/Cargo.lock",
        [
            "hyper",
            "h2",
            "tokio",
            "openssl",
            "regex",
            "time",
            "smallvec",
            "rustls",
            "chrono",
            "crossbeam-channel",
            "ring",
            "idna",
            "url",
            "tar",
            "zip",
        ],
    ),
    (
        "debian",
        "deb/debian",
        "registry.example.com/shop/api:4.2.1 (debian 12.5)",
        [
            "openssl",
            "libxml2",
            "zlib1g",
            "curl",
            "libc6",
            "libssl3",
            "perl-base",
            "tar",
            "gnutls28",
            "libexpat1",
            "systemd",
            "libsqlite3-0",
            "bash",
            "libgcrypt20",
            "krb5",
        ],
    ),
    (
        "bundler",
        "gem",
        "app/Gemfile.lock",
        [
            "rails",
            "nokogiri",
            "rack",
            "actionpack",
            "activesupport",
            "puma",
            "loofah",
            "sprockets",
            "devise",
            "json",
            "rexml",
            "net-imap",
            "uri",
            "activerecord",
            "websocket-driver",
        ],
    ),
    (
        "composer",
        "composer",
        "app/composer.lock",
        [
            "symfony/http-kernel",
            "guzzlehttp/guzzle",
            "laravel/framework",
            "twig/twig",
            "monolog/monolog",
            "phpmailer/phpmailer",
            "league/flysystem",
            "symfony/mime",
            "doctrine/dbal",
            "firebase/php-jwt",
            "symfony/process",
            "guzzlehttp/psr7",
            "phpseclib/phpseclib",
            "dompdf/dompdf",
            "tecnickcom/tcpdf",
        ],
    ),
];

/// Language, source root, file extension (CodeQL).
const LANGUAGES: &[(&str, &str, &str)] = &[
    ("js", "web/src", "ts"),
    ("py", "services/reports", "py"),
    ("java", "backend/src/main/java/com/example/shop", "java"),
    ("go", "internal/api", "go"),
    ("cs", "Shop.Api/Controllers", "cs"),
];

/// Rule slug, its description, CWE (CodeQL).
const RULES: &[(&str, &str, u32)] = &[
    ("sql-injection", "Database query built from user-controlled sources", 89),
    ("xss", "Cross-site scripting", 79),
    ("path-injection", "Uncontrolled data used in path expression", 22),
    ("command-line-injection", "Uncontrolled command line", 78),
    ("request-forgery", "Server-side request forgery", 918),
    ("unsafe-deserialization", "Deserialization of user-controlled data", 502),
    ("weak-cryptographic-algorithm", "Use of a broken or weak cryptographic algorithm", 327),
    ("clear-text-logging", "Clear-text logging of sensitive information", 312),
    ("xxe", "XML external entity expansion", 611),
    ("redos", "Inefficient regular expression", 1333),
    ("url-redirection", "Server-side URL redirect", 601),
    ("stack-trace-exposure", "Information exposure through a stack trace", 209),
];

const MODULES: &[&str] =
    &["orders", "cart", "checkout", "accounts", "search", "admin", "reports", "billing", "inventory", "auth"];

/// Alert, plugin id, CWE (ZAP).
const ALERTS: &[(&str, u32, u32)] = &[
    ("Cross Site Scripting (Reflected)", 40012, 79),
    ("SQL Injection", 40018, 89),
    ("Content Security Policy (CSP) Header Not Set", 10038, 693),
    ("Missing Anti-clickjacking Header", 10020, 1021),
    ("Cookie without SameSite Attribute", 10054, 1275),
    ("Strict-Transport-Security Header Not Set", 10035, 319),
    ("Server Leaks Version Information via \"Server\" HTTP Response Header Field", 10036, 200),
    ("Path Traversal", 6, 22),
];

const PATHS: &[&str] = &[
    "/login",
    "/api/orders",
    "/search",
    "/account/settings",
    "/admin",
    "/checkout",
    "/static/app.js",
    "/reports/export",
];

const TAGS: &[&str] = &["pci", "internet-facing", "sca", "sast", "dast", "pentest", "infra", "cloud", "legacy", "q3"];

const VECTORS: &[&str] = &[
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H",
];

// ---------------------------------------------------------------------------
// SQL for both backends

/// What differs between the backends' SQL; the rest is written once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sql {
    Sqlite,
    Postgres,
}

impl Sql {
    fn of(db: &Database) -> Self {
        match db.conn().get_database_backend() {
            DbBackend::Postgres => Sql::Postgres,
            _ => Sql::Sqlite,
        }
    }

    fn backend(self) -> DbBackend {
        match self {
            Sql::Sqlite => DbBackend::Sqlite,
            Sql::Postgres => DbBackend::Postgres,
        }
    }

    /// `s(i)`: the integers `from..to`.
    fn series(self, from: i64, to: i64) -> String {
        match self {
            Sql::Sqlite => {
                format!("WITH RECURSIVE s(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM s WHERE i < {to} - 1) ")
            }
            Sql::Postgres => format!("WITH s(i) AS (SELECT generate_series(CAST({from} AS bigint), {to} - 1)) "),
        }
    }

    /// A non-negative integer as `width` hex digits.
    fn hex(self, e: &str, width: usize) -> String {
        match self {
            Sql::Sqlite => format!("printf('%0{width}x', {e})"),
            Sql::Postgres => format!("lpad(to_hex({e}), {width}, '0')"),
        }
    }

    /// A UUID from 32 hex digits (SQLite stores UUIDs as 16-byte blobs).
    fn uuid(self, hex: &str) -> String {
        match self {
            Sql::Sqlite => format!("unhex({hex})"),
            Sql::Postgres => format!("CAST({hex} AS uuid)"),
        }
    }

    fn uuid_literal(self, id: Uuid) -> String {
        match self {
            Sql::Sqlite => format!("X'{}'", id.simple()),
            Sql::Postgres => format!("CAST('{id}' AS uuid)"),
        }
    }

    /// A time from Unix seconds and nanoseconds; on SQLite the text the
    /// driver writes (RFC 3339, nine fraction digits, `+00:00`), so rows
    /// compare and page as the application's own do.
    fn time(self, seconds: &str, nanos: &str) -> String {
        match self {
            Sql::Sqlite => format!(
                "(strftime('%Y-%m-%dT%H:%M:%S', {seconds}, 'unixepoch') || '.' || printf('%09d', {nanos}) || '+00:00')"
            ),
            Sql::Postgres => format!("(to_timestamp({seconds}) + (({nanos}) / 1000) * INTERVAL '1 microsecond')"),
        }
    }

    fn date(self, seconds: &str) -> String {
        match self {
            Sql::Sqlite => format!("date({seconds}, 'unixepoch')"),
            Sql::Postgres => format!("CAST(to_timestamp({seconds}) AT TIME ZONE 'UTC' AS date)"),
        }
    }

    fn json(self, text: &str) -> String {
        match self {
            Sql::Sqlite => text.to_owned(),
            Sql::Postgres => format!("CAST({text} AS jsonb)"),
        }
    }

    /// The n-th bound parameter.
    fn param(self, n: usize) -> String {
        match self {
            Sql::Sqlite => format!("?{n}"),
            Sql::Postgres => format!("${n}"),
        }
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// An integer as text (`||` binds tighter than `%` on SQLite: always cast).
fn text(e: &str) -> String {
    format!("CAST(({e}) AS TEXT)")
}

/// `options[index]`, for an index in `0..options.len()`.
fn pick<S: AsRef<str>>(index: &str, options: &[S]) -> String {
    let mut sql = format!("(CASE {index}");
    for (i, option) in options.iter().enumerate() {
        let _ = write!(sql, " WHEN {i} THEN {}", quote(option.as_ref()));
    }
    sql.push_str(" END)");
    sql
}

fn boolean(condition: &str) -> String {
    format!("(CASE WHEN {condition} THEN TRUE ELSE FALSE END)")
}

/// A pseudo-random integer in `0..2^31 - 1` from a row's seed and a salt
/// (one multiplicative step, then a squaring, modulo 2^31 - 1: no
/// intermediate exceeds 2^63 for seeds below 2^26).
fn random(seed: &str, salt: u32) -> String {
    let a = format!("((({seed}) * 1103515245 + {}) % 2147483647)", 12_345 + salt * 7_919);
    format!("(({a} * {a} + {salt}) % 2147483647)")
}

// ---------------------------------------------------------------------------
// Seeding

struct SeededTeam {
    id: Uuid,
    members: Vec<Uuid>,
    /// Its records (numbers 1..=rows).
    rows: i64,
}

/// Where the rows go: block after block of `PER_BLOCK` records of the
/// exported team (slot 0) then one of each other team (slots 1..), over
/// two years ending now.
struct Plan {
    teams: Vec<SeededTeam>,
    block: i64,
    blocks: i64,
    start: i64,
    step: i64,
    now: i64,
    /// Versions of each package.
    versions: u32,
}

impl Plan {
    fn total(&self) -> i64 {
        self.block * self.blocks
    }

    fn team_of_slot(&self, sql: Sql, slot: &str) -> String {
        let mut case = format!("(CASE {slot}");
        for (s, team) in self.teams.iter().enumerate() {
            let _ = write!(case, " WHEN {s} THEN {}", sql.uuid_literal(team.id));
        }
        case.push_str(" END)");
        case
    }

    /// Member `index` (`0..MEMBERS`) of the team in `slot`.
    fn member(&self, sql: Sql, slot: &str, index: &str) -> String {
        let mut case = format!("(CASE ({slot}) * {MEMBERS} + ({index})");
        for (s, team) in self.teams.iter().enumerate() {
            for (m, member) in team.members.iter().enumerate() {
                let _ = write!(case, " WHEN {} THEN {}", s * MEMBERS + m, sql.uuid_literal(*member));
            }
        }
        case.push_str(" END)");
        case
    }

    /// Asset `k` of the team in `slot`: its id is made of both, so records
    /// name it without a lookup.
    fn asset_id(&self, sql: Sql, slot: &str, k: &str) -> String {
        let millis = self.start * 1000;
        sql.uuid(&format!(
            "{} || '7' || {} || '8' || {}",
            sql.hex(&millis.to_string(), 12),
            sql.hex(slot, 3),
            sql.hex(k, 15)
        ))
    }
}

/// The teams, their members, and the API token of the exported team's ADMIN.
async fn create_teams(db: &Database, args: &Args) -> (Vec<SeededTeam>, String) {
    let password_hash =
        vulntrack::auth::PasswordHasher::default().hash(SecretString::from(PASSWORD)).await.expect("hash");
    let mut seeded = Vec::new();
    let mut token = None;
    for t in 0..args.teams {
        let txn = db.begin().await.expect("begin");
        let team = teams::create(&txn, &format!("Team {t:02}")).await.expect("team");
        let mut members = Vec::new();
        for m in 0..MEMBERS {
            let email = format!("member{m}.team{t}@example.com");
            let role = if m == 0 { Role::Admin } else { Role::Analyst };
            let new = users::NewUser { email: &email, name: "Bench Member", role, password_hash: &password_hash };
            let user = users::create(&txn, team.scope(), new).await.expect("user");
            if t == 0 && m == 0 {
                let secret = secret_token::issue("vt_");
                let new_token = api_tokens::NewApiToken {
                    user_id: user.id,
                    name: "export bench",
                    token_hash: &secret.hash,
                    prefix: "vt_bench",
                    expires_at: Some(chrono::Utc::now() + chrono::Duration::days(30)),
                };
                api_tokens::create(&txn, team.scope(), new_token).await.expect("token");
                token = Some(secret.plain);
            }
            members.push(user.id.as_uuid());
        }
        txn.commit().await.expect("commit");
        seeded.push(SeededTeam { id: team.id.as_uuid(), members, rows: 0 });
    }
    (seeded, token.expect("the exported team's token"))
}

fn assets_sql(sql: Sql, plan: &Plan) -> String {
    let count = plan.teams.len() as i64 * ASSETS;
    let created = sql.time(&plan.start.to_string(), "1");
    format!(
        "{series}INSERT INTO assets (id, team_id, name, name_key, kind, environment, criticality, tags, created_at, updated_at, version) \
         SELECT {id}, {team}, 'host-' || {k}, 'host-' || {k}, 'host', {environment}, {criticality}, {tags}, {created}, {created}, 1 FROM s",
        series = sql.series(0, count),
        id = plan.asset_id(sql, &format!("i / {ASSETS}"), &format!("i % {ASSETS}")),
        team = plan.team_of_slot(sql, &format!("i / {ASSETS}")),
        k = text(&format!("i % {ASSETS}")),
        environment = pick(&format!("(i % {ASSETS}) % 4"), &["production", "production", "staging", "development"]),
        criticality = pick("(i / 4) % 4", &["CRITICAL", "HIGH", "MEDIUM", "LOW"]),
        tags = sql.json("'[]'"),
    )
}

/// The records of rows `from..to` (whole blocks).
fn vulnerabilities_sql(sql: Sql, plan: &Plan, sentences: &[String], from: i64, to: i64) -> String {
    let b = plan.block;
    // a: which team and number; b: the row's seed; c: its random numbers;
    // d: what they pick.
    let a = format!(
        "SELECT i, CASE WHEN i % {b} < {PER_BLOCK} THEN 0 ELSE i % {b} - {PER_BLOCK} + 1 END AS slot, \
         CASE WHEN i % {b} < {PER_BLOCK} THEN (i / {b}) * {PER_BLOCK} + i % {b} + 1 ELSE i / {b} + 1 END AS number FROM s"
    );
    let seeded = format!("SELECT i, slot, number, number * 64 + slot AS seed FROM ({a}) a");
    let randoms: Vec<String> = (1..=24).map(|n| format!("{} AS r{n}", random("seed", n))).collect();
    let c = format!("SELECT i, slot, number, seed, {} FROM ({seeded}) b", randoms.join(", "));
    let (start, step, now, versions) = (plan.start, plan.step, plan.now, plan.versions);
    let ecosystems: Vec<&str> = ECOSYSTEMS.iter().map(|e| e.0).collect();
    let lock_files: Vec<&str> = ECOSYSTEMS.iter().map(|e| e.2).collect();
    let packages: Vec<&str> = ECOSYSTEMS.iter().flat_map(|e| e.3).collect();
    let purl_prefixes: Vec<String> = ECOSYSTEMS
        .iter()
        .flat_map(|(_, purl_type, _, names)| {
            names.iter().map(move |n| format!("pkg:{purl_type}/{}@", n.replace(':', "/")))
        })
        .collect();
    let d = format!(
        "SELECT c.*, \
           r1 % 10 AS bucket, r2 % 100 AS sv, r3 % 100 AS st, \
           {start} + i * {step} + r4 % {step} AS t, (r5 % 99999999) * 10 + 1 AS nanos, \
           r6 % {ASSETS} AS k, r7 % {packages} AS pkg, \
           {text_major} || '.' || {text_minor} || '.' || {text_patch} AS ver, \
           {text_major} || '.' || {text_fixed_minor} || '.0' AS fixed, \
           'CVE-' || {cve_year} || '-' || {cve_number} AS cve \
         FROM ({c}) c",
        packages = packages.len(),
        // The version's index v: major v / 10, minor v % 10, a patch of
        // its own.
        text_major = text(&format!("((r7 / 120) % {versions}) / 10")),
        text_minor = text(&format!("((r7 / 120) % {versions}) % 10")),
        text_patch = text(&format!("((r7 / 120) % {versions} + r7 % 120) % 7")),
        text_fixed_minor = text(&format!("((r7 / 120) % {versions}) % 10 + 1")),
        cve_year = text("2015 + (r8 % 20000) % 11"),
        cve_number = text("10000 + (r8 % 20000) / 11"),
    );
    // e: the record's fields that others derive from.
    let severity = "CASE WHEN sv < 5 THEN 'CRITICAL' WHEN sv < 30 THEN 'HIGH' WHEN sv < 75 THEN 'MEDIUM' WHEN sv < 95 THEN 'LOW' ELSE 'INFO' END";
    let rank = "CASE WHEN sv < 5 THEN 5 WHEN sv < 30 THEN 4 WHEN sv < 75 THEN 3 WHEN sv < 95 THEN 2 ELSE 1 END";
    let status =
        "CASE WHEN st < 40 THEN 'OPEN' WHEN st < 55 THEN 'IN_PROGRESS' WHEN st < 85 THEN 'RESOLVED' ELSE 'CLOSED' END";
    let resolution = "CASE WHEN st >= 55 THEN CASE (r3 / 100) % 10 WHEN 6 THEN 'FALSE_POSITIVE' WHEN 7 THEN 'WONT_FIX' \
                      WHEN 8 THEN 'NOT_APPLICABLE' WHEN 9 THEN 'RISK_ACCEPTED' ELSE 'FIXED' END END";
    let resolved = format!("CASE WHEN st >= 55 THEN t + (({now} - t) * ((r3 / 1000) % 100)) / 100 END");
    let updated = format!(
        "CASE WHEN st >= 55 THEN t + (({now} - t) * ((r3 / 1000) % 100)) / 100 ELSE t + (({now} - t) * ((r3 / 100000) % 30)) / 100 END"
    );
    let has_cve = format!("bucket < 5 OR (bucket >= 8 AND (r6 / {ASSETS}) % 3 = 0)");
    let e = format!(
        "SELECT d.*, {severity} AS severity, {rank} AS severity_rank, {status} AS status, {resolution} AS resolution, \
           {resolved} AS resolved_s, {updated} AS updated_s, \
           CASE WHEN {has_cve} THEN cve END AS cve_id, \
           CASE WHEN bucket < 5 OR (r6 / {ASSETS}) % 4 <> 0 THEN 1 ELSE 0 END AS scored, \
           'host-' || {k} AS asset, {package} AS package, \
           CASE WHEN (r7 / 12000) % 10 < 8 THEN fixed END AS fix, \
           {lang} AS lang, {rule} AS rule, {alert} AS alert \
         FROM ({d}) d",
        k = text("k"),
        package = pick("pkg", &packages),
        lang = pick("r10 % 5", &LANGUAGES.iter().map(|l| l.0).collect::<Vec<_>>()),
        rule = pick("(r10 / 5) % 12", &RULES.iter().map(|r| r.0).collect::<Vec<_>>()),
        alert = pick("r11 % 8", &ALERTS.iter().map(|a| a.0).collect::<Vec<_>>()),
    );

    let trivy = "bucket < 5";
    let sarif = "bucket IN (5, 6)";
    let zap = "bucket = 7";
    let scanner = "bucket < 8";
    let created = sql.time("t", "nanos");
    let sarif_file = format!(
        "{root} || '/' || {module} || '/' || {word} || '_' || {n} || '.' || {ext}",
        root = pick("r10 % 5", &LANGUAGES.iter().map(|l| l.1).collect::<Vec<_>>()),
        module = pick("(r10 / 60) % 10", MODULES),
        word = pick("(r10 / 600) % 48", WORDS),
        n = text("(r10 / 28800) % 40"),
        ext = pick("r10 % 5", &LANGUAGES.iter().map(|l| l.2).collect::<Vec<_>>()),
    );
    let manual_title = format!(
        "{} || ' ' || {} || ' ' || {} || ' ' || {} || ' on ' || asset",
        pick("(r11 / 64) % 48", WORDS),
        pick("(r11 / 3072) % 48", WORDS),
        pick("(r11 / 147456) % 48", WORDS),
        pick("(r12 / 1000) % 48", WORDS),
    );
    let rule_label = pick("(r10 / 5) % 12", &RULES.iter().map(|r| r.1).collect::<Vec<_>>());
    let title = format!(
        "CASE WHEN {trivy} THEN cve || ' in ' || package || ' ' || ver \
              WHEN {sarif} THEN {rule_label} || ' in ' || lang || ' code (' || {module} || ')' \
              WHEN {zap} THEN alert || ' on ' || asset \
              ELSE {manual_title} END",
        module = pick("(r10 / 60) % 10", MODULES),
    );
    let description = format!(
        "{} || ' ' || {} || ' ' || {}",
        pick("r9 % 48", sentences),
        pick("(r9 / 48) % 48", sentences),
        pick("(r9 / 2304) % 48", sentences)
    );
    let score = "CASE WHEN scored = 0 THEN NULL WHEN severity_rank = 5 THEN 9.0 + ((r2 / 100) % 11) / 10.0 \
                 WHEN severity_rank = 4 THEN 7.0 + ((r2 / 100) % 20) / 10.0 WHEN severity_rank = 3 THEN 4.0 + ((r2 / 100) % 30) / 10.0 \
                 WHEN severity_rank = 2 THEN 0.1 + ((r2 / 100) % 39) / 10.0 ELSE 0.0 END";
    let cwe = format!(
        "CASE WHEN {sarif} THEN {} WHEN {zap} THEN {} WHEN {trivy} AND (r8 / 20000) % 3 = 0 THEN {} END",
        pick("(r10 / 5) % 12", &RULES.iter().map(|r| format!("[{}]", r.2)).collect::<Vec<_>>()),
        pick("r11 % 8", &ALERTS.iter().map(|a| format!("[{}]", a.2)).collect::<Vec<_>>()),
        pick("(r8 / 60000) % 6", &["[787]", "[79]", "[20]", "[400]", "[416]", "[22]"]),
    );
    let fingerprint =
        (13..=19).map(|n| sql.hex(&format!("r{n}"), 8)).chain([sql.hex("seed", 8)]).collect::<Vec<_>>().join(" || ");
    let id = sql.uuid(&format!(
        "{} || '7' || {} || {} || {}",
        sql.hex("t * 1000 + nanos / 1000000", 12),
        sql.hex("r21 % 4096", 3),
        sql.hex("8 + r22 % 4", 1),
        sql.hex("i * 1048576 + r23 % 1048576", 15),
    ));
    // The team's SLA (the defaults): days to fix, and the due-soon window.
    let due = "CASE severity_rank WHEN 5 THEN t + 7 * 86400 WHEN 4 THEN t + 30 * 86400 WHEN 3 THEN t + 90 * 86400 WHEN 2 THEN t + 180 * 86400 END";
    let due_soon = "CASE severity_rank WHEN 5 THEN t + 4 * 86400 WHEN 4 THEN t + 24 * 86400 WHEN 3 THEN t + 72 * 86400 WHEN 2 THEN t + 144 * 86400 END";
    let columns: Vec<(&str, String)> = vec![
        ("id", id),
        ("team_id", plan.team_of_slot(sql, "slot")),
        ("number", "number".into()),
        ("title", title),
        ("description", description),
        ("severity", "severity".into()),
        ("severity_rank", "severity_rank".into()),
        ("status", "status".into()),
        ("kind", "CASE WHEN (r1 / 10) % 10 = 0 THEN 'MISCONFIGURATION' ELSE 'VULNERABILITY' END".into()),
        ("cve_id", "cve_id".into()),
        ("cvss_vector", format!("CASE WHEN scored = 1 THEN {} END", pick("(r2 / 4000) % 6", VECTORS))),
        ("cvss_version", "CASE WHEN scored = 1 THEN '3.1' END".into()),
        ("cvss_score", score.into()),
        ("stride_spoofing", "FALSE".into()),
        ("stride_tampering", "FALSE".into()),
        ("stride_repudiation", "FALSE".into()),
        ("stride_information_disclosure", "FALSE".into()),
        ("stride_denial_of_service", "FALSE".into()),
        ("stride_elevation_of_privilege", "FALSE".into()),
        ("assets", sql.json("'[\"' || asset || '\"]'")),
        (
            "reference_links",
            sql.json(
                "CASE WHEN cve_id IS NULL THEN '[]' ELSE '[\"https://nvd.nist.gov/vuln/detail/' || cve_id || '\"]' END",
            ),
        ),
        (
            "remediation",
            format!(
                "CASE WHEN {trivy} AND fix IS NOT NULL THEN 'Upgrade ' || package || ' to ' || fix || '.' \
                      WHEN bucket >= 8 AND (r12 / 100) % 2 = 0 THEN 'Patch the host and restart the service.' END"
            ),
        ),
        (
            "assignee_id",
            format!("CASE WHEN r12 % 3 <> 0 THEN {} END", plan.member(sql, "slot", &format!("(r12 / 3) % {MEMBERS}"))),
        ),
        (
            "reporter_id",
            format!("CASE WHEN bucket >= 8 THEN {} END", plan.member(sql, "slot", &format!("(r12 / 30) % {MEMBERS}"))),
        ),
        ("resolved_at", format!("CASE WHEN resolved_s IS NOT NULL THEN {} END", sql.time("resolved_s", "nanos"))),
        ("created_at", created.clone()),
        ("updated_at", sql.time("updated_s", "nanos")),
        ("version", "1 + (r1 / 100) % 3".into()),
        (
            "source",
            format!("CASE WHEN {trivy} THEN 'trivy' WHEN {sarif} THEN 'sarif' WHEN {zap} THEN 'zap' ELSE 'manual' END"),
        ),
        (
            "scanner",
            format!(
                "CASE WHEN {trivy} THEN 'Trivy 0.58.1' WHEN {sarif} THEN 'CodeQL 2.19.3' WHEN {zap} THEN 'OWASP ZAP 2.15.0' END"
            ),
        ),
        (
            "scanner_tool",
            format!("CASE WHEN {trivy} THEN 'Trivy' WHEN {sarif} THEN 'CodeQL' WHEN {zap} THEN 'OWASP ZAP' END"),
        ),
        (
            "rule_id",
            format!(
                "CASE WHEN {trivy} THEN cve WHEN {sarif} THEN lang || '/' || rule WHEN {zap} THEN {} END",
                pick("r11 % 8", &ALERTS.iter().map(|a| a.1.to_string()).collect::<Vec<_>>())
            ),
        ),
        ("cwe_ids", sql.json(&cwe)),
        ("component_name", format!("CASE WHEN {trivy} THEN package END")),
        ("component_version", format!("CASE WHEN {trivy} THEN ver END")),
        ("component_purl", format!("CASE WHEN {trivy} THEN {} || ver END", pick("pkg", &purl_prefixes))),
        ("component_ecosystem", format!("CASE WHEN {trivy} THEN {} END", pick("pkg / 15", &ecosystems))),
        ("fixed_version", format!("CASE WHEN {trivy} THEN fix END")),
        (
            "location_file",
            format!("CASE WHEN {trivy} THEN {} WHEN {sarif} THEN {sarif_file} END", pick("pkg / 15", &lock_files)),
        ),
        ("location_line", format!("CASE WHEN {sarif} THEN 1 + r24 % 2500 END")),
        (
            "location_url",
            format!(
                "CASE WHEN {zap} THEN 'https://' || asset || '.example.com' || {} END",
                pick("(r11 / 8) % 8", PATHS)
            ),
        ),
        ("location_host", format!("CASE WHEN {zap} THEN asset || '.example.com' END")),
        ("location_port", format!("CASE WHEN {zap} THEN 443 END")),
        ("location_protocol", format!("CASE WHEN {zap} THEN 'https' END")),
        ("fingerprint", format!("CASE WHEN {scanner} THEN {fingerprint} END")),
        ("finding_asset_id", format!("CASE WHEN {scanner} THEN {} END", plan.asset_id(sql, "slot", "k"))),
        ("first_seen_at", format!("CASE WHEN {scanner} THEN {created} END")),
        ("last_seen_at", format!("CASE WHEN {scanner} THEN {} END", sql.time("updated_s", "nanos"))),
        ("occurrences", format!("CASE WHEN {scanner} THEN 1 + (r1 / 300) % 5 END")),
        ("severity_overridden", boolean("bucket < 8 AND (r1 / 1500) % 50 = 0")),
        ("resolution", "resolution".into()),
        (
            "resolution_note",
            "CASE resolution WHEN 'FALSE_POSITIVE' THEN 'Not reachable: the input is validated upstream.' \
                 WHEN 'WONT_FIX' THEN 'Legacy system, decommissioned next quarter.' END"
                .into(),
        ),
        (
            "risk_accepted_until",
            format!("CASE WHEN resolution = 'RISK_ACCEPTED' THEN {} END", sql.date("resolved_s + 180 * 86400")),
        ),
        ("due_at", sql.time(due, "nanos")),
        ("due_soon_at", sql.time(due_soon, "nanos")),
        ("known_exploited", boolean("cve_id IS NOT NULL AND (r8 / 20000) % 50 = 0")),
        ("epss_score", "CASE WHEN cve_id IS NOT NULL THEN ((r8 / 1000000) % 1000) / 1000.0 END".into()),
        ("priority", "severity_rank * 16 + (r2 / 240000) % 20".into()),
    ];
    let (names, values): (Vec<&str>, Vec<String>) = columns.into_iter().unzip();
    format!(
        "{series}INSERT INTO vulnerabilities ({names}) SELECT {values} FROM ({e}) e",
        series = sql.series(from, to),
        names = names.join(", "),
        values = values.join(", "),
    )
}

/// The records of the team in `slot` numbered `numbers`: their seed again.
fn records_of(plan: &Plan, sql: Sql, slot: usize, numbers: (i64, i64)) -> String {
    format!(
        "SELECT team_id, id, number * 64 + {slot} AS seed FROM vulnerabilities \
         WHERE team_id = {team} AND number > {} AND number <= {}",
        numbers.0,
        numbers.1,
        team = sql.uuid_literal(plan.teams[slot].id),
    )
}

/// Each record's tags: each of the ten with a chance of 12 %.
fn tags_sql(plan: &Plan, sql: Sql, slot: usize, numbers: (i64, i64)) -> String {
    let values: Vec<String> = TAGS.iter().enumerate().map(|(k, tag)| format!("({k}, {})", quote(tag))).collect();
    format!(
        "INSERT INTO vulnerability_tags (team_id, vulnerability_id, tag) \
         SELECT v.team_id, v.id, t.column2 FROM ({records}) v CROSS JOIN (VALUES {values}) AS t \
         WHERE {chance} % 100 < 12",
        records = records_of(plan, sql, slot, numbers),
        values = values.join(", "),
        chance = random("v.seed * 16 + t.column1", 99),
    )
}

/// Each record's link to the asset it names (as the store links them).
fn asset_links_sql(plan: &Plan, sql: Sql, slot: usize, numbers: (i64, i64)) -> String {
    // r6, as the records were written.
    let k = format!("{} % {ASSETS}", random("seed", 6));
    format!(
        "INSERT INTO vulnerability_assets (team_id, vulnerability_id, asset_id) \
         SELECT team_id, id, {asset} FROM ({records}) v",
        asset = plan.asset_id(sql, &slot.to_string(), &k),
        records = records_of(plan, sql, slot, numbers),
    )
}

async fn run(db: &Database, sql: Sql, statements: &[String]) {
    let txn = db.begin().await.expect("begin");
    match sql {
        // The seeding writes every index of a large table: a page cache to
        // match (this connection's only; the server's are its own).
        Sql::Sqlite => txn.execute_unprepared("PRAGMA cache_size = -524288").await.expect("cache size"),
        // Compiling these long expressions took LLVM a minute a statement.
        Sql::Postgres => txn.execute_unprepared("SET LOCAL jit = off").await.expect("jit off"),
    };
    for statement in statements {
        if let Err(error) = txn.execute_unprepared(statement).await {
            panic!("{error}\n{}", &statement[..statement.len().min(2000)]);
        }
    }
    txn.commit().await.expect("commit");
}

/// What the seeding wrote.
struct Seeded {
    plan: Plan,
    token: String,
}

async fn seed(db: &Database, args: &Args) -> Seeded {
    let started = Instant::now();
    let sql = Sql::of(db);
    let (mut teams, token) = create_teams(db, args).await;
    let blocks = args.rows as i64 / PER_BLOCK;
    let block = PER_BLOCK + teams.len() as i64 - 1;
    for (slot, team) in teams.iter_mut().enumerate() {
        team.rows = if slot == 0 { blocks * PER_BLOCK } else { blocks };
    }
    let now = chrono::Utc::now().timestamp();
    let start = now - SPAN_SECONDS;
    let plan = Plan {
        teams,
        block,
        blocks,
        start,
        step: (SPAN_SECONDS / (block * blocks)).max(1),
        now,
        versions: args.versions.max(1),
    };
    let sentences = sentences();
    run(db, sql, &[assets_sql(sql, &plan)]).await;
    let blocks_per_chunk = (CHUNK_ROWS / block).max(1);
    let mut first = 0;
    while first < blocks {
        let last = (first + blocks_per_chunk).min(blocks);
        let mut statements = vec![vulnerabilities_sql(sql, &plan, &sentences, first * block, last * block)];
        for slot in 0..plan.teams.len() {
            let per_block = if slot == 0 { PER_BLOCK } else { 1 };
            let numbers = (first * per_block, last * per_block);
            statements.push(tags_sql(&plan, sql, slot, numbers));
            statements.push(asset_links_sql(&plan, sql, slot, numbers));
        }
        run(db, sql, &statements).await;
        eprintln!("  seeded {} of {} rows, {:.0?}", last * block, plan.total(), started.elapsed());
        first = last;
    }
    for team in &plan.teams {
        db.conn()
            .execute_unprepared(&format!(
                "UPDATE teams SET next_vuln_number = {} WHERE id = {}",
                team.rows + 1,
                sql.uuid_literal(team.id)
            ))
            .await
            .expect("next number");
    }
    // As if another node had just run the background jobs: the SLA notices
    // of two years of overdue records are not what is measured.
    let now = chrono::Utc::now();
    for job in vulntrack::jobs::Job::ALL {
        let name = job.name();
        let lease = now + chrono::Duration::minutes(10);
        if vulntrack_store::jobs::claim(db.conn(), name, "export-bench", now, lease).await.expect("claim job") {
            vulntrack_store::jobs::finish(db.conn(), name, "export-bench", now, now + chrono::Duration::days(7), None)
                .await
                .expect("finish job");
        }
    }
    // Fresh statistics and settled storage, as autovacuum or a DBA would
    // have by now.
    match sql {
        Sql::Postgres => {
            for statement in [
                "VACUUM (ANALYZE) vulnerabilities",
                "VACUUM (ANALYZE) vulnerability_tags",
                "VACUUM (ANALYZE) vulnerability_assets",
                "CHECKPOINT",
            ] {
                db.conn().execute_unprepared(statement).await.expect("vacuum");
            }
        }
        Sql::Sqlite => {
            db.conn().execute_unprepared("ANALYZE").await.expect("analyze");
            db.conn().execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await.expect("checkpoint");
        }
    }
    eprintln!("  seeded {} rows over {} teams in {:.1?}", plan.total(), plan.teams.len(), started.elapsed());
    Seeded { plan, token }
}

async fn scalar(db: &Database, statement: &str) -> i64 {
    let row = db
        .conn()
        .query_one_raw(Statement::from_string(db.conn().get_database_backend(), statement))
        .await
        .expect("query")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("a number")
}

// ---------------------------------------------------------------------------
// The server and its memory

fn status_kb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// The server's process: killed when dropped before it was stopped and
/// reaped (until it is reaped, its id cannot be another process's).
struct Stop {
    pid: u32,
    reaped: bool,
}

impl Stop {
    fn signal(&self, signal: &str) {
        let _ = Command::new("kill").args([signal, &self.pid.to_string()]).stderr(Stdio::null()).status();
    }
}

impl Drop for Stop {
    fn drop(&mut self) {
        if !self.reaped {
            self.signal("-KILL");
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port()
}

/// One export's figures.
struct Figures {
    rows: u64,
    announced: u64,
    wall: Duration,
    first_byte: Duration,
    bytes: u64,
    before_mib: f64,
    peak_mib: f64,
    /// Whether the peak was reset just before the request (else it is the
    /// process's whole life's).
    reset: bool,
}

/// Newlines outside quoted fields: CSV records, whatever the fields hold.
#[derive(Default)]
struct CsvRecords {
    quoted: bool,
    lines: u64,
}

impl CsvRecords {
    fn feed(&mut self, bytes: &[u8]) {
        for byte in bytes {
            match byte {
                b'"' => self.quoted = !self.quoted,
                b'\n' if !self.quoted => self.lines += 1,
                _ => {}
            }
        }
    }
}

/// Starts the server, exports `format` once, stops the server.
async fn export(url: &DatabaseUrl, data_dir: &Path, token: &str, format: &str) -> Figures {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_vulntrack"))
        .arg("serve")
        .env("DATABASE_URL", url.expose())
        .env("VULNTRACK_DATA_DIR", data_dir)
        .env("VULNTRACK_BIND", format!("127.0.0.1:{port}"))
        .env("VULNTRACK_SECRET", SECRET)
        .env("VULNTRACK_AUTO_MIGRATE", "false")
        .env("RUST_LOG", "error")
        .envs(
            ["LOGIN", "LOGIN_CLIENT", "RESET", "API", "CREATE", "ANON"]
                .map(|rule| (format!("VULNTRACK_RATE_LIMIT_{rule}"), "100000000/1m")),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server");
    let pid = child.id();
    let mut stop = Stop { pid, reaped: false };
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server did not start");
    let bearer = format!("Bearer {token}");
    // Warm: the pool's connections, the token's check, the first page.
    let warm = client
        .get(format!("{base}/api/v1/vulnerabilities?limit=50"))
        .header("authorization", &bearer)
        .send()
        .await
        .expect("list");
    assert!(warm.status().is_success(), "list: {}", warm.status());
    let _ = warm.bytes().await.expect("list body");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let before_mib = status_kb(pid, "VmRSS:").expect("VmRSS") / 1024.0;
    // "5" resets the peak resident set (VmHWM) to the current one.
    let reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
    let watch = tokio::spawn(peak_rss::until_exit(child));

    let started = Instant::now();
    let mut response = client
        .get(format!("{base}/api/v1/vulnerabilities/export?format={format}"))
        .header("authorization", &bearer)
        .send()
        .await
        .expect("export");
    assert!(response.status().is_success(), "export {format}: {}", response.status());
    let announced: u64 =
        response.headers().get("x-total-count").and_then(|v| v.to_str().ok()?.parse().ok()).expect("X-Total-Count");
    let (mut bytes, mut newlines, mut csv) = (0_u64, 0_u64, CsvRecords::default());
    let mut first_byte = None;
    while let Some(chunk) = response.chunk().await.expect("export body") {
        if first_byte.is_none() && !chunk.is_empty() {
            first_byte = Some(started.elapsed());
        }
        bytes += chunk.len() as u64;
        match format {
            "csv" => csv.feed(&chunk),
            "jsonl" => newlines += chunk.iter().filter(|b| **b == b'\n').count() as u64,
            _ => {}
        }
    }
    let wall = started.elapsed();

    stop.signal("-TERM");
    let (peak_mib, _) = match tokio::time::timeout(Duration::from_secs(20), watch).await {
        Ok(outcome) => outcome.expect("watch the server"),
        Err(_) => panic!("the server did not stop within 20 s of SIGTERM"),
    };
    stop.reaped = true;
    let rows = match format {
        "csv" => csv.lines.saturating_sub(1),
        "jsonl" => newlines,
        _ => announced,
    };
    Figures { rows, announced, wall, first_byte: first_byte.unwrap_or(wall), bytes, before_mib, peak_mib, reset }
}

// ---------------------------------------------------------------------------
// The database's own reads

const ORDER: &str = "ORDER BY created_at DESC, id DESC";

/// `SELECT *` of the team's records (those `filter` keeps) in the export's
/// order, every row fetched, `page` rows a statement: keyset pages as the
/// export's own (one statement read whole held some 20 GB for a million
/// rows in this process).
async fn raw_read(db: &Database, sql: Sql, team: Uuid, filter: &str, page: usize) -> (u64, Duration) {
    let first = format!("SELECT * FROM vulnerabilities WHERE team_id = {}{filter} {ORDER} LIMIT {page}", sql.param(1));
    let next = format!(
        "SELECT * FROM vulnerabilities WHERE team_id = {}{filter} AND (created_at, id) < ({}, {}) {ORDER} LIMIT {page}",
        sql.param(1),
        sql.param(2),
        sql.param(3)
    );
    let started = Instant::now();
    let mut read = 0_u64;
    let mut after: Option<(chrono::DateTime<chrono::Utc>, Uuid)> = None;
    loop {
        let statement = match after {
            None => Statement::from_sql_and_values(sql.backend(), first.clone(), [Value::from(team)]),
            Some((at, id)) => Statement::from_sql_and_values(
                sql.backend(),
                next.clone(),
                [Value::from(team), Value::from(at), Value::from(id)],
            ),
        };
        let rows = db.conn().query_all_raw(statement).await.expect("page");
        read += rows.len() as u64;
        match rows.last() {
            Some(last) if rows.len() == page => {
                after =
                    Some((last.try_get("", "created_at").expect("created_at"), last.try_get("", "id").expect("id")));
            }
            _ => break,
        }
    }
    (read, started.elapsed())
}

// ---------------------------------------------------------------------------

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1_048_576.0)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

async fn measure(backend: &'static str, url: DatabaseUrl, args: Args, data_dir: std::path::PathBuf) {
    let db = Database::connect(&url, PoolSettings::default()).await.expect("connect");
    db.migrate().await.expect("migrate");
    let sql = Sql::of(&db);
    let seeded = seed(&db, &args).await;
    let plan = &seeded.plan;
    let team = plan.teams[0].id;
    let team_literal = sql.uuid_literal(team);
    let records = scalar(&db, &format!("SELECT COUNT(*) FROM vulnerabilities WHERE team_id = {team_literal}")).await;
    assert_eq!(records, plan.teams[0].rows, "the exported team's records");
    let with_component = scalar(
        &db,
        &format!("SELECT COUNT(*) FROM vulnerabilities WHERE team_id = {team_literal} AND component_name IS NOT NULL"),
    )
    .await;
    let components = scalar(
        &db,
        &format!("SELECT COUNT(DISTINCT component_purl) FROM vulnerabilities WHERE team_id = {team_literal}"),
    )
    .await;
    let tags = scalar(&db, &format!("SELECT COUNT(*) FROM vulnerability_tags WHERE team_id = {team_literal}")).await;

    println!(
        "\n## {backend}: exporting one team's {records} records ({} records over {} teams)\n",
        plan.total(),
        plan.teams.len()
    );
    println!(
        "The team's records: {with_component} with a component ({components} distinct purls), {tags} tags, \
         created over the last two years.\n"
    );
    let mut exports = Vec::new();
    for format in &args.formats {
        let figures = export(&url, &data_dir, &seeded.token, format).await;
        let expected = if format == "cyclonedx" { with_component } else { records };
        assert_eq!(figures.announced, expected as u64, "X-Total-Count of the {format} export");
        assert_eq!(figures.rows, figures.announced, "records in the {format} export");
        eprintln!("  {format}: {} records in {}", figures.rows, secs(figures.wall));
        exports.push((format, figures));
    }
    // After the exports, as warm as they left the database; the better of
    // two reads.
    let best = |a: (u64, Duration), b: (u64, Duration)| if b.1 < a.1 { b } else { a };
    let in_component = " AND component_name IS NOT NULL";
    let mut raw = Vec::new();
    for (filter, page) in [("", RAW_PAGE), ("", EXPORT_PAGE), (in_component, RAW_PAGE)] {
        raw.push(best(raw_read(&db, sql, team, filter, page).await, raw_read(&db, sql, team, filter, page).await));
    }
    let (whole, paged, components_whole) = (raw[0], raw[1], raw[2]);

    println!(
        "| format | records exported | wall | records/s | first byte | bytes | server RSS before | peak RSS during | peak RSS growth | wall ÷ raw SQL read |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (format, figures) in &exports {
        let floor = if *format == "cyclonedx" { components_whole.1 } else { whole.1 };
        println!(
            "| {format} | {} | {} | {:.0} | {} | {} ({}) | {:.1} MiB | {:.1} MiB | **{:.1} MiB** | {:.1} |",
            figures.rows,
            secs(figures.wall),
            figures.rows as f64 / figures.wall.as_secs_f64(),
            secs(figures.first_byte),
            figures.bytes,
            mib(figures.bytes),
            figures.before_mib,
            figures.peak_mib,
            figures.peak_mib - figures.before_mib,
            figures.wall.as_secs_f64() / floor.as_secs_f64(),
        );
    }
    if exports.iter().any(|(_, figures)| !figures.reset) {
        println!("\n(the peak could not be reset through /proc/PID/clear_refs: it is the server's whole life's)");
    }
    println!(
        "\n| the database's own read: plain SQL through the same driver, in this process (better of two) | rows | time | rows/s |"
    );
    println!("|---|---|---|---|");
    for (what, (rows, time)) in [
        (
            "`SELECT * FROM vulnerabilities WHERE team_id = $1 ORDER BY created_at DESC, id DESC`, every row fetched, 5 000 a statement",
            whole,
        ),
        ("the same, 500 a statement: the export's own pages (without the tags and assets it reads beside them)", paged),
        ("`… AND component_name IS NOT NULL` (CycloneDX's records), 5 000 a statement", components_whole),
    ] {
        println!("| {what} | {rows} | {} | {:.0} |", secs(time), rows as f64 / time.as_secs_f64());
    }
    db.close().await.expect("close");
}

#[tokio::main]
async fn main() {
    let args = Args::parse().effective();
    // The HTTP client's TLS (unused here: the server is plain HTTP) needs
    // a provider chosen, as the server chooses its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    assert!((2..=64).contains(&args.teams), "--teams must be 2 to 64");
    for format in &args.formats {
        assert!(FORMATS.contains(&format.as_str()), "--formats: {format} is not one of {FORMATS:?}");
    }
    if cfg!(debug_assertions) && !args.short {
        eprintln!("note: a debug build; `cargo bench` builds with optimisations");
    }
    let started = Instant::now();
    if !args.skip_sqlite {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::sqlite_file(&dir.path().join("bench.db"));
        measure("SQLite", url, args.clone(), dir.path().to_path_buf()).await;
        if args.keep {
            eprintln!("kept the SQLite database: {}", dir.keep().join("bench.db").display());
        }
    }
    if let Some(admin) = &args.postgres {
        let admin_url = DatabaseUrl::parse(admin).expect("--postgres must be a postgres:// URL");
        let admin_db = Database::connect(&admin_url, PoolSettings::default()).await.expect("connect to PostgreSQL");
        let name = format!("vt_bench_{}", Uuid::now_v7().simple());
        admin_db.conn().execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
        let mut url = url::Url::parse(admin).expect("url");
        url.set_path(&format!("/{name}"));
        let url = DatabaseUrl::parse(url.as_str()).expect("url");
        let dir = tempfile::tempdir().expect("temp dir");
        // In a task of its own, so the database is dropped even when a
        // measurement fails.
        let outcome = tokio::spawn(measure("PostgreSQL", url, args.clone(), dir.path().to_path_buf())).await;
        if args.keep {
            eprintln!("kept the PostgreSQL database: {name}");
        } else {
            admin_db
                .conn()
                .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .await
                .expect("drop database");
        }
        if let Err(failure) = outcome {
            std::panic::resume_unwind(failure.into_panic());
        }
    }
    eprintln!("  done in {:.1?}", started.elapsed());
}

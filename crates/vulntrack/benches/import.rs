//! Scanner imports against their own database, in one run.
//!
//! Seeds a database the way it looks in use (teams with their members and
//! records interleaved over time), then, for a generated Trivy JSON report
//! and a generated SARIF 2.1.0 report of N distinct findings each, times
//! the import service (parse, deduplicate, write, audit; one transaction)
//! in three phases, each round on a fresh asset:
//!
//! 1. the report imported into an empty asset;
//! 2. the same report imported again, unchanged;
//! 3. the report with 10 % changed: 5 % of its findings gone (closed), 5 %
//!    new (created) and 2 % with another fixed version (Trivy) or severity
//!    (SARIF) (updated).
//!
//! Beside it, in the same run: the report's parsing alone, its parsing and
//! mapping to records, the store's bulk write of the same records alone
//! (`vulnerabilities::create_findings`), and a plain multi-row INSERT of the
//! same rows into `vulnerabilities` through the same driver (statements
//! built beforehand; the database's own cost). Last, the peak resident
//! memory of the `vulntrack import` command on a ~100 MB Trivy report and a
//! ~100 MB SARIF log,
//! against the same command on a one-finding report (and on the large
//! report with `--minimum-severity CRITICAL`: reading and parsing it with
//! little writing). `--profile` adds, on stderr, each import's SQL
//! statements by kind and time.
//!
//! ```sh
//! # full mode, figures for docs/PERFORMANCE.md (release build):
//! cargo bench -p vulntrack --bench import -- \
//!     --postgres postgres://postgres@127.0.0.1:5432/postgres
//! # short mode, as CI runs it (small data, every figure printed):
//! cargo test -p vulntrack --bench import -- --short --postgres …
//! ```
//! No figure is asserted: timings belong to the machine, not to a test.
//! Only the generated data is checked (the first import creates exactly
//! the N findings the report holds).

#[path = "support/peak_rss.rs"]
mod peak_rss;

use std::{
    collections::{BTreeMap, HashSet},
    io::{BufWriter, Write},
    path::Path,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use clap::Parser;
use rand::{RngExt, SeedableRng, rngs::StdRng};
use sea_orm::{
    ConnectionTrait, Statement,
    sea_query::{Alias, Expr, Query},
};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;
use vulntrack::services::{
    import_mapping,
    imports::{self as import_service, ImportOptions, Importer},
};
use vulntrack_domain::{
    Role, UserId,
    vulnerability::{
        Resolution, Severity, VulnKind, VulnStatus, record::VulnerabilityRecord, risk::Stride, scanner::ScannerFields,
    },
};
use vulntrack_scanners::Format;
use vulntrack_store::{
    Database, DatabaseUrl, PoolSettings, TeamScope, assets,
    audit::{Actor, RequestContext},
    imports::{Import, ImportCounts},
    teams::{self, Team},
    users,
    vulnerabilities::{self, Findings},
};

/// The server's allocator (see `src/main.rs`): the imports here run the
/// service in this process, and with glibc's malloc the first imports took
/// 1.6–1.9 times as long as with the allocator the `vulntrack` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Clone, Parser)]
struct Args {
    /// Distinct findings in each generated report.
    #[arg(long, default_value_t = 10_000)]
    findings: usize,
    /// Records already in the database before any import.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    /// Teams they are spread over (the imports go to the middle one).
    #[arg(long, default_value_t = 50)]
    teams: usize,
    /// Measurements of each phase, each on a fresh asset.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Size of the report whose import's memory is measured, in MB.
    #[arg(long, default_value_t = 100)]
    memory_mb: usize,
    /// Small data and one round: what CI runs to prove every figure is
    /// produced.
    #[arg(long)]
    short: bool,
    /// A PostgreSQL admin URL; a fresh database is created and dropped.
    #[arg(long)]
    postgres: Option<String>,
    #[arg(long)]
    skip_sqlite: bool,
    /// Also print (to stderr) where each import's time went: its SQL
    /// statements by kind, and this process's CPU time.
    #[arg(long)]
    profile: bool,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

impl Args {
    fn effective(mut self) -> Self {
        if self.short {
            self.findings = self.findings.min(1_000);
            self.rows = self.rows.min(2_000);
            self.teams = self.teams.min(10);
            self.rounds = 1;
            self.memory_mb = self.memory_mb.min(5);
        }
        self
    }
}

const SECRET: &str = "bench-secret-bench-secret-bench-secret!";
const PASSWORD: &str = "Bench-password-7!";
/// What the imports may read (the server's default is 100 MiB).
const LIMIT: u64 = 256 * 1024 * 1024;
/// The goal per import phase (issue: "each must be ≤ 2 s on this machine").
const GOAL: Duration = Duration::from_secs(2);

// ---------------------------------------------------------------------------
// Words

const WORDS: &[&str] = &[
    "a",
    "the",
    "an",
    "attacker",
    "remote",
    "local",
    "authenticated",
    "unauthenticated",
    "crafted",
    "malicious",
    "request",
    "response",
    "header",
    "payload",
    "input",
    "string",
    "buffer",
    "heap",
    "stack",
    "overflow",
    "out-of-bounds",
    "read",
    "write",
    "use-after-free",
    "null",
    "pointer",
    "dereference",
    "integer",
    "underflow",
    "denial",
    "of",
    "service",
    "via",
    "allows",
    "could",
    "may",
    "leading",
    "to",
    "arbitrary",
    "code",
    "execution",
    "information",
    "disclosure",
    "memory",
    "corruption",
    "when",
    "processing",
    "parsing",
    "handling",
    "certificate",
    "signature",
    "verification",
    "validation",
    "improper",
    "insufficient",
    "missing",
    "check",
    "length",
    "bounds",
    "in",
    "function",
    "component",
    "module",
    "library",
    "before",
    "version",
    "versions",
    "affected",
    "through",
    "and",
    "or",
    "with",
    "which",
    "this",
    "issue",
    "vulnerability",
    "flaw",
    "exists",
    "because",
    "does",
    "not",
    "properly",
    "sanitize",
    "escape",
    "user-supplied",
    "data",
    "file",
    "path",
    "traversal",
    "directory",
    "archive",
    "decompression",
    "regular",
    "expression",
    "backtracking",
    "excessive",
    "CPU",
    "consumption",
    "resource",
    "exhaustion",
    "session",
    "cookie",
    "token",
    "authentication",
    "bypass",
    "privilege",
    "escalation",
    "race",
    "condition",
    "timing",
    "side-channel",
    "cryptographic",
    "key",
    "padding",
    "oracle",
    "XML",
    "external",
    "entity",
    "template",
    "injection",
    "command",
    "shell",
    "SQL",
    "deserialization",
    "untrusted",
    "object",
    "prototype",
    "pollution",
    "redirect",
    "open",
    "server-side",
    "forgery",
    "cross-site",
    "scripting",
    "encoding",
    "Unicode",
];

fn words(rng: &mut StdRng, count: usize) -> String {
    (0..count).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect::<Vec<_>>().join(" ")
}

/// A flaw's description: `sentences` more after the first (with 2..7,
/// 160 to 1 060 characters, about 510 on average: an NVD description's
/// length, a little over).
fn paragraph(rng: &mut StdRng, subject: &str, sentences: std::ops::Range<usize>) -> String {
    let mut text = format!("A flaw was found in {subject}. ");
    for _ in 0..rng.random_range(sentences) {
        let count = rng.random_range(8..22);
        let sentence = words(rng, count);
        let mut chars = sentence.chars();
        if let Some(first) = chars.next() {
            text.push(first.to_ascii_uppercase());
            text.push_str(chars.as_str());
        }
        text.push_str(". ");
    }
    text.truncate(text.trim_end().len());
    text
}

fn hex(rng: &mut StdRng, chars: usize) -> String {
    (0..chars).map(|_| char::from_digit(rng.random_range(0..16u32), 16).unwrap_or('0')).collect()
}

fn date(rng: &mut StdRng) -> String {
    format!(
        "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        rng.random_range(15..26),
        rng.random_range(1..13),
        rng.random_range(1..29),
        rng.random_range(0..24),
        rng.random_range(0..60),
        rng.random_range(0..60),
        rng.random_range(0..1000)
    )
}

/// Each finding's own generator, so a finding reads the same in every
/// report that holds it, whatever else the report holds.
fn rng_of(kind: u64, serial: usize) -> StdRng {
    StdRng::seed_from_u64(kind ^ (serial as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

// ---------------------------------------------------------------------------
// Trivy JSON (SchemaVersion 2)

/// Target, Class, Type, purl type, package names.
const TRIVY_TARGETS: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "registry.example.com/shop/api:4.2.1 (debian 12.5)",
        "os-pkgs",
        "debian",
        "deb/debian",
        &["openssl", "libxml2", "zlib1g", "curl", "libc6", "libssl3", "perl-base", "tar", "gnutls28", "libexpat1"],
    ),
    (
        "Python",
        "lang-pkgs",
        "python-pkg",
        "pypi",
        &["django", "requests", "urllib3", "jinja2", "pyyaml", "cryptography", "pillow", "flask", "lxml", "setuptools"],
    ),
    (
        "Node.js",
        "lang-pkgs",
        "node-pkg",
        "npm",
        &["lodash", "express", "axios", "minimist", "semver", "tough-cookie", "ws", "jsonwebtoken", "qs", "undici"],
    ),
    (
        "usr/local/bin/api",
        "lang-pkgs",
        "gobinary",
        "golang",
        &[
            "golang.org/x/net",
            "golang.org/x/crypto",
            "golang.org/x/text",
            "google.golang.org/grpc",
            "github.com/gin-gonic/gin",
            "stdlib",
            "github.com/docker/docker",
            "google.golang.org/protobuf",
            "github.com/golang-jwt/jwt",
            "gopkg.in/yaml.v3",
        ],
    ),
    (
        "opt/app/lib/reports.jar",
        "lang-pkgs",
        "jar",
        "maven",
        &[
            "org.apache.logging.log4j:log4j-core",
            "com.fasterxml.jackson.core:jackson-databind",
            "org.springframework:spring-web",
            "org.yaml:snakeyaml",
            "commons-io:commons-io",
            "io.netty:netty-codec-http",
            "org.apache.tomcat.embed:tomcat-embed-core",
            "com.google.guava:guava",
            "org.bouncycastle:bcprov-jdk15on",
            "ch.qos.logback:logback-core",
        ],
    ),
    (
        "app/Gemfile.lock",
        "lang-pkgs",
        "bundler",
        "gem",
        &["rails", "nokogiri", "rack", "actionpack", "activesupport", "puma", "loofah", "sprockets", "devise", "json"],
    ),
    (
        "app/composer.lock",
        "lang-pkgs",
        "composer",
        "composer",
        &[
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
        ],
    ),
    (
        "app/Cargo.lock",
        "lang-pkgs",
        "cargo",
        "cargo",
        &["hyper", "h2", "tokio", "openssl", "regex", "time", "smallvec", "rustls", "chrono", "crossbeam-channel"],
    ),
];

const PACKAGE_SUFFIXES: &[&str] = &["", "-core", "-utils", "-common", "-client", "-server", "2", "-extra"];

/// A stable small number from text (FNV-1a).
fn stable(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn cvss_v3(rng: &mut StdRng) -> String {
    let pick = |rng: &mut StdRng, options: &[&'static str]| options[rng.random_range(0..options.len())];
    format!(
        "CVSS:3.1/AV:{}/AC:{}/PR:{}/UI:{}/S:{}/C:{}/I:{}/A:{}",
        pick(rng, &["N", "N", "N", "A", "L", "P"]),
        pick(rng, &["L", "L", "H"]),
        pick(rng, &["N", "L", "H"]),
        pick(rng, &["N", "R"]),
        pick(rng, &["U", "U", "C"]),
        pick(rng, &["H", "L", "N"]),
        pick(rng, &["H", "L", "N"]),
        pick(rng, &["H", "L", "N"]),
    )
}

/// One entry of `Vulnerabilities[]`. The fingerprint is (VulnerabilityID,
/// PkgName, InstalledVersion, Target); the CVE number is the serial's own,
/// so every serial is a distinct finding.
fn trivy_vulnerability(serial: usize, changed_fix: bool) -> Value {
    let mut rng = rng_of(0x7219, serial);
    let (_, _, kind, purl_type, packages) = TRIVY_TARGETS[serial % TRIVY_TARGETS.len()];
    let package = format!(
        "{}{}",
        packages[rng.random_range(0..packages.len())],
        PACKAGE_SUFFIXES[rng.random_range(0..PACKAGE_SUFFIXES.len())]
    );
    let h = stable(&package);
    let installed = format!("{}.{}.{}", h % 5, (h >> 8) % 30, (h >> 16) % 20);
    let year = 2015 + serial % 11;
    let cve = format!("CVE-{year}-{}", 10_000 + serial);
    // Drawn whether or not it is used, so the rest reads the same.
    let has_fix = rng.random_range(0..10) < 8;
    let fixed = if changed_fix {
        Some(format!("{}.{}.0", h % 5 + 1, (h >> 8) % 30))
    } else {
        has_fix.then(|| format!("{}.{}.{}", h % 5, (h >> 8) % 30, (h >> 16) % 20 + 1))
    };
    let severity = match rng.random_range(0..100) {
        0..5 => "CRITICAL",
        5..30 => "HIGH",
        30..75 => "MEDIUM",
        75..95 => "LOW",
        _ => "UNKNOWN",
    };
    let cwe = [79, 89, 20, 22, 94, 125, 190, 287, 400, 416, 476, 502, 611, 787, 918, 1333][rng.random_range(0..16)];
    let references: Vec<String> = (0..rng.random_range(3..9))
        .map(|i| match i {
            0 => format!("https://nvd.nist.gov/vuln/detail/{cve}"),
            1 => format!("https://www.cve.org/CVERecord?id={cve}"),
            2 => format!(
                "https://github.com/advisories/GHSA-{}-{}-{}",
                hex(&mut rng, 4),
                hex(&mut rng, 4),
                hex(&mut rng, 4)
            ),
            _ => format!(
                "https://security.example.org/advisories/{}/{}",
                package.replace(['/', ':'], "-"),
                hex(&mut rng, 12)
            ),
        })
        .collect();
    let count = rng.random_range(5..12);
    let title = format!("{package}: {}", words(&mut rng, count));
    let description = paragraph(&mut rng, &package, 2..7);
    let vector = cvss_v3(&mut rng);
    let score = f64::from(rng.random_range(10..=100)) / 10.0;
    let mut v = json!({
        "VulnerabilityID": cve,
        "PkgID": format!("{package}@{installed}"),
        "PkgName": package,
        "PkgIdentifier": {
            "PURL": format!("pkg:{purl_type}/{package}@{installed}"),
            "UID": hex(&mut rng, 16),
        },
        "InstalledVersion": installed,
        "Status": if fixed.is_some() { "fixed" } else { "affected" },
        "Layer": {
            "Digest": format!("sha256:{}", hex(&mut rng, 64)),
            "DiffID": format!("sha256:{}", hex(&mut rng, 64)),
        },
        "SeveritySource": "nvd",
        "PrimaryURL": format!("https://avd.aquasec.com/nvd/{}", cve.to_ascii_lowercase()),
        "DataSource": {
            "ID": kind,
            "Name": format!("{kind} advisory database"),
            "URL": format!("https://advisories.example.org/{kind}"),
        },
        "Title": title,
        "Description": description,
        "Severity": severity,
        "CweIDs": [format!("CWE-{cwe}")],
        "VendorSeverity": { "nvd": rng.random_range(1..5), "ghsa": rng.random_range(1..5) },
        "CVSS": {
            "nvd": { "V3Vector": vector, "V3Score": score },
            "ghsa": { "V3Vector": vector, "V3Score": score },
        },
        "References": references,
        "PublishedDate": date(&mut rng),
        "LastModifiedDate": date(&mut rng),
    });
    if let Some(fixed) = fixed {
        v["FixedVersion"] = json!(fixed);
    }
    v
}

/// A Trivy report of these findings (grouped by target, as Trivy writes
/// them), pretty-printed as `trivy image --format json` prints.
fn write_trivy(out: &mut impl Write, serials: &[usize], changed_fix: &HashSet<usize>) -> std::io::Result<()> {
    let metadata = json!({
        "OS": { "Family": "debian", "Name": "12.5" },
        "ImageID": "sha256:4c3b9f7e1a0d2c5b8e6f7a9d0c1b2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d",
        "DiffIDs": ["sha256:1f2e3d4c5b6a79880f1e2d3c4b5a69780f1e2d3c4b5a69780f1e2d3c4b5a6978"],
        "RepoTags": ["registry.example.com/shop/api:4.2.1"],
        "RepoDigests": ["registry.example.com/shop/api@sha256:9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"],
    });
    out.write_all(b"{\n  \"SchemaVersion\": 2,\n  \"CreatedAt\": \"2026-12-07T09:14:03.521870114Z\",\n")?;
    out.write_all(b"  \"ArtifactName\": \"registry.example.com/shop/api:4.2.1\",\n")?;
    out.write_all(b"  \"ArtifactType\": \"container_image\",\n  \"Metadata\": ")?;
    serde_json::to_writer_pretty(&mut *out, &metadata)?;
    out.write_all(b",\n  \"Trivy\": { \"Version\": \"0.58.1\" },\n  \"Results\": [")?;
    for (t, (target, class, kind, _, _)) in TRIVY_TARGETS.iter().enumerate() {
        if t > 0 {
            out.write_all(b",")?;
        }
        write!(out, "\n    {{\n      \"Target\": {},\n", json!(target))?;
        write!(out, "      \"Class\": \"{class}\",\n      \"Type\": \"{kind}\",\n      \"Vulnerabilities\": [\n")?;
        for (k, serial) in serials.iter().filter(|s| *s % TRIVY_TARGETS.len() == t).enumerate() {
            if k > 0 {
                out.write_all(b",\n")?;
            }
            serde_json::to_writer_pretty(&mut *out, &trivy_vulnerability(*serial, changed_fix.contains(serial)))?;
        }
        out.write_all(b"\n      ]\n    }")?;
    }
    out.write_all(b"\n  ]\n}\n")?;
    Ok(())
}

// ---------------------------------------------------------------------------
// SARIF 2.1.0 (one run, as CodeQL writes it)

const LANGUAGES: &[(&str, &str, &str)] = &[
    ("js", "src/web", "ts"),
    ("py", "services/reports", "py"),
    ("java", "backend/src/main/java/com/example/shop", "java"),
    ("go", "internal/api", "go"),
    ("cs", "Shop.Api/Controllers", "cs"),
];

/// Rule slug, short description, CWE, security-severity.
const CATEGORIES: &[(&str, &str, u32, f64)] = &[
    ("sql-injection", "Database query built from user-controlled sources", 89, 8.8),
    ("xss", "Cross-site scripting", 79, 6.1),
    ("path-injection", "Uncontrolled data used in path expression", 22, 7.5),
    ("command-line-injection", "Uncontrolled command line", 78, 9.8),
    ("request-forgery", "Server-side request forgery", 918, 9.1),
    ("unsafe-deserialization", "Deserialization of user-controlled data", 502, 9.8),
    ("weak-cryptographic-algorithm", "Use of a broken or weak cryptographic algorithm", 327, 7.5),
    ("clear-text-logging", "Clear-text logging of sensitive information", 312, 7.5),
    ("xxe", "XML external entity expansion", 611, 9.1),
    ("redos", "Inefficient regular expression", 1333, 7.5),
    ("url-redirection", "Server-side URL redirect", 601, 6.1),
    ("stack-trace-exposure", "Information exposure through a stack trace", 209, 5.4),
];

const MODULES: &[&str] =
    &["orders", "cart", "checkout", "accounts", "search", "admin", "reports", "billing", "inventory", "auth"];

fn level_of(score: f64) -> &'static str {
    if score >= 7.0 { "error" } else { "warning" }
}

fn sarif_rules() -> Vec<Value> {
    let mut rng = StdRng::seed_from_u64(0x5a21f);
    let mut rules = Vec::new();
    for (lang, _, _) in LANGUAGES {
        for (slug, short, cwe, score) in CATEGORIES {
            let full = paragraph(&mut rng, &format!("{lang} code: {}", short.to_ascii_lowercase()), 1..3);
            let help = format!(
                "# {short}\n\n{}\n\n## Recommendation\n\n{}\n\n## References\n* [CWE-{cwe}](https://cwe.mitre.org/data/definitions/{cwe}.html)\n",
                paragraph(&mut rng, "this pattern", 2..5),
                paragraph(&mut rng, "the fix", 2..5)
            );
            rules.push(json!({
                "id": format!("{lang}/{slug}"),
                "name": format!("{lang}/{slug}"),
                "shortDescription": { "text": short },
                "fullDescription": { "text": full },
                "defaultConfiguration": { "enabled": true, "level": level_of(*score) },
                "help": { "text": help, "markdown": help },
                "properties": {
                    "tags": ["security", format!("external/cwe/cwe-{cwe:03}")],
                    "description": full,
                    "id": format!("{lang}/{slug}"),
                    "kind": "path-problem",
                    "name": short,
                    "precision": "high",
                    "problem.severity": level_of(*score),
                    "security-severity": format!("{score:.1}"),
                },
            }));
        }
    }
    rules
}

/// One entry of `results[]`. The fingerprint is (tool, rule, file, line,
/// column, partialFingerprints); `primaryLocationLineHash` is the serial's
/// own, so every serial is a distinct finding.
fn sarif_result(serial: usize, changed_severity: bool) -> Value {
    let mut rng = rng_of(0x5a12f, serial);
    let rule_index = rng.random_range(0..LANGUAGES.len() * CATEGORIES.len());
    let (lang, root, ext) = LANGUAGES[rule_index / CATEGORIES.len()];
    let (slug, short, _, score) = CATEGORIES[rule_index % CATEGORIES.len()];
    let file = format!(
        "{root}/{}/{}_{}.{ext}",
        MODULES[rng.random_range(0..MODULES.len())],
        WORDS[rng.random_range(0..WORDS.len())].replace(['-', ' '], "_").to_ascii_lowercase(),
        rng.random_range(0..40)
    );
    let line: u32 = rng.random_range(1..2_500);
    let column: u32 = rng.random_range(1..80);
    let source = format!("{}{}", MODULES[rng.random_range(0..MODULES.len())], rng.random_range(0..100));
    let count = rng.random_range(4..14);
    let message = format!(
        "{short} depends on a [user-provided value](1) read from `{source}` and reaches this {} without sanitising: {}.",
        if slug.contains("injection") { "sink" } else { "call" },
        words(&mut rng, count)
    );
    let mut result = json!({
        "ruleId": format!("{lang}/{slug}"),
        "ruleIndex": rule_index,
        "rule": { "id": format!("{lang}/{slug}"), "index": rule_index },
        "level": level_of(score),
        "message": { "text": message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": file, "uriBaseId": "%SRCROOT%" },
                "region": { "startLine": line, "startColumn": column, "endColumn": column + rng.random_range(3..40) },
            }
        }],
        "partialFingerprints": {
            "primaryLocationLineHash": format!("{:016x}:1", (serial as u64).wrapping_mul(0x2545_F491_4F6C_DD1D)),
            "primaryLocationStartColumnFingerprint": (column % 16).to_string(),
        },
        "relatedLocations": [{
            "id": 1,
            "physicalLocation": {
                "artifactLocation": { "uri": file, "uriBaseId": "%SRCROOT%" },
                "region": { "startLine": line.saturating_sub(rng.random_range(1..40)).max(1), "startColumn": 5, "endColumn": 30 },
            },
            "message": { "text": "user-provided value" },
        }],
    });
    if changed_severity {
        let other = if score >= 9.0 { "5.0" } else { "9.5" };
        result["properties"] = json!({ "security-severity": other });
    }
    result
}

fn write_sarif(out: &mut impl Write, serials: &[usize], changed_severity: &HashSet<usize>) -> std::io::Result<()> {
    let driver = json!({
        "name": "CodeQL",
        "organization": "GitHub",
        "semanticVersion": "2.19.3",
        "informationUri": "https://codeql.github.com",
        "rules": sarif_rules(),
    });
    out.write_all(
        b"{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\",\n",
    )?;
    out.write_all(b"  \"runs\": [\n    {\n      \"tool\": { \"driver\": ")?;
    serde_json::to_writer_pretty(&mut *out, &driver)?;
    out.write_all(b" },\n      \"results\": [\n")?;
    for (k, serial) in serials.iter().enumerate() {
        if k > 0 {
            out.write_all(b",\n")?;
        }
        serde_json::to_writer_pretty(&mut *out, &sarif_result(*serial, changed_severity.contains(serial)))?;
    }
    out.write_all(b"\n      ],\n      \"columnKind\": \"utf16CodeUnits\"\n    }\n  ]\n}\n")?;
    Ok(())
}

// ---------------------------------------------------------------------------
// The reports of one format

/// A report as first imported, and as reimported with 10 % changed.
struct Reports {
    format: Format,
    first: Vec<u8>,
    changed: Vec<u8>,
    /// What the changed report should do to the records of the first.
    expected: ImportCounts,
}

fn reports(format: Format, n: usize) -> Reports {
    let serials: Vec<usize> = (0..n).collect();
    // 5 % gone, 5 % new, 2 % changed (disjoint: 7 mod 20 against 3 mod 50).
    let removed: HashSet<usize> = serials.iter().copied().filter(|s| s % 20 == 7).collect();
    let changed: HashSet<usize> = serials.iter().copied().filter(|s| s % 50 == 3).collect();
    let added: Vec<usize> = (n..n + removed.len()).collect();
    let kept: Vec<usize> =
        serials.iter().copied().filter(|s| !removed.contains(s)).chain(added.iter().copied()).collect();
    let write = |serials: &[usize], changed: &HashSet<usize>| {
        let mut out = Vec::with_capacity(n * 2_500);
        match format {
            Format::Trivy => write_trivy(&mut out, serials, changed),
            _ => write_sarif(&mut out, serials, changed),
        }
        .expect("write to memory");
        out
    };
    let total = kept.len() as u64;
    Reports {
        format,
        first: write(&serials, &HashSet::new()),
        changed: write(&kept, &changed),
        expected: ImportCounts {
            created: added.len() as u64,
            updated: changed.len() as u64,
            unchanged: total - added.len() as u64 - changed.len() as u64,
            reopened: 0,
            closed: removed.len() as u64,
            total,
            skipped: 0,
        },
    }
}

// ---------------------------------------------------------------------------
// Seeding

const TAGS: &[&str] = &["pci", "internet-facing", "sca", "sast", "dast", "pentest", "infra", "cloud", "legacy", "q3"];

fn record(rng: &mut StdRng, i: usize, members: &[UserId]) -> VulnerabilityRecord {
    let mut tags: Vec<String> =
        (0..rng.random_range(0..3)).map(|_| TAGS[rng.random_range(0..TAGS.len())].to_string()).collect();
    tags.sort();
    tags.dedup();
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
        title: format!("{} #{i}", words(rng, 5)),
        description: words(rng, 30),
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
        assets: vec![format!("host-{}", rng.random_range(0..200))],
        references: Vec::new(),
        remediation: None,
        assignee_id: (rng.random_range(0..3) != 0).then(|| members[rng.random_range(0..members.len())]),
        tags,
        resolution,
        resolution_note: None,
        duplicate_of: None,
        risk_accepted_until: None,
    }
}

struct Seeded {
    /// The team the imports go to.
    team: Team,
    /// A team of its own for the plain INSERTs (their numbers are not the
    /// team counter's).
    raw_team: Team,
}

/// Teams of three members, then their records in rounds: each round gives
/// every team a few, so each team's rows are spread over the whole table.
async fn seed(db: &Database, args: &Args) -> Seeded {
    let started = Instant::now();
    let password_hash =
        vulntrack::auth::PasswordHasher::default().hash(SecretString::from(PASSWORD)).await.expect("hash");
    let mut teams_and_members = Vec::with_capacity(args.teams);
    for t in 0..args.teams {
        let txn = db.begin().await.expect("begin");
        let team = teams::create(&txn, &format!("Team {t:04}")).await.expect("team");
        let mut members = Vec::new();
        for (m, role) in [Role::Admin, Role::Analyst, Role::Analyst].into_iter().enumerate() {
            let email = format!("member{m}.team{t}@example.com");
            let new = users::NewUser { email: &email, name: "Bench Member", role, password_hash: &password_hash };
            members.push(users::create(&txn, team.scope(), new).await.expect("user").id);
        }
        txn.commit().await.expect("commit");
        teams_and_members.push((team, members));
    }
    let per_round = 20;
    let per_team = args.rows / args.teams;
    let mut rng = StdRng::seed_from_u64(7);
    let mut seeded = 0;
    for round in 0..per_team.div_ceil(per_round) {
        let txn = db.begin().await.expect("begin");
        for (team, members) in &teams_and_members {
            let count = per_round.min(per_team - round * per_round);
            let records: Vec<VulnerabilityRecord> =
                (0..count).map(|i| record(&mut rng, round * per_round + i, members)).collect();
            vulnerabilities::create_many(&txn, team.scope(), &records, None).await.expect("rows");
            seeded += count;
        }
        txn.commit().await.expect("commit");
        if (round + 1) % 25 == 0 {
            eprintln!("  seeded {seeded} rows, {:.0?}", started.elapsed());
        }
    }
    let raw_team = teams::create(db.conn(), "Raw SQL baseline").await.expect("team");
    vulnerabilities::merge_search_index(db.conn()).await.expect("merge the search index");
    db.conn().execute_unprepared("ANALYZE").await.expect("analyze");
    if db.conn().get_database_backend() == sea_orm::DbBackend::Postgres {
        // Seeding writes ~100 000 rows within a minute, far more than a
        // live instance does; without a checkpoint here the measured
        // imports pay for writing out the seed's dirty pages (and for the
        // checkpoint its WAL volume triggers), not for their own rows.
        db.conn().execute_unprepared("CHECKPOINT").await.expect("checkpoint after seeding");
    }
    eprintln!("  seeded {seeded} rows over {} teams in {:.1?}", args.teams, started.elapsed());
    let team = teams_and_members.swap_remove(args.teams / 2).0;
    Seeded { team, raw_team }
}

// ---------------------------------------------------------------------------
// Measuring

async fn import(db: &Database, scope: TeamScope, format: Format, asset: &str, data: Vec<u8>) -> (Duration, Import) {
    let importer = Importer { scope, actor: Actor::Cli, user: None };
    let options = ImportOptions { format: Some(format.name()), asset: Some(asset), ..ImportOptions::default() };
    let file_name = if format == Format::Trivy { "trivy.json" } else { "codeql.sarif" };
    let request =
        import_service::request(file_name, Some(import_service::ReportFile::Bytes(data)), &options).expect("request");
    let started = Instant::now();
    let done = import_service::import(db, LIMIT, &importer, &RequestContext::default(), request).await.expect("import");
    (started.elapsed(), done)
}

/// The records and scanner fields an import of `data` onto `asset` would
/// create, and the time parsing alone took.
fn parse_and_map(
    format: Format,
    data: &[u8],
    asset: &str,
) -> (Duration, Duration, Vec<VulnerabilityRecord>, Vec<ScannerFields>) {
    let started = Instant::now();
    let report = vulntrack_scanners::parse(format, data).expect("parse");
    let parsed = started.elapsed();
    let now = chrono::Utc::now();
    let mut warnings = Vec::new();
    let origin = import_mapping::Origin::of(&report);
    let (records, scans) =
        report.findings.iter().map(|f| import_mapping::record_of(f, origin, asset, &[], now, &mut warnings)).unzip();
    (parsed, started.elapsed(), records, scans)
}

/// The store's bulk write of the records alone (with its asset), committed
/// (the records are the caller's copy, made before the clock starts).
async fn store_write(
    db: &Database,
    scope: TeamScope,
    asset: &str,
    records: Vec<VulnerabilityRecord>,
    scans: Vec<ScannerFields>,
) -> Duration {
    let started = Instant::now();
    let txn = db.begin().await.expect("begin");
    let (asset, _) = assets::ensure_named(&txn, scope, &[asset.to_owned()]).await.expect("asset").remove(0);
    vulnerabilities::create_findings(
        &txn,
        scope,
        records,
        Some(Findings { scans, asset: asset.id, import: None }),
        None,
    )
    .await
    .expect("create");
    txn.commit().await.expect("commit");
    started.elapsed()
}

/// Plain multi-row INSERTs of the same rows (500 a statement, as the store
/// writes them), built beforehand; only running them is timed.
async fn raw_insert(
    db: &Database,
    team: &Team,
    first_number: i64,
    records: &[VulnerabilityRecord],
    scans: &[ScannerFields],
) -> Duration {
    const COLUMNS: &[&str] = &[
        "id",
        "team_id",
        "number",
        "title",
        "description",
        "severity",
        "severity_rank",
        "status",
        "kind",
        "cve_id",
        "cvss_vector",
        "cvss_version",
        "cvss_score",
        "stride_spoofing",
        "stride_tampering",
        "stride_repudiation",
        "stride_information_disclosure",
        "stride_denial_of_service",
        "stride_elevation_of_privilege",
        "assets",
        "reference_links",
        "remediation",
        "created_at",
        "updated_at",
        "version",
        "source",
        "scanner",
        "scanner_tool",
        "rule_id",
        "cwe_ids",
        "component_name",
        "component_version",
        "component_purl",
        "component_ecosystem",
        "fixed_version",
        "location_file",
        "location_line",
        "fingerprint",
        "finding_asset_id",
        "first_seen_at",
        "last_seen_at",
        "occurrences",
        "severity_overridden",
    ];
    let postgres = db.conn().get_database_backend() == sea_orm::DbBackend::Postgres;
    let team_id = team.id.as_uuid();
    let asset = Uuid::now_v7();
    let now = chrono::Utc::now();
    let backend = db.conn().get_database_backend();
    let mut statements: Vec<Statement> = Vec::new();
    let rows: Vec<(usize, (&VulnerabilityRecord, &ScannerFields))> = records.iter().zip(scans).enumerate().collect();
    for chunk in rows.chunks(500) {
        let mut insert = Query::insert();
        // PostgreSQL's search terms are a column of the row (SQLite's go to
        // another table, which this INSERT leaves out).
        let search_column = postgres.then_some("search_vector");
        insert
            .into_table(Alias::new("vulnerabilities"))
            .columns(COLUMNS.iter().chain(&search_column).map(|c| Alias::new(*c)));
        for (i, (record, scan)) in chunk {
            let component = scan.component.as_ref();
            let values: Vec<Expr> = vec![
                Expr::value(Uuid::now_v7()),
                Expr::value(team_id),
                Expr::value(first_number + *i as i64),
                Expr::value(record.title.clone()),
                Expr::value(record.description.clone()),
                Expr::value(record.severity.as_str()),
                Expr::value(record.severity.rank()),
                Expr::value(record.status.as_str()),
                Expr::value(record.kind.as_str()),
                Expr::value(record.cve_id.clone()),
                Expr::value(record.cvss_vector.clone()),
                Expr::value(record.cvss_version.clone()),
                Expr::value(record.cvss_score),
                Expr::value(false),
                Expr::value(false),
                Expr::value(false),
                Expr::value(false),
                Expr::value(false),
                Expr::value(false),
                Expr::value(json!(record.assets)),
                Expr::value(json!(record.references)),
                Expr::value(record.remediation.clone()),
                Expr::value(now),
                Expr::value(now),
                Expr::value(1_i64),
                Expr::value(scan.source.clone()),
                Expr::value(scan.scanner.clone()),
                Expr::value(scan.tool.clone()),
                Expr::value(scan.rule_id.clone()),
                Expr::value((!scan.cwe_ids.is_empty()).then(|| json!(scan.cwe_ids))),
                Expr::value(component.map(|c| c.name.clone())),
                Expr::value(component.and_then(|c| c.version.clone())),
                Expr::value(component.and_then(|c| c.purl.clone())),
                Expr::value(component.and_then(|c| c.ecosystem.clone())),
                Expr::value(scan.fixed_version.clone()),
                Expr::value(scan.location.file.clone()),
                Expr::value(scan.location.line.and_then(|n| i32::try_from(n).ok())),
                Expr::value(scan.fingerprint.clone()),
                Expr::value(asset),
                Expr::value(scan.first_seen_at),
                Expr::value(scan.last_seen_at),
                Expr::value(scan.occurrences.and_then(|n| i32::try_from(n).ok())),
                Expr::value(false),
            ];
            let search_vector = postgres.then(|| {
                sea_orm::sea_query::ExprTrait::cast_as(
                    Expr::value(vulnerabilities::search_lexemes(team.id, record)),
                    Alias::new("tsvector"),
                )
            });
            insert.values_panic(values.into_iter().chain(search_vector));
        }
        statements.push(backend.build(&insert));
    }
    let started = Instant::now();
    let txn = db.begin().await.expect("begin");
    for statement in statements {
        txn.execute_raw(statement).await.expect("insert");
    }
    txn.commit().await.expect("commit");
    started.elapsed()
}

/// Where imports' time goes (`--profile`): every SQL statement's time by
/// kind (from the driver's own timing of each), against the wall time and
/// this process's CPU time (on SQLite the database's work is part of it).
#[derive(Clone, Default)]
struct Profiler(Arc<Mutex<BTreeMap<String, (usize, Duration)>>>);

impl Profiler {
    /// A handle on the same pool whose statements are noted.
    fn observe(&self, db: &Database) -> Database {
        let mut observed = db.clone();
        let sink = self.clone();
        observed.observe_statements(move |info| sink.note(&info.statement.sql, info.elapsed));
        observed
    }

    fn note(&self, sql: &str, elapsed: Duration) {
        let word = |keyword: &str| {
            sql.find(keyword)
                .and_then(|at| sql[at + keyword.len()..].split_whitespace().next())
                .unwrap_or("?")
                .trim_matches(|c| c == '"' || c == '(')
                .to_owned()
        };
        let kind = match sql.split_whitespace().next().map(str::to_ascii_uppercase).as_deref() {
            Some("INSERT") => format!("INSERT INTO {}", word("INTO ")),
            Some("UPDATE") => format!("UPDATE {} SET {}", word("UPDATE "), word(" SET ")),
            Some("SELECT") => format!("SELECT FROM {}", word(" FROM ")),
            Some("DELETE") => format!("DELETE FROM {}", word(" FROM ")),
            Some(other) => other.to_owned(),
            None => "?".to_owned(),
        };
        let mut kinds = self.0.lock().expect("profile");
        let entry = kinds.entry(kind).or_default();
        entry.0 += 1;
        entry.1 += elapsed;
    }

    /// Prints and forgets what the statements since the last report took.
    fn report(&self, what: &str, wall: Duration, cpu: Duration) {
        let kinds = std::mem::take(&mut *self.0.lock().expect("profile"));
        let in_sql: Duration = kinds.values().map(|(_, d)| *d).sum();
        eprintln!(
            "  profile, {what}: wall {}, this process's CPU {}, in SQL statements {}",
            secs(wall),
            secs(cpu),
            secs(in_sql)
        );
        let mut by_time: Vec<_> = kinds.into_iter().collect();
        by_time.sort_by_key(|(_, (_, d))| std::cmp::Reverse(*d));
        for (kind, (count, d)) in by_time.into_iter().take(8) {
            eprintln!("    {:>8.1} ms  {count:>5} × {kind}", d.as_secs_f64() * 1000.0);
        }
    }
}

/// This process's CPU time so far (user + system).
fn cpu_time() -> Duration {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let ticks_per_second = *TICKS.get_or_init(|| {
        let out = Command::new("getconf").arg("CLK_TCK").output().expect("getconf");
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(100.0)
    });
    let stat = std::fs::read_to_string("/proc/self/stat").expect("stat");
    // utime and stime: the 14th and 15th fields, after the command name.
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_secs_f64(ticks as f64 / ticks_per_second)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn all(values: &[Duration]) -> String {
    values.iter().map(|d| format!("{:.2}", d.as_secs_f64())).collect::<Vec<_>>().join(", ")
}

fn counts(c: &ImportCounts) -> String {
    format!("{} | {} | {} | {} | {} | {}", c.created, c.updated, c.unchanged, c.reopened, c.closed, c.total)
}

const PHASES: [&str; 3] = ["import into an empty asset", "reimport, unchanged", "reimport, 10 % changed"];

/// Every round's figures of one format.
#[derive(Default)]
struct FormatFigures {
    phases: [Vec<Duration>; 3],
    parse: Vec<Duration>,
    parse_and_map: Vec<Duration>,
    store: Vec<Duration>,
    raw: Vec<Duration>,
}

async fn measure_format(
    db: &Database,
    seeded: &Seeded,
    reports: &Reports,
    args: &Args,
    raw_numbers: &mut i64,
) -> FormatFigures {
    let format = reports.format;
    let scope = seeded.team.scope();
    let mut figures = FormatFigures::default();
    let profiler = args.profile.then(Profiler::default);
    let import_db = profiler.as_ref().map_or_else(|| db.clone(), |p| p.observe(db));
    let profiled = async |phase: usize, data: Vec<u8>, asset: &str| {
        let cpu = profiler.as_ref().map(|_| cpu_time());
        let (wall, done) = import(&import_db, scope, format, asset, data).await;
        if let (Some(profiler), Some(cpu)) = (&profiler, cpu) {
            profiler.report(&format!("{} {}", format.name(), PHASES[phase]), wall, cpu_time() - cpu);
        }
        (wall, done)
    };
    for round in 1..=args.rounds {
        let asset = format!("{}-target-{round}", format.name());
        let (wall, first) = profiled(0, reports.first.clone(), &asset).await;
        // The data, not the timing: every generated finding is distinct.
        assert_eq!(first.counts.total, args.findings as u64, "distinct findings in the {} report", format.name());
        assert_eq!(first.counts.created, args.findings as u64, "records created by the first {} import", format.name());
        let (wall_2, again) = profiled(1, reports.first.clone(), &asset).await;
        let (wall_3, changed) = profiled(2, reports.changed.clone(), &asset).await;
        for (phase, (wall, done)) in [(wall, &first), (wall_2, &again), (wall_3, &changed)].into_iter().enumerate() {
            println!(
                "| {} | {} | {round} | {} | {} ms | {} |",
                format.name(),
                PHASES[phase],
                secs(wall),
                done.duration_ms,
                counts(&done.counts)
            );
            figures.phases[phase].push(wall);
        }
        let n = args.findings as u64;
        let unchanged = ImportCounts { unchanged: n, total: n, ..ImportCounts::default() };
        if again.counts != unchanged || changed.counts != reports.expected {
            println!(
                "| {} | expected: unchanged reimport {}; 10 % changed {} | | | | | | | | | |",
                format.name(),
                counts(&unchanged),
                counts(&reports.expected)
            );
        }

        // The same rows, without the import around them.
        let store_asset = format!("{}-store-{round}", format.name());
        let (parsed, mapped, records, scans) = parse_and_map(format, &reports.first, &store_asset);
        figures.parse.push(parsed);
        figures.parse_and_map.push(mapped);
        figures.store.push(store_write(db, scope, &store_asset, records.clone(), scans.clone()).await);
        figures.raw.push(raw_insert(db, &seeded.raw_team, *raw_numbers, &records, &scans).await);
        *raw_numbers += records.len() as i64;
    }
    figures
}

/// The peak resident memory (`VmHWM`) of `vulntrack import` on one file, its
/// wall time and what it printed. The status file is read every 2 ms until
/// the process ends; the peak is reached during the import, well before.
async fn import_command(
    url: &DatabaseUrl,
    data_dir: &Path,
    team: &Team,
    format: Format,
    asset: &str,
    file: &Path,
    options: &[&str],
) -> (f64, Duration, Value) {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_vulntrack"))
        .args([
            "import",
            "--team",
            &team.id.as_uuid().to_string(),
            "--asset",
            asset,
            "--format",
            format.name(),
            "--json",
        ])
        .args(options)
        .arg(file)
        .env("DATABASE_URL", url.expose())
        .env("VULNTRACK_DATA_DIR", data_dir)
        .env("VULNTRACK_SECRET", SECRET)
        .env("VULNTRACK_AUTO_MIGRATE", "false")
        .env("VULNTRACK_IMPORT_MAX_BYTES", LIMIT.to_string())
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start vulntrack import");
    let (peak, output) = peak_rss::until_exit(child).await;
    assert!(output.status.success(), "vulntrack import failed: {}", output.status);
    let printed: Value = serde_json::from_slice(&output.stdout).expect("the import as JSON");
    (peak, started.elapsed(), printed)
}

/// Writes a report of `format` holding the findings `serials`.
fn write_report(format: Format, path: &Path, serials: &[usize]) {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("create"));
    match format {
        Format::Sarif => write_sarif(&mut out, serials, &HashSet::new()),
        _ => write_trivy(&mut out, serials, &HashSet::new()),
    }
    .expect("write");
    out.into_inner().expect("flush").sync_all().expect("sync");
}

async fn measure_memory(
    url: &DatabaseUrl,
    data_dir: &Path,
    team: &Team,
    args: &Args,
    format: Format,
    bytes_per_finding: f64,
) {
    let name = format.name();
    let tiny = data_dir.join(format!("tiny-{name}.json"));
    write_report(format, &tiny, &[0]);
    let (baseline_mb, baseline_wall, _) =
        import_command(url, data_dir, team, format, &format!("memory-baseline-{name}"), &tiny, &[]).await;

    let wanted = args.memory_mb as f64 * 1e6;
    let findings = (wanted / bytes_per_finding).ceil() as usize;
    let big = data_dir.join(format!("big-{name}.json"));
    let started = Instant::now();
    write_report(format, &big, &(0..findings).collect::<Vec<_>>());
    let size = std::fs::metadata(&big).expect("size").len();
    eprintln!(
        "  wrote a {:.1} MB {name} report of {findings} findings in {:.1?}",
        size as f64 / 1e6,
        started.elapsed()
    );
    let (peak_mb, wall, printed) =
        import_command(url, data_dir, team, format, &format!("memory-large-{name}"), &big, &[]).await;
    // The same report with only its CRITICAL findings (about 5 %) written:
    // reading, parsing and comparing it, with little of the writing.
    let critical = ["--minimum-severity", "CRITICAL"];
    let (read_mb, read_wall, read_printed) =
        import_command(url, data_dir, team, format, &format!("memory-critical-{name}"), &big, &critical).await;
    let _ = std::fs::remove_file(&big);
    let growth = |peak: f64| {
        let mib = peak - baseline_mb;
        format!("**{mib:.1} MiB** ({:.2} × the report's size)", mib * 1_048_576.0 / size as f64)
    };
    println!("\n| memory, {name} (`vulntrack import`, its own process; peak RSS is `VmHWM`) | figure |\n|---|---|");
    println!("| peak RSS, one-finding report | {baseline_mb:.1} MiB (wall {}) |", secs(baseline_wall));
    println!(
        "| peak RSS, {:.1} MB report ({:.1} MiB, {findings} findings: {} created, import {} ms) | {peak_mb:.1} MiB (wall {}) |",
        size as f64 / 1e6,
        size as f64 / 1_048_576.0,
        printed["created"],
        printed["duration_ms"],
        secs(wall)
    );
    println!("| peak RSS growth (goal ≤ 200 MB for a 100 MB report) | {} |", growth(peak_mb));
    println!(
        "| the same report, `--minimum-severity CRITICAL` ({} created, {} skipped, import {} ms): peak RSS | {read_mb:.1} MiB (wall {}) |",
        read_printed["created"],
        read_printed["skipped"],
        read_printed["duration_ms"],
        secs(read_wall)
    );
    println!("| peak RSS growth, mostly reading and parsing | {} |", growth(read_mb));
}

async fn measure(backend: &'static str, url: DatabaseUrl, args: Args, data_dir: std::path::PathBuf) {
    println!(
        "\n## {backend}: {}-finding reports, {} existing records over {} teams, {} round(s)\n",
        args.findings, args.rows, args.teams, args.rounds
    );
    let db = Database::connect(&url, PoolSettings::default()).await.expect("connect");
    db.migrate().await.expect("migrate");
    let seeded = seed(&db, &args).await;

    let started = Instant::now();
    let all_reports: Vec<Reports> =
        [Format::Trivy, Format::Sarif].into_iter().map(|f| reports(f, args.findings)).collect();
    for r in &all_reports {
        eprintln!(
            "  {} report: {:.1} MB ({:.1} MB with 10 % changed)",
            r.format.name(),
            r.first.len() as f64 / 1e6,
            r.changed.len() as f64 / 1e6
        );
    }
    eprintln!("  generated the reports in {:.1?}", started.elapsed());

    println!(
        "| format | phase | round | wall | import's own duration | created | updated | unchanged | reopened | closed | total |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut raw_numbers = 1;
    let mut results = Vec::new();
    for reports in &all_reports {
        results.push(measure_format(&db, &seeded, reports, &args, &mut raw_numbers).await);
    }

    println!("\n| format | report | phase | median wall | rounds | ≤ 2 s |\n|---|---|---|---|---|---|");
    for (reports, figures) in all_reports.iter().zip(&results) {
        for (phase, walls) in figures.phases.iter().enumerate() {
            let m = median(walls.clone());
            println!(
                "| {} | {:.1} MB | {} | {} | {} | {} |",
                reports.format.name(),
                reports.first.len() as f64 / 1e6,
                PHASES[phase],
                secs(m),
                all(walls),
                if m <= GOAL { "yes" } else { "**no**" }
            );
        }
    }
    println!(
        "\n| format | import into an empty asset | parse alone | parse + map | store bulk write alone | plain INSERT | import / store | import / INSERT |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (reports, figures) in all_reports.iter().zip(&results) {
        let import = median(figures.phases[0].clone());
        let store = median(figures.store.clone());
        let raw = median(figures.raw.clone());
        println!(
            "| {} | {} | {} | {} | {} ({}) | {} ({}) | {:.2} | {:.2} |",
            reports.format.name(),
            secs(import),
            secs(median(figures.parse.clone())),
            secs(median(figures.parse_and_map.clone())),
            secs(store),
            all(&figures.store),
            secs(raw),
            all(&figures.raw),
            import.as_secs_f64() / store.as_secs_f64(),
            import.as_secs_f64() / raw.as_secs_f64()
        );
    }

    // Each format's report of the memory figure is as large as asked, so
    // it holds as many findings as that size makes in that format.
    let sizes: Vec<(Format, f64)> =
        all_reports.iter().map(|r| (r.format, r.first.len() as f64 / args.findings as f64)).collect();
    drop(all_reports);
    for (format, bytes_per_finding) in sizes {
        measure_memory(&url, &data_dir, &seeded.team, &args, format, bytes_per_finding).await;
    }
    db.close().await.expect("close");
}

#[tokio::main]
async fn main() {
    let args = Args::parse().effective();
    assert!(args.teams > 0 && args.rows >= args.teams, "--rows must be at least --teams");
    assert!(args.findings >= 100 && args.rounds > 0, "--findings must be at least 100 and --rounds at least 1");
    if cfg!(debug_assertions) && !args.short {
        eprintln!("note: a debug build; `cargo bench` builds with optimisations");
    }
    let started = Instant::now();
    // The audit rows are signed as the server and the command sign them.
    vulntrack_store::audit::install_chain_keys(vulntrack::audit_heads::chain_keys(&SecretString::from(SECRET), None))
        .expect("chain keys");
    if !args.skip_sqlite {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::sqlite_file(&dir.path().join("bench.db"));
        measure("SQLite", url, args.clone(), dir.path().to_path_buf()).await;
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
        admin_db.conn().execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.expect("drop database");
        if let Err(failure) = outcome {
            std::panic::resume_unwind(failure.into_panic());
        }
    }
    eprintln!("  done in {:.1?}", started.elapsed());
}

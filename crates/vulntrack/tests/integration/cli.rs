//! The `vulntrack` binary as an operator runs it: from a clean directory,
//! with configuration in the environment, on either backend.

use std::{
    net::SocketAddr,
    os::unix::fs::PermissionsExt,
    path::Path,
    process::{Output, Stdio},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, Command},
};
use vulntrack_domain::Role;
use vulntrack_store::users;

use crate::support::{TestDb, binary};

const STRONG_PASSWORD: &str = "k3#Vq9!zLw2@Tr";

/// The binary with a clean environment (only PATH and `vars`) in `dir`.
pub fn vulntrack(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(binary());
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

pub async fn run(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    vulntrack(dir, args, vars).output().await.expect("binary runs")
}

pub async fn run_with_stdin(dir: &Path, args: &[&str], vars: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = vulntrack(dir, args, vars)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).await.expect("write stdin");
    drop(input);
    child.wait_with_output().await.expect("binary runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the failure is exactly one `error: …` line mentioning `needle`,
/// with no panic or backtrace.
pub fn assert_one_line_error(output: &Output, status: i32, needle: &str) {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(status), "stderr: {text}");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {text}");
    assert!(lines[0].starts_with("error: "), "{text}");
    assert!(lines[0].contains(needle), "expected {needle:?} in: {text}");
    assert!(!text.contains("panicked") && !text.contains("backtrace"), "{text}");
}

/// A running `serve`, its address read from its log.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Server {
    pub async fn start(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Self {
        // reqwest (rustls without a built-in provider) needs one per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut vars = vars.to_vec();
        vars.push(("VULNTRACK_BIND", "127.0.0.1:0"));
        let mut child =
            vulntrack(dir, args, &vars).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().expect("spawn");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read log") {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split_whitespace().next().expect("address");
                    return addr.parse::<SocketAddr>().expect("socket address");
                }
            }
            panic!("server exited before listening");
        })
        .await
        .expect("server starts listening");
        // Keep draining the log so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { child, addr }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(format!("http://{}{path}", self.addr)).await.expect("request")
    }

    /// SIGTERM, then the exit status of a graceful shutdown.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("pid").to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill");
        assert!(sent.success());
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("server stops after SIGTERM")
            .expect("exit status")
    }
}

#[tokio::test]
async fn running_with_no_command_serves_on_an_embedded_sqlite_file() {
    let dir = tempfile::tempdir().expect("dir");
    let server = Server::start(dir.path(), &[], &[]).await;

    let health = server.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<serde_json::Value>().await.expect("json")["status"], "ok");
    assert_eq!(server.get("/readyz").await.status(), 200);

    let data = dir.path().join("data");
    assert!(data.join("vulntrack.db").is_file(), "the SQLite file appears in ./data");
    let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data directory is private");
    assert_eq!(mode(&data.join("secret")), 0o600, "the generated secret is private");

    let status = server.terminate().await;
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

#[tokio::test]
async fn migrate_twice_then_serve_on_the_test_database() {
    let test_db = TestDb::fresh().await;
    let url = test_db.url.expose().to_string();
    let vars = [("DATABASE_URL", url.as_str()), ("VULNTRACK_AUTO_MIGRATE", "false")];
    for attempt in 1..=2 {
        let output = run(test_db.dir.path(), &["migrate"], &vars).await;
        assert!(output.status.success(), "migrate run {attempt}: {}", stderr(&output));
    }
    let server = Server::start(test_db.dir.path(), &["serve"], &vars).await;
    assert_eq!(server.get("/readyz").await.status(), 200);
    assert!(server.terminate().await.success());
}

#[tokio::test]
async fn malformed_configuration_is_one_line_and_exit_status_2() {
    let dir = tempfile::tempdir().expect("dir");
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("DATABASE_URL", "nonsense")], "DATABASE_URL"),
        (&[("DATABASE_URL", "postgres://db/vt?sslmode=sometimes")], "DATABASE_URL"),
        (&[("VULNTRACK_ENV", "production")], "VULNTRACK_SECRET"),
        (&[("VULNTRACK_ENV", "production"), ("VULNTRACK_SECRET", "too-short")], "VULNTRACK_SECRET"),
        (
            &[
                ("VULNTRACK_ENV", "production"),
                ("VULNTRACK_SECRET", "a-production-secret-of-32-bytes-at-least!"),
                ("VULNTRACK_PUBLIC_URL", "http://vt.example.com"),
            ],
            "VULNTRACK_PUBLIC_URL",
        ),
        (&[("VULNTRACK_ENV", "staging")], "VULNTRACK_ENV"),
        (&[("VULNTRACK_BIND", "localhost")], "VULNTRACK_BIND"),
        (&[("VULNTRACK_DB_MAX_CONNECTIONS", "0")], "VULNTRACK_DB_MAX_CONNECTIONS"),
        (&[("VULNTRACK_LOG_FORMAT", "xml")], "VULNTRACK_LOG_FORMAT"),
    ];
    for (vars, variable) in cases {
        let output = run(dir.path(), &["serve"], vars).await;
        assert_one_line_error(&output, 2, variable);
    }
    assert!(!dir.path().join("data").exists(), "a refused configuration creates nothing");
}

#[tokio::test]
async fn config_check_prints_the_effective_configuration_with_secrets_redacted() {
    let dir = tempfile::tempdir().expect("dir");
    let secret = "a-very-long-production-secret-value-0123456789";
    let vars = [
        ("VULNTRACK_ENV", "production"),
        ("VULNTRACK_SECRET", secret),
        ("VULNTRACK_PUBLIC_URL", "https://vulntrack.example.com"),
        ("DATABASE_URL", "postgres://app:db-password-123@db.internal:5432/vt?sslmode=require"),
    ];
    let output = run(dir.path(), &["config", "check"], &vars).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout.contains("VULNTRACK_ENV = production"), "{stdout}");
    assert!(stdout.contains("sslmode=require"), "{stdout}");
    assert!(!stdout.contains(secret) && !stdout.contains("db-password-123"), "secrets leaked: {stdout}");

    let bad = run(dir.path(), &["config", "check"], &[("VULNTRACK_PUBLIC_URL", "ftp://x")]).await;
    assert_one_line_error(&bad, 2, "VULNTRACK_PUBLIC_URL");
}

#[tokio::test]
async fn admin_create_user_hashes_with_argon2id_and_creates_the_team_once() {
    let test_db = TestDb::fresh().await;
    let url = test_db.url.expose().to_string();
    let vars = [("DATABASE_URL", url.as_str())];
    let dir = test_db.dir.path();
    let create = |email: &'static str, role: &'static str| {
        let args = vec![
            "admin",
            "create-user",
            "--team",
            "Blue Team",
            "--email",
            email,
            "--name",
            "Grace Hopper",
            "--role",
            role,
            "--password-stdin",
        ];
        async move { run_with_stdin(dir, &args, &vars, &format!("{STRONG_PASSWORD}\n")).await }
    };

    let output = create("grace@example.com", "ADMIN").await;
    assert!(output.status.success(), "{}", stderr(&output));
    let second = create("ada@example.com", "analyst").await;
    assert!(second.status.success(), "{}", stderr(&second));

    let db = test_db.connect().await;
    let grace = users::find_for_sign_in(db.conn(), "GRACE@example.com").await.expect("query").expect("grace exists");
    let (grace, hash) = (grace.user, grace.password_hash);
    assert_eq!(grace.role, Role::Admin);
    assert!(hash.starts_with("$argon2id$"), "stored hash is argon2id: {hash}");
    assert!(!hash.contains(STRONG_PASSWORD));
    let ada = users::find_for_sign_in(db.conn(), "ada@example.com").await.expect("query").expect("ada exists").user;
    assert_eq!(ada.role, Role::Analyst);
    assert_eq!(ada.team_id, grace.team_id, "the existing team is reused");
    let audited = vulntrack_store::audit::recent(db.conn(), grace.scope(), 10).await.expect("audit");
    assert_eq!(
        audited.iter().filter(|r| r.action == "USER_CREATED" && r.actor_kind == "SYSTEM").count(),
        2,
        "each CLI-created user is audited"
    );

    let duplicate = create("Grace@Example.com", "VIEWER").await;
    assert_one_line_error(&duplicate, 2, "email: is already used");
    assert_eq!(users::count_all(db.conn()).await.expect("count"), 2);
}

#[tokio::test]
async fn admin_create_user_refuses_passwords_that_break_the_policy() {
    let test_db = TestDb::fresh().await;
    let url = test_db.url.expose().to_string();
    let vars = [("DATABASE_URL", url.as_str())];
    let args = [
        "admin",
        "create-user",
        "--team",
        "Red",
        "--email",
        "lin@example.com",
        "--name",
        "Lin Admin",
        "--role",
        "ADMIN",
        "--password-stdin",
    ];
    let cases = [
        ("Password123!\n", "too common"),
        ("short1!A\n", "at least 12 characters"),
        ("alllowercase-password-42\n", "upper-case"),
        (&*format!("{}\n", "Ab1!".repeat(33)), "at most 128"),
        ("Lin@example.com-Zq7#\n", "email address or name"),
    ];
    for (password, message) in cases {
        let output = run_with_stdin(test_db.dir.path(), &args, &vars, password).await;
        assert_one_line_error(&output, 2, message);
        assert!(stderr(&output).contains("password"), "{}", stderr(&output));
    }
    let empty = run_with_stdin(test_db.dir.path(), &args, &vars, "").await;
    assert_one_line_error(&empty, 2, "no password");

    let invalid = run_with_stdin(
        test_db.dir.path(),
        &[
            "admin",
            "create-user",
            "--team",
            " ",
            "--email",
            "not-an-email",
            "--name",
            "X",
            "--role",
            "ADMIN",
            "--password-stdin",
        ],
        &vars,
        STRONG_PASSWORD,
    )
    .await;
    assert_one_line_error(&invalid, 2, "email");
    assert!(stderr(&invalid).contains("team_name"), "{}", stderr(&invalid));

    let db = test_db.migrated().await;
    assert_eq!(users::count_all(db.conn()).await.expect("count"), 0, "nothing was written");
}

#[tokio::test]
async fn every_command_has_help() {
    let dir = tempfile::tempdir().expect("dir");
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["admin", "create-user", "--help"],
        vec!["config", "check", "--help"],
    ] {
        let output = run(dir.path(), &args, &[]).await;
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage:"), "{args:?}");
    }
    let missing_flag = run(
        dir.path(),
        &["admin", "create-user", "--team", "T", "--email", "e@x.io", "--name", "N", "--role", "ADMIN"],
        &[],
    )
    .await;
    assert_eq!(missing_flag.status.code(), Some(2), "the password must come from stdin");
}

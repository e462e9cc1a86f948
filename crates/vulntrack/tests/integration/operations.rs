//! The operator's runbook commands (docs/OPERATIONS.md), run as the built
//! binary against the test database: migrations from several processes,
//! incident response, audit heads and checkpoints, backup and restore.

use std::process::Output;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::{
    cli::{assert_one_line_error, run, stderr},
    support::{As, Needs, PASSWORD, TEST_SECRET, TestApp, TestDb, available, skip_unless},
};

const ADMIN: &str = "admin@example.com";
const MEMBER: &str = "member@example.com";

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `vulntrack ARGS` against the app's database; asserts success.
async fn operator(app: &TestApp, args: &[&str]) -> String {
    let output = operator_output(app, args).await;
    assert!(output.status.success(), "vulntrack {args:?}: {}", stderr(&output));
    stdout(&output)
}

async fn operator_output(app: &TestApp, args: &[&str]) -> Output {
    let url = app.test_db.url.expose().to_string();
    let vars = [
        ("DATABASE_URL", url.as_str()),
        ("VULNTRACK_PUBLIC_URL", "https://vulntrack.example.com/"),
        ("VULNTRACK_SECRET", TEST_SECRET),
    ];
    run(app.test_db.dir.path(), args, &vars).await
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> StatusCode {
    app.post("/api/v1/auth/login", As::Anonymous, json!({ "email": email, "password": password })).await.status
}

async fn token_for(app: &TestApp, cookie: &str) -> String {
    let created = app.post("/api/v1/tokens", As::Cookie(cookie), json!({ "name": "ci" })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    created.body["token"].as_str().expect("token").to_string()
}

async fn works(app: &TestApp, auth: As<'_>) -> bool {
    app.get_as("/api/v1/me", auth).await.status == StatusCode::OK
}

#[tokio::test]
async fn migrations_started_together_wait_for_each_other_and_all_succeed() {
    let test_db = TestDb::fresh().await;
    let url = test_db.url.expose().to_string();
    let vars = [("DATABASE_URL", url.as_str())];
    let dir = test_db.dir.path();
    let (a, b, c) =
        tokio::join!(run(dir, &["migrate"], &vars), run(dir, &["migrate"], &vars), run(dir, &["migrate"], &vars));
    for (which, output) in [("first", &a), ("second", &b), ("third", &c)] {
        assert!(output.status.success(), "{which} migrate: {}", stderr(output));
    }
    let db = test_db.connect().await;
    assert!(db.pending_migrations().await.expect("read").is_empty(), "the schema is current");
}

#[tokio::test]
async fn operator_commands_contain_an_account_and_are_audited_as_cli() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let member = app.add_member(&admin, MEMBER, "ANALYST").await;
    let token = token_for(&app, &member).await;

    // lock: no sign-in, sessions end; unlock lifts it.
    let locked = operator(&app, &["admin", "lock", "--email", MEMBER]).await;
    assert!(locked.contains("locked member@example.com"), "{locked}");
    assert!(!works(&app, As::Cookie(&member)).await, "the member's session ended");
    assert_eq!(sign_in(&app, MEMBER, PASSWORD).await, StatusCode::UNAUTHORIZED, "locked accounts cannot sign in");
    operator(&app, &["admin", "unlock", "--email", MEMBER]).await;
    assert_eq!(sign_in(&app, MEMBER, PASSWORD).await, StatusCode::OK);

    // revoke-sessions / revoke-tokens for one account.
    let member = app.login(MEMBER, PASSWORD).await;
    operator(&app, &["admin", "revoke-sessions", "--email", MEMBER]).await;
    assert!(!works(&app, As::Cookie(&member)).await);
    assert!(works(&app, As::Bearer(&token)).await, "tokens are separate from sessions");
    let revoked = operator(&app, &["admin", "revoke-tokens", "--email", MEMBER]).await;
    assert!(revoked.contains("revoked 1 API token"), "{revoked}");
    assert!(!works(&app, As::Bearer(&token)).await);

    // deactivate ends tokens for good; reactivate does not bring them back.
    let member = app.login(MEMBER, PASSWORD).await;
    let second_token = token_for(&app, &member).await;
    let deactivated = operator(&app, &["admin", "deactivate", "--email", MEMBER]).await;
    assert!(deactivated.contains("1 session") && deactivated.contains("1 API token"), "{deactivated}");
    assert!(!works(&app, As::Bearer(&second_token)).await);
    assert_eq!(sign_in(&app, MEMBER, PASSWORD).await, StatusCode::UNAUTHORIZED);
    operator(&app, &["admin", "reactivate", "--email", MEMBER]).await;
    assert_eq!(sign_in(&app, MEMBER, PASSWORD).await, StatusCode::OK, "the account works again");
    assert!(!works(&app, As::Bearer(&second_token)).await, "its revoked token stays revoked");

    // reset-link prints a one-time link that works once.
    let link = operator(&app, &["admin", "reset-link", "--email", MEMBER]).await;
    let link = link.trim();
    assert!(link.starts_with("https://vulntrack.example.com/reset-password?token="), "{link}");
    let reset_token = crate::support::token_of(link);
    let new_password = "Fresh#Passw0rd!x9";
    let confirm = json!({ "token": reset_token, "new_password": new_password });
    assert_eq!(
        app.post("/api/v1/auth/password-reset/confirm", As::Anonymous, confirm.clone()).await.status,
        StatusCode::NO_CONTENT
    );
    assert_ne!(
        app.post("/api/v1/auth/password-reset/confirm", As::Anonymous, confirm).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(sign_in(&app, MEMBER, new_password).await, StatusCode::OK);

    // --all: everyone's sessions and tokens.
    let admin_token = token_for(&app, &admin).await;
    let all_sessions = operator(&app, &["admin", "revoke-sessions", "--all"]).await;
    assert!(all_sessions.contains("of every account"), "{all_sessions}");
    assert!(!works(&app, As::Cookie(&admin)).await);
    operator(&app, &["admin", "revoke-tokens", "--all"]).await;
    assert!(!works(&app, As::Bearer(&admin_token)).await);

    // Each step is in the audit log as the command line's doing.
    let admin = app.login(ADMIN, PASSWORD).await;
    let log = app.get_as("/api/v1/audit-logs?limit=200", As::Cookie(&admin)).await;
    let cli_actions: Vec<String> = log.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|row| row["actor"]["kind"] == "CLI")
        .map(|row| row["action"].as_str().unwrap_or_default().to_string())
        .collect();
    for action in [
        "ACCOUNT_LOCKED",
        "ACCOUNT_UNLOCKED",
        "SESSIONS_REVOKED",
        "TOKENS_REVOKED",
        "USER_DEACTIVATED",
        "USER_REACTIVATED",
        "PASSWORD_RESET_REQUESTED",
    ] {
        assert!(cli_actions.iter().any(|a| a == action), "{action} audited as CLI: {cli_actions:?}");
    }
}

#[tokio::test]
async fn operator_commands_refuse_bad_input_in_one_line() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let unknown = operator_output(&app, &["admin", "lock", "--email", "nobody@example.com"]).await;
    assert_one_line_error(&unknown, 2, "no account has the email");
    let neither = operator_output(&app, &["admin", "revoke-sessions"]).await;
    assert_eq!(neither.status.code(), Some(2), "{}", stderr(&neither));
    let both = operator_output(&app, &["admin", "revoke-tokens", "--all", "--email", ADMIN]).await;
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
}

#[tokio::test]
async fn a_checkpoint_catches_a_truncated_audit_tail_that_the_chain_alone_cannot() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let dir = app.test_db.dir.path().to_path_buf();

    // A backup of the database as it was, then more activity.
    let backup = dir.join("before.db");
    let early_checkpoint = operator(&app, &["audit", "head"]).await;
    let early: Value = serde_json::from_str(&early_checkpoint).expect("audit head prints JSON");
    assert!(early["chains"].as_array().is_some_and(|c| !c.is_empty()), "{early}");
    let backed_up = if app.test_db.backend() == vulntrack_store::Backend::Sqlite {
        let out = operator(&app, &["backup", backup.to_str().expect("path")]).await;
        assert!(out.contains("backup written to"), "{out}");
        true
    } else {
        false
    };
    for i in 0..3 {
        let created = app
            .post("/api/v1/vulnerabilities", As::Cookie(&admin), crate::vulnerabilities::sample(&format!("After {i}")))
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
    }
    let head = operator(&app, &["audit", "head"]).await;
    let checkpoint = dir.join("head.json");
    std::fs::write(&checkpoint, &head).expect("save checkpoint");
    let ok = operator(&app, &["audit", "verify", "--checkpoint", checkpoint.to_str().expect("path")]).await;
    assert!(ok.contains("at or past it"), "{ok}");

    // A checkpoint from another history (a forged or swapped database).
    let mut forged: Value = serde_json::from_str(&head).expect("json");
    forged["chains"][0]["hash"] = json!("0".repeat(64));
    let forged_file = dir.join("forged.json");
    std::fs::write(&forged_file, forged.to_string()).expect("write");
    let diverged =
        operator_output(&app, &["audit", "verify", "--checkpoint", forged_file.to_str().expect("path")]).await;
    assert_one_line_error(&diverged, 1, "diverges from the checkpoint");

    let bad = dir.join("bad.json");
    std::fs::write(&bad, "not json").expect("write");
    let refused = operator_output(&app, &["audit", "verify", "--checkpoint", bad.to_str().expect("path")]).await;
    assert_one_line_error(&refused, 2, "is not a checkpoint");

    if backed_up {
        // The old backup restored: its chains verify on their own, but the
        // checkpoint shows the newest rows are missing.
        let restored_dir = tempfile::tempdir().expect("dir");
        let restored = restored_dir.path().join("vulntrack.db");
        std::fs::copy(&backup, &restored).expect("restore the backup file");
        let url = format!("sqlite://{}", restored.display());
        let vars = [("DATABASE_URL", url.as_str()), ("VULNTRACK_SECRET", TEST_SECRET)];
        let plain = run(restored_dir.path(), &["audit", "verify"], &vars).await;
        assert!(plain.status.success(), "the restored chain is intact on its own: {}", stderr(&plain));
        let against =
            run(restored_dir.path(), &["audit", "verify", "--checkpoint", checkpoint.to_str().expect("path")], &vars)
                .await;
        assert_one_line_error(&against, 1, "is behind the checkpoint");
    }
}

#[tokio::test]
async fn backup_makes_a_restorable_copy_of_the_live_database() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let created = app.post("/api/v1/vulnerabilities", As::Cookie(&admin), crate::vulnerabilities::sample("Kept")).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let dir = app.test_db.dir.path().to_path_buf();
    let file = dir.join("backup.dump");
    let output = operator_output(&app, &["backup", file.to_str().expect("path")]).await;
    let has_pg_dump = app.test_db.backend() == vulntrack_store::Backend::Sqlite || which("pg_dump").is_some();
    if skip_unless(has_pg_dump, Needs::Tool("pg_dump (.ci/run installs postgresql-client)")) {
        assert_one_line_error(&output, 1, "pg_dump is not installed");
        return;
    }
    assert!(output.status.success(), "{}", stderr(&output));
    let again = operator_output(&app, &["backup", file.to_str().expect("path")]).await;
    assert_one_line_error(&again, 2, "already exists");

    match app.test_db.backend() {
        vulntrack_store::Backend::Sqlite => {
            let restored_dir = tempfile::tempdir().expect("dir");
            let restored = restored_dir.path().join("vulntrack.db");
            std::fs::copy(&file, &restored).expect("restore");
            let url = format!("sqlite://{}", restored.display());
            let verify = run(
                restored_dir.path(),
                &["audit", "verify"],
                &[("DATABASE_URL", url.as_str()), ("VULNTRACK_SECRET", TEST_SECRET)],
            )
            .await;
            assert!(verify.status.success(), "{}", stderr(&verify));
            let db = vulntrack_store::Database::connect(
                &vulntrack_store::DatabaseUrl::parse(&url).expect("url"),
                vulntrack_store::PoolSettings::default(),
            )
            .await
            .expect("open the restored copy");
            use sea_orm::ConnectionTrait;
            let row = db
                .conn()
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Sqlite,
                    "SELECT COUNT(*) FROM vulnerabilities WHERE title = 'Kept'",
                ))
                .await
                .expect("query")
                .expect("row");
            assert_eq!(row.try_get_by_index::<i64>(0).expect("count"), 1, "the copy holds the data");
        }
        vulntrack_store::Backend::Postgres => {
            // createdb, pg_restore into it, then the restored chain verifies.
            let admin_url = crate::support::pg_admin_url().expect("PostgreSQL pass");
            let admin = url::Url::parse(&admin_url).expect("url");
            let name = format!("vt_restored_{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
            let created = std::process::Command::new("createdb")
                .args(["-h", admin.host_str().expect("host"), "-p", &admin.port().unwrap_or(5432).to_string()])
                .args(["-U", admin.username(), &name])
                .output()
                .expect("createdb runs");
            assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
            let url = crate::support::database_url_with_name(&admin_url, &name);
            let restore = std::process::Command::new("pg_restore")
                .arg("--no-owner")
                .arg(format!("--dbname={url}"))
                .arg(&file)
                .output()
                .expect("pg_restore runs");
            assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
            let verify =
                run(&dir, &["audit", "verify"], &[("DATABASE_URL", url.as_str()), ("VULNTRACK_SECRET", TEST_SECRET)])
                    .await;
            assert!(verify.status.success(), "{}", stderr(&verify));
            assert!(stdout(&verify).contains("chain intact"), "{}", stdout(&verify));
            psql(&admin_url, &["-d", "postgres", "-c", &format!("DROP DATABASE {name} WITH (FORCE)")]);
        }
    }
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| std::path::Path::new(dir).join(program))
        .find(|p| p.is_file())
}

/// `psql -v ON_ERROR_STOP=1 …` against the server of `admin_url`, as the
/// runbook runs it; `extra` picks a database (`-d`) or a command (`-c`).
fn psql(admin_url: &str, extra: &[&str]) -> std::process::Output {
    let url = url::Url::parse(admin_url).expect("admin URL");
    let output = std::process::Command::new("psql")
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-h", url.host_str().expect("host")])
        .args(["-p", &url.port().unwrap_or(5432).to_string(), "-U", url.username()])
        .args(extra)
        .output()
        .expect("psql runs");
    assert!(output.status.success(), "psql {extra:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

fn as_role(admin_url: &str, database: &str, role: &str) -> String {
    let mut url = url::Url::parse(&crate::support::database_url_with_name(admin_url, database)).expect("url");
    url.set_username(role).expect("user");
    url.to_string()
}

#[tokio::test]
async fn the_runbooks_least_privileged_roles_migrate_and_serve() {
    use sea_orm::ConnectionTrait;
    let Some(admin_url) = available(crate::support::pg_admin_url(), Needs::Postgres) else { return };
    let suffix = &uuid::Uuid::now_v7().simple().to_string()[24..];
    let (owner, app_role, database) =
        (format!("vt_owner_{suffix}"), format!("vt_app_{suffix}"), format!("vt_lp_{suffix}"));
    let sql = include_str!("../../../../docs/postgres-least-privilege.sql")
        .replace("vulntrack_owner", &owner)
        .replace("vulntrack_app", &app_role)
        .replace("DATABASE vulntrack ", &format!("DATABASE {database} "))
        .replace("\\connect vulntrack", &format!("\\connect {database}"));
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), &sql).expect("write the SQL");
    psql(&admin_url, &["-d", "postgres", "-f", file.path().to_str().expect("path")]);
    let (owner_url, app_url) = (as_role(&admin_url, &database, &owner), as_role(&admin_url, &database, &app_role));

    // `vulntrack migrate` as the owner, the server's own URL being the app's.
    let dir = tempfile::tempdir().expect("dir");
    let vars = [("DATABASE_URL", app_url.as_str()), ("VULNTRACK_MIGRATE_DATABASE_URL", owner_url.as_str())];
    let migrated = run(dir.path(), &["migrate"], &vars).await;
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    let superuser = vulntrack_store::Database::connect(
        &vulntrack_store::DatabaseUrl::parse(&crate::support::database_url_with_name(&admin_url, &database))
            .expect("url"),
        vulntrack_store::PoolSettings::default(),
    )
    .await
    .expect("connect");
    superuser
        .conn()
        .execute_unprepared(&format!(
            "REVOKE UPDATE, TRUNCATE ON audit_log FROM {app_role}; \
             GRANT UPDATE (actor_email, details, ip, user_agent, personal_salt, erased_at) ON audit_log TO {app_role}"
        ))
        .await
        .expect("the runbook's post-migration REVOKE and column GRANT");

    // The application role serves: sign-up, writes with their audit rows.
    let app_db = vulntrack_store::Database::connect(
        &vulntrack_store::DatabaseUrl::parse(&app_url).expect("url"),
        vulntrack_store::PoolSettings::default(),
    )
    .await
    .expect("connect as the application role");
    let app = TestApp::over(TestDb::fresh().await, app_db.clone());
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let created =
        app.post("/api/v1/vulnerabilities", As::Cookie(&admin), crate::vulnerabilities::sample("Least")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    // Erasing a member updates only the audit log's personal columns.
    let _leaver = app.add_member(&admin, "leaver@example.com", "VIEWER").await;
    let members = app.get_as("/api/v1/users", As::Cookie(&admin)).await;
    let leaver = members.body["items"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["email"] == "leaver@example.com")
        .and_then(|m| m["id"].as_str())
        .expect("the leaver")
        .to_owned();
    let erased = app.delete(&format!("/api/v1/users/{leaver}"), As::Cookie(&admin)).await;
    assert_eq!(erased.status, StatusCode::NO_CONTENT, "{erased:?}");
    for forbidden in ["UPDATE audit_log SET action = 'LOGIN'", "UPDATE audit_log SET hash = 'x'"] {
        assert!(app_db.conn().execute_unprepared(forbidden).await.is_err(), "{forbidden}");
    }

    // …and can change no schema, nor the audit log.
    for forbidden in [
        "DROP TABLE vulnerabilities",
        "CREATE TABLE intruder (a int)",
        "DELETE FROM audit_log",
        "ALTER TABLE users ADD COLUMN x int",
    ] {
        let refused = app_db.conn().execute_unprepared(forbidden).await;
        assert!(refused.is_err(), "the application role must not run {forbidden}");
    }

    // Password rotation: a new password for the role, then a new URL. (The
    // test server trusts local connections, so this shows the commands run,
    // not that the old password stops working.)
    psql(&admin_url, &["-d", &database, "-c", &format!("ALTER ROLE {app_role} PASSWORD 'rotated-app-password'")]);
    let url_file = dir.path().join("database-url");
    let mut rotated = url::Url::parse(&app_url).expect("url");
    rotated.set_password(Some("rotated-app-password")).expect("password");
    std::fs::write(&url_file, rotated.as_str()).expect("write");
    let url_file = url_file.to_str().expect("path").to_string();
    let check = run(
        dir.path(),
        &["audit", "verify"],
        &[("DATABASE_URL_FILE", url_file.as_str()), ("VULNTRACK_SECRET", TEST_SECRET)],
    )
    .await;
    assert!(check.status.success(), "{}", stderr(&check));

    app_db.close().await.expect("close");
    drop(app);
    let admin_db = vulntrack_store::Database::connect(
        &vulntrack_store::DatabaseUrl::parse(&admin_url).expect("url"),
        vulntrack_store::PoolSettings::default(),
    )
    .await
    .expect("connect");
    for cleanup in [
        format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
        format!("DROP ROLE IF EXISTS {app_role}"),
        format!("DROP ROLE IF EXISTS {owner}"),
    ] {
        admin_db.conn().execute_unprepared(&cleanup).await.expect("clean up");
    }
}

/// `openssl rand -hex 32`, as the runbook makes a secret.
fn new_secret() -> String {
    let output = std::process::Command::new("openssl").args(["rand", "-hex", "32"]).output().expect("openssl runs");
    assert!(output.status.success());
    String::from_utf8(output.stdout).expect("hex").trim().to_string()
}

#[tokio::test]
async fn rotating_the_secret_keeps_sessions_signed_with_the_previous_one_until_it_is_dropped() {
    let test_db = TestDb::fresh().await;
    let url = test_db.url.expose().to_string();
    let dir = test_db.dir.path();
    let (old, new) = (new_secret(), new_secret());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let login = async |server: &crate::cli::Server| {
        client
            .post(format!("http://{}/api/v1/auth/login", server.addr))
            .json(&json!({ "email": ADMIN, "password": PASSWORD }))
            .send()
            .await
            .expect("login")
    };
    let me = async |server: &crate::cli::Server, cookie: &str| {
        client
            .get(format!("http://{}/api/v1/me", server.addr))
            .header("cookie", cookie)
            .send()
            .await
            .expect("me")
            .status()
            .as_u16()
    };

    let before =
        crate::cli::Server::start(dir, &["serve"], &[("DATABASE_URL", &url), ("VULNTRACK_SECRET", &old)]).await;
    let setup = client
        .post(format!("http://{}/api/v1/setup", before.addr))
        .json(&json!({ "team_name": "Blue Team", "name": "Ada Admin", "email": ADMIN, "password": PASSWORD }))
        .send()
        .await
        .expect("setup");
    assert_eq!(setup.status().as_u16(), 201);
    let signed_in = login(&before).await;
    let cookie =
        signed_in.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_string();
    assert!(before.terminate().await.success());

    let rotating = crate::cli::Server::start(
        dir,
        &["serve"],
        &[("DATABASE_URL", &url), ("VULNTRACK_SECRET", &new), ("VULNTRACK_SECRET_PREVIOUS", &old)],
    )
    .await;
    assert_eq!(me(&rotating, &cookie).await, 200, "a session signed with the previous secret still works");
    assert!(rotating.terminate().await.success());

    let after = crate::cli::Server::start(dir, &["serve"], &[("DATABASE_URL", &url), ("VULNTRACK_SECRET", &new)]).await;
    assert_eq!(me(&after, &cookie).await, 401, "once the previous secret is dropped, its sessions end");
    assert!(after.terminate().await.success());
}

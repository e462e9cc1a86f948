//! Test helpers: a fresh database per test on either backend, the real
//! router over it, and the binary for command-line tests.

#![allow(dead_code)] // each test module uses a different part of the kit

pub mod proxy;
pub mod sinks;

use std::{path::PathBuf, time::Duration};

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use http_body_util::BodyExt;
use sea_orm::ConnectionTrait;
use secrecy::SecretString;
use tempfile::TempDir;
use tower::ServiceExt;
use vulntrack::{AppState, Config, config::LogFormat};
use vulntrack_domain::rate::RateRule;
use vulntrack_store::{Backend, Database, DatabaseUrl, PoolSettings};

/// The variable that switches the suite to PostgreSQL: an admin URL such as
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub const PG_ADMIN_URL_VAR: &str = "VULNTRACK_TEST_DATABASE_URL";

pub fn pg_admin_url() -> Option<String> {
    std::env::var(PG_ADMIN_URL_VAR).ok().filter(|url| !url.is_empty())
}

/// The variable that gives the Redis-backed rate-limit tests a shared
/// Redis, such as `redis://127.0.0.1:6379`; `.ci/run` sets it together with
/// [`PG_ADMIN_URL_VAR`] in its second pass.
pub const REDIS_URL_VAR: &str = "VULNTRACK_TEST_REDIS_URL";

pub fn redis_url() -> Option<String> {
    std::env::var(REDIS_URL_VAR).ok().filter(|url| !url.is_empty())
}

/// What a test needs that this run may not have.
#[derive(Debug, Clone, Copy)]
pub enum Needs<'a> {
    /// The PostgreSQL backend: the second pass of `.ci/run`.
    Postgres,
    /// The SQLite backend: the first pass of `.ci/run`.
    Sqlite,
    /// A shared Redis ([`REDIS_URL_VAR`]): the second pass of `.ci/run`.
    Redis,
    /// A service or tool of this machine, named with how CI gets it.
    Tool(&'a str),
}

/// Whether the calling test must return at once because what it `needs`
/// is not `available`: the one way a test of this suite skips, said on
/// stderr with the test's name.
///
/// A backend the run is not on ([`Needs::Postgres`], [`Needs::Sqlite`],
/// [`Needs::Redis`]) is a legitimate skip: `.ci/run` runs the suite on
/// SQLite, then on PostgreSQL with Redis, so the test runs in the other
/// pass. A missing service or tool ([`Needs::Tool`]) is a skip only on a
/// developer's machine: with `CI` set it panics, so a CI run cannot pass by
/// not testing. (So does a CI PostgreSQL pass without its Redis.)
#[must_use = "the test must return when this is true"]
pub fn skip_unless(available: bool, needs: Needs<'_>) -> bool {
    if available {
        return false;
    }
    let current = std::thread::current();
    let test = current.name().unwrap_or("a test");
    let on_ci = std::env::var_os("CI").is_some();
    match needs {
        Needs::Postgres => {
            eprintln!("SKIPPED {test}: PostgreSQL only; it runs in the pass with {PG_ADMIN_URL_VAR} set");
        }
        Needs::Sqlite => eprintln!("SKIPPED {test}: SQLite only; it runs in the pass without {PG_ADMIN_URL_VAR}"),
        Needs::Redis => {
            assert!(
                !(on_ci && pg_admin_url().is_some()),
                "{test}: under CI the PostgreSQL pass sets {REDIS_URL_VAR} too (.ci/run); without it this test never runs"
            );
            eprintln!("SKIPPED {test}: needs a shared Redis; it runs in the pass with {REDIS_URL_VAR} set");
        }
        Needs::Tool(what) => {
            assert!(!on_ci, "{test}: CI must provide {what}; under CI a missing service fails instead of passing");
            eprintln!("SKIPPED {test}: {what} is not available here (under CI this fails)");
        }
    }
    true
}

/// [`skip_unless`] for a value: `None` when the calling test must return
/// (after saying so, or panicking under CI as `needs` says).
pub fn available<T>(value: Option<T>, needs: Needs<'_>) -> Option<T> {
    if skip_unless(value.is_some(), needs) { None } else { value }
}

/// A database nobody else uses: a temporary SQLite file, or a new
/// PostgreSQL database that is dropped when this value is.
pub struct TestDb {
    pub url: DatabaseUrl,
    pub dir: TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn fresh() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match pg_admin_url() {
            None => {
                let url = DatabaseUrl::sqlite_file(&dir.path().join("test.db"));
                Self { url, dir, pg_name: None }
            }
            Some(admin) => Self::postgres(admin, dir, "").await,
        }
    }

    /// A fresh database whose schema is already current: copied from a
    /// template migrated once per test run (PostgreSQL `CREATE DATABASE …
    /// TEMPLATE`, a file copy on SQLite), as crates.io's tests do, instead
    /// of running every migration for every test.
    pub async fn from_template() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match pg_admin_url() {
            None => {
                let template = sqlite_template().await;
                let path = dir.path().join("test.db");
                std::fs::copy(template, &path).expect("copy the template database");
                Self { url: DatabaseUrl::sqlite_file(&path), dir, pg_name: None }
            }
            Some(admin) => {
                let template = postgres_template(&admin).await;
                Self::postgres(admin, dir, &format!(" TEMPLATE {template}")).await
            }
        }
    }

    /// A new PostgreSQL database (`CREATE DATABASE name{options}`), dropped
    /// with this value.
    async fn postgres(admin: String, dir: TempDir, options: &str) -> Self {
        let name = format!("vt_test_{}", uuid::Uuid::now_v7().simple());
        let admin_db = Database::connect(&DatabaseUrl::parse(&admin).expect("admin URL"), PoolSettings::default())
            .await
            .unwrap_or_else(|e| panic!("{PG_ADMIN_URL_VAR} is set but PostgreSQL does not answer: {e}"));
        admin_db
            .conn()
            .execute_unprepared(&format!("CREATE DATABASE {name}{options}"))
            .await
            .expect("create test database");
        admin_db.close().await.expect("close admin connection");
        let url = DatabaseUrl::parse(&database_url_with_name(&admin, &name)).expect("test database URL");
        Self { url, dir, pg_name: Some(name) }
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// A pool on this database with the schema migrated.
    pub async fn migrated(&self) -> Database {
        let db = self.connect().await;
        db.migrate().await.expect("migrations apply");
        db
    }

    pub async fn connect(&self) -> Database {
        Database::connect(&self.url, PoolSettings::default()).await.expect("connect to test database")
    }
}

/// The SQLite template of this test run: migrated once, closed (so its WAL
/// is checkpointed into the file), then only copied.
async fn sqlite_template() -> &'static std::path::Path {
    static TEMPLATE: tokio::sync::OnceCell<(TempDir, PathBuf)> = tokio::sync::OnceCell::const_new();
    let (_, path) = TEMPLATE
        .get_or_init(|| async {
            let dir = tempfile::tempdir().expect("template dir");
            let path = dir.path().join("template.db");
            let db =
                Database::connect(&DatabaseUrl::sqlite_file(&path), PoolSettings::default()).await.expect("template");
            db.migrate().await.expect("migrate the template");
            db.close().await.expect("close the template");
            (dir, path)
        })
        .await;
    path
}

/// The PostgreSQL template of this schema: named after the migrations, so
/// runs with the same schema share it and a changed schema gets a new one
/// (older templates are dropped when a new one is made). Made once, under
/// an advisory lock, by whichever test process gets there first.
async fn postgres_template(admin: &str) -> &'static str {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            use sha2::Digest;
            let names = vulntrack_store::migration::names().join(",");
            let digest = hex::encode(&sha2::Sha256::digest(names.as_bytes())[..6]);
            let name = format!("vt_template_{digest}");
            let admin_db = Database::connect(&DatabaseUrl::parse(admin).expect("admin URL"), PoolSettings::default())
                .await
                .expect("PostgreSQL answers");
            let txn = admin_db.begin().await.expect("begin");
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(746573747470)").await.expect("template lock");
            let exists = txn
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
                ))
                .await
                .expect("look for the template")
                .is_some();
            if !exists {
                let stale = txn
                    .query_all_raw(sea_orm::Statement::from_string(
                        sea_orm::DbBackend::Postgres,
                        "SELECT datname FROM pg_database WHERE datname LIKE 'vt\\_template\\_%'".to_string(),
                    ))
                    .await
                    .expect("old templates");
                for row in stale {
                    let old: String = row.try_get_by_index(0).expect("name");
                    let _ = admin_db
                        .conn()
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {old} WITH (FORCE)"))
                        .await;
                }
                let building = format!("{name}_building");
                let _ = admin_db
                    .conn()
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                    .await;
                admin_db
                    .conn()
                    .execute_unprepared(&format!("CREATE DATABASE {building}"))
                    .await
                    .expect("create template");
                let url = DatabaseUrl::parse(&database_url_with_name(admin, &building)).expect("template URL");
                let db = Database::connect(&url, PoolSettings::default()).await.expect("connect template");
                db.migrate().await.expect("migrate the template");
                db.close().await.expect("close the template");
                admin_db
                    .conn()
                    .execute_unprepared(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .await
                    .expect("publish the template");
            }
            txn.commit().await.expect("release the template lock");
            admin_db.close().await.expect("close");
            name
        })
        .await
}

/// `admin` with its database name replaced by `name`.
pub fn database_url_with_name(admin: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin).expect("admin URL parses");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (Some(name), Some(admin)) = (self.pg_name.take(), pg_admin_url()) else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on;
        // a short-lived thread with its own runtime does the clean-up.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                let url = DatabaseUrl::parse(&admin).expect("admin URL");
                if let Ok(db) = Database::connect(&url, PoolSettings::default()).await {
                    let _ = db.conn().execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    let _ = db.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// A development configuration for the given database and data directory.
pub fn test_config(database_url: DatabaseUrl, data_dir: PathBuf) -> Config {
    let mut config = Config::development(database_url, data_dir, SecretString::from(TEST_SECRET));
    config.db_max_connections = 5;
    // Tests that are not about rate limiting make more requests than the
    // production limits allow; the rate-limit tests set them back.
    let unreached = RateRule::new(1_000_000, std::time::Duration::from_secs(60));
    let settings = &mut config.settings;
    for limit in [
        &mut settings.rate_limit_login,
        &mut settings.rate_limit_login_client,
        &mut settings.rate_limit_reset,
        &mut settings.rate_limit_api,
        &mut settings.rate_limit_create,
        &mut settings.rate_limit_anon,
    ] {
        *limit = unreached;
    }
    config
}

/// The real router over a fresh, migrated database.
pub struct TestApp {
    pub router: Router,
    /// The state behind `router`, for calling services directly.
    pub state: AppState,
    pub db: Database,
    pub test_db: TestDb,
    pub config: Config,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
    pub body: serde_json::Value,
    /// The body as sent (for files that are not text).
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for TestResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestResponse")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl TestResponse {
    /// The `Set-Cookie` header values.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok().map(str::to_string)).collect()
    }

    /// `name=value` of the first cookie set, ready for a `Cookie` header.
    pub fn cookie(&self) -> String {
        let set = self.set_cookies();
        let first = set.first().unwrap_or_else(|| panic!("no Set-Cookie in {self:?}"));
        first.split(';').next().expect("cookie pair").to_string()
    }
}

/// How a test request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum As<'a> {
    Anonymous,
    /// `Cookie: name=value`, sent the way a same-origin browser page would.
    Cookie(&'a str),
    Bearer(&'a str),
}

pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret!";

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A TestApp whose configuration `adjust` may change first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let test_db = TestDb::from_template().await;
        let db = test_db.connect().await;
        Self::over_with(test_db, db, adjust)
    }

    pub fn over(test_db: TestDb, db: Database) -> Self {
        Self::over_with(test_db, db, |_| {})
    }

    pub fn over_with(test_db: TestDb, db: Database, adjust: impl FnOnce(&mut Config)) -> Self {
        if std::env::var_os("VULNTRACK_TEST_LOG").is_some() {
            vulntrack::telemetry::init(LogFormat::Text);
        }
        let mut config = test_config(test_db.url.clone(), test_db.dir.path().to_path_buf());
        adjust(&mut config);
        let state = AppState::new(db.clone(), config.clone(), SecretString::from(TEST_SECRET)).expect("app state");
        Self { router: vulntrack::build_router(state.clone()), state, db, test_db, config }
    }

    /// A second instance of the app over the same database and config, with
    /// its own in-process state (as another server process would have).
    pub fn sibling(&self) -> Router {
        let state =
            AppState::new(self.db.clone(), self.config.clone(), SecretString::from(TEST_SECRET)).expect("state");
        vulntrack::build_router(state)
    }

    /// The origin pages of this app are served from.
    pub fn origin(&self) -> String {
        self.config.public_url.origin().ascii_serialization()
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        auth: As<'_>,
        body: Option<serde_json::Value>,
        extra_headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path);
        match auth {
            As::Anonymous => {}
            As::Cookie(cookie) => {
                request = request.header(header::COOKIE, cookie).header("sec-fetch-site", "same-origin");
            }
            As::Bearer(token) => request = request.header(header::AUTHORIZATION, format!("Bearer {token}")),
        }
        for (name, value) in extra_headers {
            request = request.header(*name, *value);
        }
        let request = match body {
            Some(json) => request.header(header::CONTENT_TYPE, "application/json").body(Body::from(json.to_string())),
            None => request.body(Body::empty()),
        }
        .expect("request");
        self.respond(request).await
    }

    async fn respond(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let content_type =
            headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        TestResponse { status, content_type, headers, body, bytes: bytes.to_vec() }
    }

    /// A `multipart/form-data` POST, as a browser's upload form or `curl -F`
    /// sends it: text `fields` and one file part named `file`.
    pub async fn upload(
        &self,
        path: &str,
        auth: As<'_>,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> TestResponse {
        let boundary = "----vulntrack-test-boundary-7d2f";
        let mut body: Vec<u8> = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        if let Some((file_name, data)) = file {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        self.send_bytes(Method::POST, path, auth, &content_type, body).await
    }

    /// A request with a raw body of `content_type`.
    pub async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        auth: As<'_>,
        content_type: &str,
        body: Vec<u8>,
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, content_type);
        match auth {
            As::Anonymous => {}
            As::Cookie(cookie) => {
                request = request.header(header::COOKIE, cookie).header("sec-fetch-site", "same-origin");
            }
            As::Bearer(token) => request = request.header(header::AUTHORIZATION, format!("Bearer {token}")),
        }
        let request = request.header(header::CONTENT_LENGTH, body.len()).body(Body::from(body)).expect("request");
        self.respond(request).await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Method::GET, path, As::Anonymous, None, &[]).await
    }

    pub async fn get_as(&self, path: &str, auth: As<'_>) -> TestResponse {
        self.send(Method::GET, path, auth, None, &[]).await
    }

    pub async fn post(&self, path: &str, auth: As<'_>, body: serde_json::Value) -> TestResponse {
        self.send(Method::POST, path, auth, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, auth: As<'_>, body: serde_json::Value) -> TestResponse {
        self.send(Method::PATCH, path, auth, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str, auth: As<'_>) -> TestResponse {
        self.send(Method::DELETE, path, auth, None, &[]).await
    }

    /// An argon2id hash of [`PASSWORD`], as the server makes them.
    pub async fn test_hasher_hash(&self) -> String {
        vulntrack::auth::PasswordHasher::default().hash(SecretString::from(PASSWORD)).await.expect("hash")
    }

    /// Runs first-run setup with an ADMIN `email` and [`PASSWORD`].
    pub async fn setup_admin(&self, team: &str, email: &str) -> serde_json::Value {
        let response = self
            .post(
                "/api/v1/setup",
                As::Anonymous,
                serde_json::json!({ "team_name": team, "name": "Ada Admin", "email": email, "password": PASSWORD }),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{response:?}");
        response.body
    }

    /// Signs in and returns the `Cookie` header value.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let response = self
            .post("/api/v1/auth/login", As::Anonymous, serde_json::json!({ "email": email, "password": password }))
            .await;
        assert_eq!(response.status, StatusCode::OK, "login of {email}: {response:?}");
        response.cookie()
    }

    /// Invites `email` as `role` (as the admin behind `admin_cookie`), has
    /// them accept, and returns their `Cookie` header value.
    pub async fn add_member(&self, admin_cookie: &str, email: &str, role: &str) -> String {
        let invite = self
            .post("/api/v1/invitations", As::Cookie(admin_cookie), serde_json::json!({ "email": email, "role": role }))
            .await;
        assert_eq!(invite.status, StatusCode::CREATED, "{invite:?}");
        let token = token_of(invite.body["invite_url"].as_str().expect("invite_url"));
        let accepted = self
            .post(
                "/api/v1/auth/register",
                As::Anonymous,
                serde_json::json!({ "token": token, "name": "Member Person", "password": PASSWORD }),
            )
            .await;
        assert_eq!(accepted.status, StatusCode::CREATED, "{accepted:?}");
        self.login(email, PASSWORD).await
    }
}

/// An ADMIN of a second team ("Red Team", made directly in the store) with
/// `email` and [`PASSWORD`], signed in: for checking what one team cannot
/// see of another's.
pub async fn other_team_admin(app: &TestApp, email: &str) -> String {
    let other = vulntrack_store::teams::create(app.db.conn(), "Red Team").await.expect("team");
    let hash = app.test_hasher_hash().await;
    let new = vulntrack_store::users::NewUser {
        email,
        name: "Red Admin",
        role: vulntrack_domain::Role::Admin,
        password_hash: &hash,
    };
    vulntrack_store::users::create(app.db.conn(), other.scope(), new).await.expect("user");
    app.login(email, PASSWORD).await
}

/// A password every policy rule accepts.
pub const PASSWORD: &str = "k3#Vq9!zLw2@Tr";

/// The `token` query parameter of an invitation or reset link.
pub fn token_of(link: &str) -> String {
    let url = url::Url::parse(link).expect("link is a URL");
    url.query_pairs().find(|(k, _)| k == "token").map(|(_, v)| v.into_owned()).expect("token parameter")
}

/// Polls `check` until it returns true or `limit` passes; for waiting on
/// things that settle asynchronously (a reconnecting pool), not for timing.
pub async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_vulntrack")
}

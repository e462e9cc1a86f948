//! Test helpers: a fresh database per test on either backend, the real
//! router over it, and the binary for command-line tests.

#![allow(dead_code)] // each test module uses a different part of the kit

pub mod proxy;

use std::{path::PathBuf, time::Duration};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use sea_orm::ConnectionTrait;
use secrecy::SecretString;
use tempfile::TempDir;
use tower::ServiceExt;
use vulntrack::{
    AppState, Config,
    config::{Environment, LogFormat, SecretSource},
};
use vulntrack_store::{Backend, Database, DatabaseUrl, PoolSettings};

/// The variable that switches the suite to PostgreSQL: an admin URL such as
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub const PG_ADMIN_URL_VAR: &str = "VULNTRACK_TEST_DATABASE_URL";

pub fn pg_admin_url() -> Option<String> {
    std::env::var(PG_ADMIN_URL_VAR)
        .ok()
        .filter(|url| !url.is_empty())
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
                Self {
                    url,
                    dir,
                    pg_name: None,
                }
            }
            Some(admin) => {
                let name = format!("vt_test_{}", uuid::Uuid::now_v7().simple());
                let admin_db = Database::connect(
                    &DatabaseUrl::parse(&admin).expect("admin URL"),
                    PoolSettings::default(),
                )
                .await
                .unwrap_or_else(|e| {
                    panic!("{PG_ADMIN_URL_VAR} is set but PostgreSQL does not answer: {e}")
                });
                admin_db
                    .conn()
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin_db.close().await.expect("close admin connection");
                let url = DatabaseUrl::parse(&database_url_with_name(&admin, &name))
                    .expect("test database URL");
                Self {
                    url,
                    dir,
                    pg_name: Some(name),
                }
            }
        }
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
        Database::connect(&self.url, PoolSettings::default())
            .await
            .expect("connect to test database")
    }
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
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let url = DatabaseUrl::parse(&admin).expect("admin URL");
                if let Ok(db) = Database::connect(&url, PoolSettings::default()).await {
                    let _ = db
                        .conn()
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = db.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// A development configuration for the given database and data directory.
pub fn test_config(database_url: DatabaseUrl, data_dir: PathBuf) -> Config {
    Config {
        bind: "127.0.0.1:0".parse().expect("address"),
        data_dir,
        database_url,
        db_max_connections: 5,
        environment: Environment::Development,
        secret: SecretSource::Provided(SecretString::from("test-secret-test-secret-test-secret!")),
        public_url: url::Url::parse("http://127.0.0.1:3000/").expect("url"),
        auto_migrate: true,
        log_format: LogFormat::Text,
        config_file: None,
    }
}

/// The real router over a fresh, migrated database.
pub struct TestApp {
    pub router: Router,
    pub db: Database,
    pub test_db: TestDb,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub content_type: String,
    pub body: serde_json::Value,
}

impl TestApp {
    pub async fn spawn() -> Self {
        let test_db = TestDb::fresh().await;
        let db = test_db.migrated().await;
        Self::over(test_db, db)
    }

    pub fn over(test_db: TestDb, db: Database) -> Self {
        let config = test_config(test_db.url.clone(), test_db.dir.path().to_path_buf());
        let state = AppState::new(
            db.clone(),
            config,
            SecretString::from("test-secret-test-secret-test-secret!"),
        );
        Self {
            router: vulntrack::build_router(state),
            db,
            test_db,
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        let request = Request::get(path).body(Body::empty()).expect("request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&bytes).into())
            })
        };
        TestResponse {
            status,
            content_type,
            body,
        }
    }
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

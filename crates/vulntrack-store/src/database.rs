//! Connecting to the database chosen by URL, and the pool around it.

use std::{
    fmt,
    path::Path,
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, SqlxPostgresConnector,
    SqlxSqliteConnector, TransactionOptions, TransactionTrait,
    sqlx::{
        postgres::{PgConnectOptions, PgPoolOptions},
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    },
};
use sea_orm_migration::MigratorTrait;

use crate::{error::Outage, migration::Migrator};

/// The two supported database engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// A database URL that has been checked to be usable, so connecting can
/// never panic on a malformed one (sea-orm's `Database::connect` would).
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    url: String,
}

/// Why a database URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error("must start with sqlite:, postgres:// or postgresql://")]
    UnsupportedScheme,
    #[error("is not a valid {backend} URL: {reason}")]
    Invalid { backend: Backend, reason: String },
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, DatabaseUrlError> {
        let raw = raw.trim();
        let invalid = |backend, reason: String| DatabaseUrlError::Invalid { backend, reason };
        if raw.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(raw).map_err(|e| invalid(Backend::Sqlite, e.to_string()))?;
            Ok(Self { backend: Backend::Sqlite, url: raw.to_string() })
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let parsed = url::Url::parse(raw).map_err(|e| invalid(Backend::Postgres, e.to_string()))?;
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(invalid(Backend::Postgres, "no host".into()));
            }
            // sqlx checks the parameters, sslmode included, when it parses.
            PgConnectOptions::from_str(raw).map_err(|e| invalid(Backend::Postgres, e.to_string()))?;
            Ok(Self { backend: Backend::Postgres, url: raw.to_string() })
        } else {
            Err(DatabaseUrlError::UnsupportedScheme)
        }
    }

    /// The URL of a SQLite file, created on first connect.
    pub fn sqlite_file(path: &Path) -> Self {
        Self { backend: Backend::Sqlite, url: format!("sqlite://{}", path.display()) }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL with any password replaced, safe to print or log.
    pub fn redacted(&self) -> String {
        redact_password(&self.url)
    }

    /// The full URL, password included. Do not log it.
    pub fn expose(&self) -> &str {
        &self.url
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `raw` with the password of its userinfo, if any, replaced by
/// `REDACTED`; anything that is not a URL comes back unchanged.
pub fn redact_password(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            // Only fails for URLs that cannot have credentials.
            let _ = url.set_password(Some("REDACTED"));
            url.to_string()
        }
        _ => raw.to_string(),
    }
}

/// Pool bounds. `acquire_timeout` also bounds how long a request waits when
/// the database is down before it answers 503, so `/readyz` and clients
/// hear of an outage promptly.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub sqlite_busy_timeout: Duration,
    /// A cap on the SQLite file's size in pages (`PRAGMA max_page_count`
    /// on every connection): past it writes fail as on a full disk. For
    /// tests that reproduce a full disk without root; `None` in service.
    pub sqlite_max_page_count: Option<u64>,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
            sqlite_busy_timeout: Duration::from_secs(5),
            sqlite_max_page_count: None,
        }
    }
}

/// Whether a connection coming back to the pool may serve again. A
/// transaction whose COMMIT or ROLLBACK failed (a full disk, an I/O error)
/// can leave the connection inside a transaction: reused, it would hold
/// SQLite's write lock and nest later "commits" inside a transaction that
/// never commits, acknowledging writes that are then lost. Such a
/// connection is closed instead (closing rolls back), and the pool opens a
/// fresh one. On SQLite the ping first lets a rollback queued by a dropped
/// transaction finish (its worker thread tracks the depth); PostgreSQL's
/// driver counts the depth itself and sends the queued rollback ahead of
/// the next statement, so it needs no round trip here.
async fn still_clean<C: sea_orm::sqlx::Connection>(
    conn: &mut C,
    settle_first: bool,
) -> Result<bool, sea_orm::sqlx::Error> {
    if settle_first {
        conn.ping().await?;
    }
    if conn.is_in_transaction() {
        tracing::warn!("a database connection was left inside a failed transaction; closing it");
        return Ok(false);
    }
    Ok(true)
}

/// A connection idle longer than this is pinged before it serves: after a
/// quiet spell, a database restart may have broken it.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(2);

/// Whether a connection should be tested before it serves a request. Not
/// on every checkout (a ping per statement doubled PostgreSQL's round
/// trips): only when it sat idle for a while, or while an outage is on
/// record, so connections broken by the outage are found and replaced
/// rather than failing requests after the database is back.
fn worth_a_ping(idle_for: Duration, fault: &Mutex<Option<StorageFault>>) -> bool {
    idle_for >= IDLE_BEFORE_PING || fault.lock().map_or(true, |slot| slot.is_some())
}

async fn ready_to_serve<C: sea_orm::sqlx::Connection>(
    conn: &mut C,
    idle_for: Duration,
    fault: &Mutex<Option<StorageFault>>,
) -> Result<bool, sea_orm::sqlx::Error> {
    if worth_a_ping(idle_for, fault) {
        conn.ping().await?;
    }
    Ok(true)
}

/// A storage outage on record: what it is and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageFault {
    pub outage: Outage,
    pub since: DateTime<Utc>,
}

/// What a storage check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageCheck {
    /// Storage works; `recovered` is the fault this check cleared, if any.
    Healthy {
        recovered: Option<StorageFault>,
    },
    Faulty(StorageFault),
}

fn probe_id() -> i64 {
    let (_, low) = uuid::Uuid::now_v7().as_u64_pair();
    i64::from_ne_bytes(low.to_ne_bytes())
}

/// The PostgreSQL advisory lock key that serialises migrations
/// (`"vulntrak"` in ASCII), shared by every VulnTrack process.
const MIGRATION_LOCK_KEY: i64 = 0x7675_6c6e_7472_616b;
/// How long a process waits for another's migrations.
const MIGRATION_LOCK_WAIT: Duration = Duration::from_secs(600);

/// SQLite's "database is locked" (SQLITE_BUSY), after its busy timeout.
fn is_busy(error: &DbErr) -> bool {
    let (DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))) = error
    else {
        return false;
    };
    matches!(&**e, sea_orm::sqlx::Error::Database(db) if db.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 5))
}

/// Opens a SQLite pool, waiting (up to [`MIGRATION_LOCK_WAIT`]) while
/// another process holds the file. Switching a new file to WAL takes an
/// exclusive lock, and SQLite answers SQLITE_BUSY at once instead of calling
/// the busy handler when several processes open one new file together (as
/// servers or `migrate` runs started at the same moment do).
async fn open_sqlite_waiting(
    pool: SqlitePoolOptions,
    options: SqliteConnectOptions,
) -> Result<sea_orm::sqlx::SqlitePool, DbErr> {
    let to_db_err = |e: sea_orm::sqlx::Error| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(Arc::new(e)));
    let deadline = tokio::time::Instant::now() + MIGRATION_LOCK_WAIT;
    loop {
        match pool.clone().connect_with(options.clone()).await.map_err(to_db_err) {
            Err(error) if is_busy(&error) && tokio::time::Instant::now() < deadline => {
                tracing::info!("the database file is locked by another process; waiting");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

/// How much a readiness probe writes while a full disk is on record: more
/// than a typical request, so "space has returned" means room to work. A
/// record's creation writes some 30 pages to SQLite's WAL (the row, its
/// indexes, search terms, audit row): a refused one leaves that much of
/// the WAL file already taken, which a smaller probe would fit in and
/// report healthy while creations are still refused.
const PROBE_BYTES: usize = 256 * 1024;

/// A pooled connection to the configured database.
#[derive(Debug, Clone)]
pub struct Database {
    conn: DatabaseConnection,
    /// Where transactions run. On SQLite, a pool of one connection: writers
    /// queue for it in order instead of colliding on the file lock and
    /// backing off on the busy timeout (p99 of seconds at 8 writers), and
    /// readers, on `conn`, never wait for it (WAL). On PostgreSQL, the same
    /// pool as `conn`.
    writer: DatabaseConnection,
    backend: Backend,
    fault: Arc<Mutex<Option<StorageFault>>>,
}

impl Database {
    /// Opens the pool. SQLite files are created if missing and run in WAL
    /// mode with foreign keys enforced and a busy timeout; PostgreSQL honours
    /// every parameter of the URL, `sslmode` included.
    pub async fn connect(url: &DatabaseUrl, settings: PoolSettings) -> Result<Self, DbErr> {
        let to_db_err = |e: sea_orm::sqlx::Error| DbErr::Conn(sea_orm::RuntimeErr::Internal(e.to_string()));
        let fault: Arc<Mutex<Option<StorageFault>>> = Arc::default();
        let (conn, writer) = match url.backend {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(&url.url)
                    .map_err(to_db_err)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(settings.sqlite_busy_timeout);
                let options = match settings.sqlite_max_page_count {
                    Some(pages) => options.pragma("max_page_count", pages.to_string()),
                    None => options,
                };
                // The file is local: there is no connection to lose, so no
                // test on checkout (each would be a hop to the driver's
                // worker thread).
                // Transactions run on the writer (`Database::begin`), so only
                // its connection can be left inside a dropped one and needs the
                // settling ping on release; a reader is still checked, without
                // the hop to its worker thread that a ping per statement costs.
                let pool = |size: u32, settle: bool| {
                    SqlitePoolOptions::new()
                        .max_connections(size)
                        .acquire_timeout(settings.acquire_timeout)
                        .test_before_acquire(false)
                        .after_release(move |conn, _| Box::pin(still_clean(conn, settle)))
                };
                // The writer first: it creates the file and switches it to WAL.
                let writer = open_sqlite_waiting(pool(1, true), options.clone()).await?;
                let readers = open_sqlite_waiting(pool(settings.max_connections, false), options).await?;
                (
                    SqlxSqliteConnector::from_sqlx_sqlite_pool(readers),
                    SqlxSqliteConnector::from_sqlx_sqlite_pool(writer),
                )
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(&url.url).map_err(to_db_err)?.application_name("vulntrack");
                let checkout_fault = fault.clone();
                let pool = PgPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.acquire_timeout)
                    // A connection broken by a database restart is found and
                    // replaced here rather than failing a request.
                    .test_before_acquire(false)
                    .before_acquire(move |conn, meta| {
                        let fault = checkout_fault.clone();
                        Box::pin(async move { ready_to_serve(conn, meta.idle_for, &fault).await })
                    })
                    .after_release(|conn, _| Box::pin(still_clean(conn, false)))
                    // Bounds what a search reads of the index's pending list
                    // (migration 20); bulk writes raise it for themselves.
                    // A statement rather than a startup option, which
                    // connection poolers such as PgBouncer refuse.
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            use sea_orm::sqlx::Executor;
                            conn.execute(crate::vulnerabilities::search::SESSION_PENDING_LIST).await.map(|_| ())
                        })
                    })
                    .connect_with(options)
                    .await
                    .map_err(to_db_err)?;
                let conn = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
                (conn.clone(), conn)
            }
        };
        Ok(Self { conn, writer, backend: url.backend, fault })
    }

    fn fault_slot(&self) -> std::sync::MutexGuard<'_, Option<StorageFault>> {
        self.fault.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records an outage a request ran into; true when it is news (no
    /// fault was on record), so the caller announces it once, at the first
    /// failed query.
    pub fn note_outage(&self, outage: Outage) -> bool {
        let mut slot = self.fault_slot();
        match *slot {
            None => {
                *slot = Some(StorageFault { outage, since: Utc::now() });
                true
            }
            Some(ref mut fault) => {
                // A full disk outranks "unreachable": recovery then needs a
                // write to pass, not just a round trip.
                if outage != Outage::Unreachable {
                    fault.outage = outage;
                }
                false
            }
        }
    }

    /// The outage on record, if any.
    pub fn storage_fault(&self) -> Option<StorageFault> {
        *self.fault_slot()
    }

    /// Checks storage now: a round trip within `deadline`, and while a full
    /// disk or an I/O fault is on record, a write that needs space. A pass
    /// clears the fault on record; a failure records one.
    pub async fn check_storage(&self, deadline: Duration) -> StorageCheck {
        let needs_write = self.storage_fault().is_some_and(|f| f.outage != Outage::Unreachable);
        let attempt = async {
            self.ping().await?;
            if needs_write { self.probe_write().await } else { Ok(()) }
        };
        let outcome = match tokio::time::timeout(deadline, attempt).await {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some(crate::error::outage_of(&error).unwrap_or(Outage::Unreachable)),
            Err(_) => Some(Outage::Unreachable),
        };
        match outcome {
            None => StorageCheck::Healthy { recovered: self.fault_slot().take() },
            Some(outage) => {
                self.note_outage(outage);
                StorageCheck::Faulty(self.storage_fault().unwrap_or(StorageFault { outage, since: Utc::now() }))
            }
        }
    }

    /// Writes and deletes a row of [`PROBE_BYTES`] in one committed
    /// transaction: it fails while the disk has no room for it.
    async fn probe_write(&self) -> Result<(), DbErr> {
        use sea_orm::sea_query::{Alias, Query};
        let id = probe_id();
        let txn = self.begin().await?;
        let insert = Query::insert()
            .into_table(Alias::new("storage_probe"))
            .columns([Alias::new("id"), Alias::new("filler")])
            // A fresh id each time: probes from several nodes never collide.
            .values([id.into(), "0".repeat(PROBE_BYTES).into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .to_owned();
        txn.execute(&insert).await?;
        txn.execute(
            &Query::delete()
                .from_table(Alias::new("storage_probe"))
                .and_where(sea_orm::sea_query::ExprTrait::eq(sea_orm::sea_query::Expr::col(Alias::new("id")), id))
                .to_owned(),
        )
        .await?;
        txn.commit().await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The underlying connection, for store functions and tests.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Calls `observe` with every statement this handle (and its clones
    /// made afterwards) runs: the benchmark replays exactly what a request
    /// ran to compare the server with its database.
    pub fn observe_statements(&mut self, observe: impl Fn(&sea_orm::metric::Info<'_>) + Send + Sync + 'static) {
        let observe = Arc::new(observe);
        let also = observe.clone();
        self.conn.set_metric_callback(move |info| observe(info));
        self.writer.set_metric_callback(move |info| also(info));
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`: taking
    /// the write lock up front means a transaction that reads and then
    /// writes waits its turn (busy timeout) instead of failing with
    /// SQLITE_BUSY when another writer committed in between.
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.writer
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await
    }

    /// Applies pending migrations; a no-op when the schema is current.
    ///
    /// Several servers (or `migrate` runs) may start together against one
    /// database: the migrations run in one transaction that first takes a
    /// lock — a transaction-scoped advisory lock on PostgreSQL, SQLite's
    /// write lock (`BEGIN IMMEDIATE`) — so the others wait, then find the
    /// schema current. Either every pending migration applies or none does.
    /// Returns the names of the migrations it applied.
    pub async fn migrate(&self) -> Result<Vec<String>, DbErr> {
        let txn = self.begin_waiting(MIGRATION_LOCK_WAIT).await?;
        if self.backend == Backend::Postgres {
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")).await?;
        }
        // Read under the lock too: reading creates the bookkeeping table.
        let pending: Vec<String> =
            Migrator::get_pending_migrations(&txn).await?.iter().map(|m| m.name().to_string()).collect();
        if !pending.is_empty() {
            tracing::info!(migrations = ?pending, "applying database migrations");
            Migrator::up(&txn, None).await?;
        }
        txn.commit().await?;
        Ok(pending)
    }

    /// [`Database::begin`], waiting past SQLite's busy timeout (up to
    /// `patience`) while another process holds the write lock.
    async fn begin_waiting(&self, patience: Duration) -> Result<DatabaseTransaction, DbErr> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            match self.begin().await {
                Err(error) if is_busy(&error) && tokio::time::Instant::now() < deadline => {
                    tracing::info!("waiting for another process's migrations to finish");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                other => return other,
            }
        }
    }

    /// Names of migrations not yet applied.
    pub async fn pending_migrations(&self) -> Result<Vec<String>, DbErr> {
        Ok(Migrator::get_pending_migrations(&self.conn).await?.iter().map(|m| m.name().to_string()).collect())
    }

    /// Connections the pool holds, and how many of them are idle.
    pub fn pool_usage(&self) -> (u32, u32) {
        match self.backend {
            Backend::Sqlite => {
                let pool = self.conn.get_sqlite_connection_pool();
                (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(u32::MAX))
            }
            Backend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(u32::MAX))
            }
        }
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.execute_unprepared("SELECT 1").await.map(|_| ())
    }

    pub async fn close(self) -> Result<(), DbErr> {
        if self.backend == Backend::Sqlite {
            self.writer.close().await?;
        }
        self.conn.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_urls_parse_and_pick_their_backend() {
        let sqlite = DatabaseUrl::parse("sqlite://data/vulntrack.db").expect("sqlite");
        assert_eq!(sqlite.backend(), Backend::Sqlite);
        let pg = DatabaseUrl::parse("postgres://app:pw@db.internal:5432/vt?sslmode=require").expect("pg");
        assert_eq!(pg.backend(), Backend::Postgres);
        assert!(DatabaseUrl::parse("postgresql://db/vt").is_ok());
    }

    #[test]
    fn malformed_urls_are_refused_not_panicked_on() {
        for bad in ["nonsense", "", "mysql://db/vt", "postgres://", "postgres://db/vt?sslmode=sometimes"] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn passwords_never_appear_in_the_printable_form() {
        let url = DatabaseUrl::parse("postgres://app:hunter2@db/vt").expect("pg");
        assert!(!url.redacted().contains("hunter2"));
        assert!(!format!("{url:?}").contains("hunter2"));
    }
}

//! The store's error type: callers distinguish "not there" and "clashes with
//! an existing row" from real database failures, which carry no detail that
//! is safe to show a user.

use sea_orm::{DbErr, RuntimeErr, SqlErr, sqlx};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; `what` names the clash for
    /// the person (e.g. "email").
    #[error("{what} already exists")]
    Conflict { what: &'static str },
    /// A lookup by a non-unique label matched several rows.
    #[error("several {what} match; use an id, or rename one")]
    Ambiguous { what: &'static str },
    /// The row changed since it was read (its version moved on).
    #[error("changed by someone else")]
    Stale,
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

/// Storage that cannot serve for now: a condition that passes (the database
/// comes back, space is freed), answered 503 with `Retry-After`, and never
/// to be read as "no such row".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// No connection: the server is down, unreachable or refusing us, or
    /// the pool timed out waiting for one.
    Unreachable,
    /// The disk (or the database's size limit) is full.
    Full,
    /// The storage failed to read or write (I/O error, read-only file).
    Io,
}

impl Outage {
    pub fn as_str(self) -> &'static str {
        match self {
            Outage::Unreachable => "unreachable",
            Outage::Full => "full",
            Outage::Io => "io_error",
        }
    }
}

/// The outage behind a database error, if it is one.
pub fn outage_of(error: &DbErr) -> Option<Outage> {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Some(Outage::Unreachable),
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => sqlx_outage(e),
        _ => None,
    }
}

fn sqlx_outage(error: &sqlx::Error) -> Option<Outage> {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Some(Outage::Unreachable),
        sqlx::Error::Database(db) => {
            let code = db.code()?;
            // SQLite reports its (extended) result code as a number;
            // PostgreSQL a five-character SQLSTATE.
            if let Ok(extended) = code.parse::<i32>() {
                return match extended & 0xff {
                    13 => Some(Outage::Full),             // SQLITE_FULL
                    8 | 10 | 14 | 26 => Some(Outage::Io), // READONLY, IOERR, CANTOPEN, NOTADB
                    _ => None,
                };
            }
            match code.as_ref() {
                "53100" => Some(Outage::Full), // disk_full
                c if c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") => Some(Outage::Unreachable),
                c if c.starts_with("58") => Some(Outage::Io),
                _ => None,
            }
        }
        _ => None,
    }
}

impl StoreError {
    /// The storage outage behind this error, if it is one.
    pub fn outage(&self) -> Option<Outage> {
        match self {
            StoreError::Database(error) => outage_of(error),
            _ => None,
        }
    }

    /// Maps a unique-constraint violation to `Conflict { what }`, leaving
    /// any other error as it is.
    pub(crate) fn conflict_on_unique(err: DbErr, what: &'static str) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict { what },
            _ => StoreError::Database(err),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

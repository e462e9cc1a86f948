//! The store's error type: callers distinguish "not there" and "clashes with
//! an existing row" from real database failures, which carry no detail that
//! is safe to show a user.

use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; `what` names the clash for
    /// the person (e.g. "email").
    #[error("{what} already exists")]
    Conflict { what: &'static str },
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

impl StoreError {
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

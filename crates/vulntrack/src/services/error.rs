//! What a service can answer instead of a result. It names what went wrong
//! in the service's terms; each surface (JSON API, web pages, CLI) decides
//! how to show it, so no service knows about HTTP.

use vulntrack_domain::{FieldError, ValidationErrors};
use vulntrack_store::{Outage, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input broke a rule; each field says which.
    #[error("invalid input")]
    Invalid(ValidationErrors),
    /// The request itself cannot be understood (e.g. a cursor that is not ours).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// Credentials or a one-time secret did not check out. The message is the
    /// same whatever the reason, so it tells an attacker nothing.
    #[error("not authenticated")]
    NotAuthenticated,
    /// The policy table does not allow this principal the action (already audited).
    #[error("not allowed: {0}")]
    NotAllowed(&'static str),
    /// No such record in the caller's scope (another team's records are "not found" too).
    #[error("not found")]
    NotFound,
    /// The change contradicts the current state (e.g. the last ADMIN would be demoted).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The caller read an older version than the current one (`If-Match`).
    #[error("stale version; current is {current_version}")]
    Stale { current_version: i64 },
    /// A budget (sign-ups, reset links, creates) is spent for now.
    #[error("rate limited for {retry_after_seconds}s")]
    RateLimited { retry_after_seconds: u64 },
    /// An upload (or what it unpacks to) is larger than `limit` bytes.
    #[error("too large: over {limit} bytes")]
    TooLarge { limit: u64 },
    /// A dependency other than storage is switched off or down.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
    /// The database cannot serve for now (down, disk full, I/O error).
    #[error("storage unavailable: {0:?}")]
    Storage(Outage),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    /// One field error.
    pub fn field(field: &str, code: &str, message: &str) -> Self {
        ServiceError::Invalid(FieldError::new(field, code, message).into())
    }
}

impl From<ValidationErrors> for ServiceError {
    fn from(errors: ValidationErrors) -> Self {
        ServiceError::Invalid(errors)
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        if let Some(outage) = error.outage() {
            tracing::warn!(%error, outage = outage.as_str(), "storage unavailable");
            return ServiceError::Storage(outage);
        }
        match error {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Stale => {
                ServiceError::Conflict("The record changed while this change was being saved; reload it and try again.")
            }
            other => ServiceError::Internal(other.into()),
        }
    }
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(error: sea_orm::DbErr) -> Self {
        StoreError::Database(error).into()
    }
}

impl From<crate::auth::password::HashError> for ServiceError {
    fn from(error: crate::auth::password::HashError) -> Self {
        match error {
            crate::auth::password::HashError::Busy => {
                ServiceError::Unavailable("Too many sign-ins are being checked; try again shortly.")
            }
            other => ServiceError::Internal(other.into()),
        }
    }
}

impl From<super::accounts::AccountError> for ServiceError {
    fn from(error: super::accounts::AccountError) -> Self {
        use super::accounts::AccountError;
        match error {
            AccountError::Invalid(errors) => ServiceError::Invalid(errors),
            AccountError::Store(error) => error.into(),
            AccountError::Hash(error) => error.into(),
        }
    }
}

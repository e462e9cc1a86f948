//! HTTP plumbing shared by every route: the error type and the middleware.

pub mod body_limit;
pub mod client_ip;
pub mod context;
pub mod cursor;
pub mod error;
pub mod error_pages;
pub mod health;
pub mod input_guard;
pub mod json;
pub mod middleware;
pub mod params;
pub mod query;
pub mod security_headers;
pub mod static_files;
pub mod upload;
pub mod versioning;

pub use context::ClientContext;
pub use error::ApiError;
pub use json::ApiJson;
pub use query::ApiQuery;

/// A path id; anything that is not a UUID cannot name a record, so it is
/// answered like a missing one.
pub fn path_id(text: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(text).map_err(|_| ApiError::NotFound)
}

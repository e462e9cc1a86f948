//! HTTP plumbing shared by every route: the error type and the middleware.

pub mod context;
pub mod cursor;
pub mod error;
pub mod health;
pub mod json;
pub mod middleware;

pub use context::ClientContext;
pub use error::ApiError;
pub use json::ApiJson;

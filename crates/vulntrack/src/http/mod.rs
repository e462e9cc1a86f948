//! HTTP plumbing shared by every route: the error type and the middleware.

pub mod error;
pub mod health;
pub mod middleware;

pub use error::ApiError;

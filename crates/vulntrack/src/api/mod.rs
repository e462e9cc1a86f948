//! The JSON API, versioned by path.

pub mod openapi;
pub mod v1;

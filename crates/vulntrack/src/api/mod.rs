//! The JSON API, versioned by path.

pub mod v1;

//! Authentication: password hashing now; sessions, tokens and CSRF follow.

pub mod password;

pub use password::PasswordHasher;

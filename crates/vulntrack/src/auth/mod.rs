//! Authentication: passwords, sessions, API tokens, the principal, CSRF.

pub mod cookie;
pub mod csrf;
pub mod password;
pub mod principal;
pub mod secret_token;
pub mod session_token;

pub use password::PasswordHasher;
pub use principal::Principal;

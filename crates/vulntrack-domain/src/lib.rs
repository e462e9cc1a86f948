//! VulnTrack's pure rules: identifiers, enumerations, validation and policy.
//!
//! Nothing in this crate performs I/O, so every rule can be tested in
//! isolation and reused by the HTTP layer, the CLI and the store alike.

pub mod account;
pub mod asset;
pub mod audit_action;
pub mod control_chars;
pub mod duration;
pub mod ids;
pub mod lockout;
pub mod notification_prefs;
pub mod password_policy;
pub mod policy;
pub mod rate;
pub mod role;
pub mod string_enum;
pub mod time_zone;
pub mod validation;
pub mod vulnerability;

pub use account::{AccountInput, NewAccount, normalize_email};
pub use audit_action::{AlertRule, AuditAction};
pub use ids::{TeamId, UserId};
pub use password_policy::{PasswordPolicy, PasswordRule};
pub use policy::Action;
pub use role::{Role, Theme, UserStatus};
pub use validation::{FieldError, ValidationErrors};

//! The application's write paths, shared by the JSON API, the web pages and
//! the CLI: each checks permission, validates, writes the change with its
//! audit rows (and notifications) in one transaction.

pub mod accounts;
pub mod alerts;
pub mod assets;
pub mod bulk_changes;
pub mod comments;
pub mod credentials;
pub mod cve_catalogue;
pub mod cve_sync;
pub mod error;
pub mod import_mapping;
pub mod imports;
pub mod invitations;
pub mod members;
pub mod notification_prefs;
pub mod operator;
pub mod password_resets;
pub mod personal_data;
pub mod profile;
pub mod registration;
pub mod retention;
pub mod risk_acceptances;
pub mod saved_views;
pub mod sessions;
pub mod sla_notices;
pub mod team;
pub mod tokens;
pub mod vulnerabilities;
pub mod vulnerability_export;
pub mod vulnerability_list;
pub mod webhooks;

pub use error::ServiceError;

//! VulnTrack's storage layer.
//!
//! The backend (SQLite or PostgreSQL) is chosen from the database URL at run
//! time; the same migrations and queries serve both. Tenant data is reached
//! only through functions that take a [`TeamScope`], which adds the team
//! filter itself.

mod bulk;
mod entity;

pub mod api_tokens;
pub mod assets;
pub mod audit;
pub mod comments;
pub mod cves;
pub mod database;
pub mod error;
pub mod imports;
pub mod instance;
pub mod invitations;
pub mod jobs;
pub mod migration;
pub mod notifications;
pub mod operator;
pub mod outbox;
pub mod password_resets;
pub mod personal_data;
pub mod retention;
pub mod risk_acceptances;
pub mod saved_views;
pub mod scope;
pub mod security_alerts;
pub mod sessions;
pub mod teams;
pub mod users;
pub mod vulnerabilities;
pub mod webhooks;

pub use database::{Backend, Database, DatabaseUrl, PoolSettings, StorageCheck, StorageFault};
pub use error::{Outage, StoreError, StoreResult, outage_of};
pub use scope::TeamScope;

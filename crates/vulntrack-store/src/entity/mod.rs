//! sea-orm entities. Private to the crate: callers see the typed records of
//! the query modules, never raw rows.

pub(crate) mod api_tokens;
pub(crate) mod assets;
pub(crate) mod audit_checkpoints;
pub(crate) mod audit_log;
pub(crate) mod comments;
pub(crate) mod cve_sources;
pub(crate) mod cves;
pub(crate) mod finding_sightings;
pub(crate) mod import_findings;
pub(crate) mod imports;
pub(crate) mod instance;
pub(crate) mod invitations;
pub(crate) mod jobs;
pub(crate) mod notifications;
pub(crate) mod outbox;
pub(crate) mod password_resets;
pub(crate) mod risk_acceptance_requests;
pub(crate) mod saved_views;
pub(crate) mod security_alerts;
pub(crate) mod sessions;
pub(crate) mod teams;
pub(crate) mod users;
pub(crate) mod vulnerabilities;
pub(crate) mod vulnerability_assets;
pub(crate) mod vulnerability_tags;
pub(crate) mod webhook_deliveries;
pub(crate) mod webhooks;

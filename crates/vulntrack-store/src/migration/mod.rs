//! Schema migrations. Each one is written once with sea-query's builders and
//! runs unchanged on SQLite and PostgreSQL; dialect-specific pieces (full-text
//! search, triggers) branch on the backend inside the migration that needs
//! them.

use sea_orm_migration::prelude::*;

mod m20261128_000001_core_schema;
mod m20261129_000002_auth;
mod m20261129_000003_vulnerability_search;
mod m20261129_000004_audit_integrity;
mod m20261129_000005_team_settings;
mod m20261129_000006_search_weights;
mod m20261129_000007_integrity;
mod m20261129_000008_token_expiry;
mod m20261129_000009_cli_actor;
mod m20261129_000010_team_names_not_unique;
mod m20261129_000011_keyed_audit_chain;
mod m20261130_000012_team_keyed_search;
mod m20261130_000013_user_theme;
mod m20261130_000014_saved_views;
mod m20261130_000015_user_time_zone;
mod m20261130_000016_assets;
mod m20261207_000017_imports;
mod m20261207_000018_stored_search_terms;
mod m20261207_000019_finding_sightings;
mod m20261207_000020_session_pending_list;
mod m20261207_000021_created_by_import;
mod m20261207_000022_resolutions;
mod m20261207_000023_risk_acceptance_expiry;
mod m20261207_000024_sla;
mod m20261207_000025_risk_acceptance_approval;
mod m20261207_000026_jobs;
mod m20261207_000027_triage_seen;
mod m20261207_000028_outbox_webhooks;
mod m20261207_000029_sla_notices;
mod m20261207_000030_partial_indexes;
mod m20261207_000031_cve_catalogue;
mod m20261207_000032_record_priority;
mod m20261208_000033_audit_personal_digest;
mod m20261208_000034_retention;

#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_core_schema::Migration),
            Box::new(m20261129_000002_auth::Migration),
            Box::new(m20261129_000003_vulnerability_search::Migration),
            Box::new(m20261129_000004_audit_integrity::Migration),
            Box::new(m20261129_000005_team_settings::Migration),
            Box::new(m20261129_000006_search_weights::Migration),
            Box::new(m20261129_000007_integrity::Migration),
            Box::new(m20261129_000008_token_expiry::Migration),
            Box::new(m20261129_000009_cli_actor::Migration),
            Box::new(m20261129_000010_team_names_not_unique::Migration),
            Box::new(m20261129_000011_keyed_audit_chain::Migration),
            Box::new(m20261130_000012_team_keyed_search::Migration),
            Box::new(m20261130_000013_user_theme::Migration),
            Box::new(m20261130_000014_saved_views::Migration),
            Box::new(m20261130_000015_user_time_zone::Migration),
            Box::new(m20261130_000016_assets::Migration),
            Box::new(m20261207_000017_imports::Migration),
            Box::new(m20261207_000018_stored_search_terms::Migration),
            Box::new(m20261207_000019_finding_sightings::Migration),
            Box::new(m20261207_000020_session_pending_list::Migration),
            Box::new(m20261207_000021_created_by_import::Migration),
            Box::new(m20261207_000022_resolutions::Migration),
            Box::new(m20261207_000023_risk_acceptance_expiry::Migration),
            Box::new(m20261207_000024_sla::Migration),
            Box::new(m20261207_000025_risk_acceptance_approval::Migration),
            Box::new(m20261207_000026_jobs::Migration),
            Box::new(m20261207_000027_triage_seen::Migration),
            Box::new(m20261207_000028_outbox_webhooks::Migration),
            Box::new(m20261207_000029_sla_notices::Migration),
            Box::new(m20261207_000030_partial_indexes::Migration),
            Box::new(m20261207_000031_cve_catalogue::Migration),
            Box::new(m20261207_000032_record_priority::Migration),
            Box::new(m20261208_000033_audit_personal_digest::Migration),
            Box::new(m20261208_000034_retention::Migration),
        ]
    }
}

/// The names of every migration, oldest first: what a schema is made of
/// (tests name their template database after it).
pub fn names() -> Vec<String> {
    Migrator::migrations().iter().map(|m| m.name().to_string()).collect()
}

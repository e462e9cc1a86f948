//! The search index's pending-list limit moves from the index to the
//! session, so a bulk write can raise it for its own transaction.
//!
//! New rows wait in a GIN index's pending list until it is merged into the
//! index. Migration 12 set a 256 kB limit on the index itself so a search
//! never reads a long list; but then a 10 000-finding import merged 256 kB
//! at a time, and those merges took 1.9–2.4 s of its 2.3–3.3 s INSERT
//! (docs/PERFORMANCE.md). An index's own setting overrides the session's,
//! so it is removed here: every connection of the application sets the
//! same 256 kB for its sessions (`database.rs`), and a bulk write sets a
//! larger one for its transaction, then merges the list once, in bulk
//! (`vulnerabilities::search::merge_deferred`).

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

use super::m20261130_000012_team_keyed_search::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        run(manager.get_connection(), &["ALTER INDEX ix_vulnerabilities_search RESET (gin_pending_list_limit)"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        run(manager.get_connection(), &["ALTER INDEX ix_vulnerabilities_search SET (gin_pending_list_limit = 256)"])
            .await
    }
}

//! The background jobs' schedule: one row per periodic job, which a node
//! claims (a lease) before running it, so that several nodes sharing the
//! database run each job once per period.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Jobs {
    Table,
    Name,
    NextRunAt,
    LockedBy,
    LockedUntil,
    LastStartedAt,
    LastFinishedAt,
    LastError,
    Runs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(string_len(Jobs::Name, 64).primary_key())
                    .col(timestamp_with_time_zone(Jobs::NextRunAt))
                    .col(string_len_null(Jobs::LockedBy, 128))
                    .col(timestamp_with_time_zone_null(Jobs::LockedUntil))
                    .col(timestamp_with_time_zone_null(Jobs::LastStartedAt))
                    .col(timestamp_with_time_zone_null(Jobs::LastFinishedAt))
                    .col(text_null(Jobs::LastError))
                    .col(big_integer(Jobs::Runs).default(0))
                    .to_owned(),
            )
            .await?;
        // The expiry job's search: only accepted records are in it, so
        // imports and other writes do not pay for it.
        super::m20261130_000012_team_keyed_search::run(
            manager.get_connection(),
            &["CREATE INDEX ix_vulnerabilities_acceptance_end ON vulnerabilities (risk_accepted_until) \
               WHERE risk_accepted_until IS NOT NULL"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::m20261130_000012_team_keyed_search::run(
            manager.get_connection(),
            &["DROP INDEX ix_vulnerabilities_acceptance_end"],
        )
        .await?;
        manager.drop_table(Table::drop().table(Jobs::Table).to_owned()).await
    }
}

//! A risk is accepted until a date (`vulnerabilities.risk_accepted_until`,
//! required by the service for RISK_ACCEPTED), at most the team's
//! `risk_acceptance_max_days` ahead (365 unless its ADMINs choose).
//! Records accepted before there was a date get none: a person sets one
//! when next changing them.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261130_000012_team_keyed_search::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Vulnerabilities {
    Table,
    RiskAcceptedUntil,
}

#[derive(DeriveIden, Clone, Copy)]
enum Teams {
    Table,
    RiskAcceptanceMaxDays,
}

/// The longest a team may let a risk be accepted for: ten years.
pub const MAX_DAYS_LIMIT: i32 = 3650;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Vulnerabilities::Table)
                    .add_column(date_null(Vulnerabilities::RiskAcceptedUntil))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Teams::Table)
                    .add_column(
                        integer(Teams::RiskAcceptanceMaxDays)
                            .default(365)
                            .check(Expr::col(Teams::RiskAcceptanceMaxDays).between(1, MAX_DAYS_LIMIT))
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager.get_connection(),
            &[
                "ALTER TABLE teams DROP COLUMN risk_acceptance_max_days",
                "ALTER TABLE vulnerabilities DROP COLUMN risk_accepted_until",
            ],
        )
        .await
    }
}

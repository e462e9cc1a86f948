//! Service-level agreements: each team's days to remediate per severity
//! and when a record counts as due soon (the domain's `SlaPolicy`, with its
//! defaults), and each record's `due_at` and `due_soon_at` (see
//! `vulnerabilities::deadlines`), computed here for the records there are.

use sea_orm_migration::{prelude::*, schema::*};
use vulntrack_domain::vulnerability::sla::{DAYS_LIMIT, SlaPolicy};

use super::m20261130_000012_team_keyed_search::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Vulnerabilities {
    Table,
    TeamId,
    DueAt,
    DueSoonAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Teams {
    Table,
    SlaCriticalDays,
    SlaHighDays,
    SlaMediumDays,
    SlaLowDays,
    SlaInfoDays,
    SlaDueSoonPercent,
    SlaDueSoonDays,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let defaults = SlaPolicy::default();
        let day_columns =
            [Teams::SlaCriticalDays, Teams::SlaHighDays, Teams::SlaMediumDays, Teams::SlaLowDays, Teams::SlaInfoDays];
        let mut columns: Vec<ColumnDef> = day_columns
            .into_iter()
            .zip(defaults.days)
            .map(|(column, days)| {
                let mut def = integer_null(column);
                def.check(Expr::col(column).between(1, i32::from(DAYS_LIMIT)));
                if let Some(days) = days {
                    def.default(i32::from(days));
                }
                def.to_owned()
            })
            .collect();
        columns.push(
            integer(Teams::SlaDueSoonPercent)
                .default(i32::from(defaults.due_soon_percent))
                .check(Expr::col(Teams::SlaDueSoonPercent).between(0, 100))
                .to_owned(),
        );
        columns.push(
            integer(Teams::SlaDueSoonDays)
                .default(i32::from(defaults.due_soon_days))
                .check(Expr::col(Teams::SlaDueSoonDays).between(0, 365))
                .to_owned(),
        );
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for mut column in columns {
            manager.alter_table(Table::alter().table(Teams::Table).add_column(&mut column).to_owned()).await?;
        }
        for column in [Vulnerabilities::DueAt, Vulnerabilities::DueSoonAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Vulnerabilities::Table)
                        .add_column(timestamp_with_time_zone_null(column))
                        .to_owned(),
                )
                .await?;
        }
        // "Due before …" and the SLA filters read the team's due times.
        manager
            .create_index(
                Index::create()
                    .name("ix_vulnerabilities_team_due")
                    .table(Vulnerabilities::Table)
                    .col(Vulnerabilities::TeamId)
                    .col(Vulnerabilities::DueAt)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for statement in crate::vulnerabilities::deadlines::statements(db.get_database_backend(), &defaults, None) {
            db.execute_raw(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager.get_connection(),
            &[
                "DROP INDEX ix_vulnerabilities_team_due",
                "ALTER TABLE vulnerabilities DROP COLUMN due_soon_at",
                "ALTER TABLE vulnerabilities DROP COLUMN due_at",
                "ALTER TABLE teams DROP COLUMN sla_due_soon_days",
                "ALTER TABLE teams DROP COLUMN sla_due_soon_percent",
                "ALTER TABLE teams DROP COLUMN sla_info_days",
                "ALTER TABLE teams DROP COLUMN sla_low_days",
                "ALTER TABLE teams DROP COLUMN sla_medium_days",
                "ALTER TABLE teams DROP COLUMN sla_high_days",
                "ALTER TABLE teams DROP COLUMN sla_critical_days",
            ],
        )
        .await
    }
}

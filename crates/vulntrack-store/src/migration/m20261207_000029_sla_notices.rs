//! Which SLA notice a record's people last had (1 due soon, 2 overdue),
//! and for which due time: a notice is sent once per due time, and again
//! when the due time moves (a new severity, a new policy). No index: the
//! hourly job reads the open records once, and every import would pay
//! for one on each record it writes.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261130_000012_team_keyed_search::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Vulnerabilities {
    Table,
    SlaNotice,
    SlaNoticeDueAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Vulnerabilities::Table)
                    .add_column(small_integer_null(Vulnerabilities::SlaNotice))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Vulnerabilities::Table)
                    .add_column(timestamp_with_time_zone_null(Vulnerabilities::SlaNoticeDueAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager.get_connection(),
            &[
                "ALTER TABLE vulnerabilities DROP COLUMN sla_notice_due_at",
                "ALTER TABLE vulnerabilities DROP COLUMN sla_notice",
            ],
        )
        .await
    }
}

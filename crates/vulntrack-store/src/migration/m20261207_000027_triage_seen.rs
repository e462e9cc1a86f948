//! When each user last looked at the triage queue (`/triage`), so it can
//! mark what is new since.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261130_000012_team_keyed_search::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    TriageSeenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Users::TriageSeenAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager.get_connection(), &["ALTER TABLE users DROP COLUMN triage_seen_at"]).await
    }
}

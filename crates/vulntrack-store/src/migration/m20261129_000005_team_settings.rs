//! Team settings: the session lifetime a team's ADMINs choose, within the
//! operator's maximum (`VULNTRACK_SESSION_TTL`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Teams {
    Table,
    SessionTtlSeconds,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Teams::Table).add_column(big_integer_null(Teams::SessionTtlSeconds)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Teams::Table).drop_column(Teams::SessionTtlSeconds).to_owned()).await
    }
}

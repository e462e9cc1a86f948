//! Saved views of the vulnerability list: a name for a set of filters,
//! sort and columns, kept for its owner or shared with the whole team.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum SavedViews {
    Table,
    Id,
    TeamId,
    OwnerId,
    Name,
    Query,
    Shared,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    TeamId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SavedViews::Table)
                    .col(pk_uuid(SavedViews::Id))
                    .col(uuid(SavedViews::TeamId))
                    .col(uuid(SavedViews::OwnerId))
                    .col(string_len(SavedViews::Name, 80))
                    .col(string_len(SavedViews::Query, 2000))
                    .col(boolean(SavedViews::Shared))
                    .col(timestamp_with_time_zone(SavedViews::CreatedAt))
                    // A member's views go with the member.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_saved_views_owner")
                            .from(SavedViews::Table, (SavedViews::TeamId, SavedViews::OwnerId))
                            .to(Users::Table, (Users::TeamId, Users::Id))
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_saved_views_owner_name")
                    .table(SavedViews::Table)
                    .col(SavedViews::TeamId)
                    .col(SavedViews::OwnerId)
                    .col(SavedViews::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SavedViews::Table).to_owned()).await
    }
}

//! Authentication support: the first-run marker and password reset tokens.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Instance {
    Table,
    Id,
    SetupAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PasswordResets {
    Table,
    Id,
    TeamId,
    UserId,
    TokenHash,
    ExpiresAt,
    UsedAt,
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
        // One row, written by first-run setup in the same transaction as the
        // first administrator: a second, concurrent setup collides on the
        // primary key instead of creating a second administrator.
        manager
            .create_table(
                Table::create()
                    .table(Instance::Table)
                    .col(small_integer(Instance::Id).primary_key().check(Expr::col(Instance::Id).eq(1)))
                    .col(timestamp_with_time_zone(Instance::SetupAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PasswordResets::Table)
                    .col(pk_uuid(PasswordResets::Id))
                    .col(uuid(PasswordResets::TeamId))
                    .col(uuid(PasswordResets::UserId))
                    .col(string_len(PasswordResets::TokenHash, 64))
                    .col(timestamp_with_time_zone(PasswordResets::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PasswordResets::UsedAt))
                    .col(timestamp_with_time_zone(PasswordResets::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_password_resets_user")
                            .from(PasswordResets::Table, (PasswordResets::TeamId, PasswordResets::UserId))
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
                    .name("ux_password_resets_token_hash")
                    .table(PasswordResets::Table)
                    .col(PasswordResets::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_password_resets_user")
                    .table(PasswordResets::Table)
                    .col(PasswordResets::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PasswordResets::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Instance::Table).to_owned()).await
    }
}

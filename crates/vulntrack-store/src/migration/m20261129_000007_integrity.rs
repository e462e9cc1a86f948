//! Integrity under concurrency and faults.
//!
//! Optimistic concurrency: every record a PATCH can change carries a
//! `version`, bumped by each change, sent as the `ETag` and checked against
//! `If-Match`. And `storage_probe`, an always-empty table that readiness
//! writes to (and empties again) while a full disk is on record, to
//! learn when space has returned.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 4] = ["vulnerabilities", "comments", "users", "teams"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(big_integer(Alias::new("version")).default(1))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("storage_probe"))
                    .col(big_integer(Alias::new("id")).primary_key())
                    .col(text(Alias::new("filler")))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Alias::new("storage_probe")).to_owned()).await?;
        for table in TABLES {
            manager
                .alter_table(Table::alter().table(Alias::new(table)).drop_column(Alias::new("version")).to_owned())
                .await?;
        }
        Ok(())
    }
}

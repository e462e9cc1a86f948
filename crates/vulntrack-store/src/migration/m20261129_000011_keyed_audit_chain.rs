//! Audit chains become keyed: each row records the id of the key its hash
//! was made with (HMAC-SHA256 under a key derived from the signing secret).
//! Rows written before have none and keep their plain SHA-256.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("audit_log"))
                    .add_column(string_len_null(Alias::new("hash_key"), 16))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Alias::new("audit_log")).drop_column(Alias::new("hash_key")).to_owned())
            .await
    }
}

//! Each user's choice of colours for the pages: the system's, light or dark.

use sea_orm_migration::{prelude::*, schema::*};
use vulntrack_domain::Theme;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let theme = Alias::new("theme");
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("users"))
                    .add_column(
                        string_len(theme.clone(), 16)
                            .default(Theme::System.as_str())
                            .check(Expr::col(theme).is_in(Theme::names())),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Alias::new("users")).drop_column(Alias::new("theme")).to_owned()).await
    }
}

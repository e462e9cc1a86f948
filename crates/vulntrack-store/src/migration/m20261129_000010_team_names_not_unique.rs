//! Team names stop being unique across the instance: a unique index let any
//! team learn other teams' names by trying to rename itself (or register)
//! and reading the refusal. Names are labels; ids identify teams.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX ux_teams_name").await?;
        db.execute_unprepared("CREATE INDEX ix_teams_name ON teams (name)").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX ix_teams_name").await?;
        db.execute_unprepared("CREATE UNIQUE INDEX ux_teams_name ON teams (name)").await?;
        Ok(())
    }
}

//! PostgreSQL search: the team token gets weight `A` and the text weight
//! `D`, so a user's word (matched against `D` only) can never match the
//! hidden team token. SQLite needs no schema change: its query names the
//! text columns instead (see `vulnerabilities/search.rs`).

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(super) const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE vulnerabilities DROP COLUMN search_vector",
    "ALTER TABLE vulnerabilities ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', 't' || replace(team_id::text, '-', '')), 'A') ||
        setweight(to_tsvector('simple', regexp_replace(
            coalesce(title, '') || ' ' || coalesce(description, '') || ' ' ||
            coalesce(cve_id, '') || ' ' || coalesce(assets::text, ''),
            '[^[:alnum:]]+', ' ', 'g')), 'D')
    ) STORED",
    "CREATE INDEX ix_vulnerabilities_search ON vulnerabilities USING GIN (search_vector)",
];

const POSTGRES_DOWN: &[&str] = &[
    "ALTER TABLE vulnerabilities DROP COLUMN search_vector",
    "ALTER TABLE vulnerabilities ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', regexp_replace(
            't' || replace(team_id::text, '-', '') || ' ' ||
            coalesce(title, '') || ' ' || coalesce(description, '') || ' ' ||
            coalesce(cve_id, '') || ' ' || coalesce(assets::text, ''),
            '[^[:alnum:]]+', ' ', 'g'))
    ) STORED",
    "CREATE INDEX ix_vulnerabilities_search ON vulnerabilities USING GIN (search_vector)",
];

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for statement in statements {
        manager.get_connection().execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, POSTGRES_DOWN).await
    }
}

//! PostgreSQL's `search_vector` becomes a plain column that the store
//! writes, instead of a generated one.
//!
//! Generating it cost every INSERT two `regexp_replace` passes over the
//! title, description, CVE id and assets, then `to_tsvector`: 10 000
//! imported findings took 2.3–2.8 s to insert with it against 0.74 s with
//! the same terms computed in Rust and given as a `tsvector` (see
//! docs/PERFORMANCE.md). The terms are now those SQLite's FTS table holds
//! (`search::terms_of`, the team's key before each word), so both backends
//! index and match exactly the same words.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;
use uuid::Uuid;

use super::m20261130_000012_team_keyed_search::{self, run};
use crate::vulnerabilities::search;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Rows read and written per step while the stored rows are indexed.
const BATCH: u64 = 1000;

/// Computes and writes the terms of every stored row, a batch at a time.
async fn index_stored_rows(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let mut after = Uuid::nil();
    loop {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT id, team_id, title, description, cve_id, assets FROM vulnerabilities
                 WHERE id > $1 ORDER BY id LIMIT $2",
                [after.into(), BATCH.into()],
            ))
            .await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.try_get_by_index(0)?;
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(rows.len() * 2);
        for row in &rows {
            values.push(row.try_get_by_index::<Uuid>(0)?.into());
            values.push(search::tsvector_text(&m20261130_000012_team_keyed_search::stored_terms(row)?).into());
        }
        let rows_sql = (0..rows.len())
            .map(|i| format!("(${}::uuid, ${}::tsvector)", 2 * i + 1, 2 * i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "UPDATE vulnerabilities v SET search_vector = t.vector
                 FROM (VALUES {rows_sql}) AS t(id, vector) WHERE v.id = t.id"
            ),
            values,
        ))
        .await?;
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() != DbBackend::Postgres {
            // SQLite's FTS table has been written by the store since
            // migration 12.
            return Ok(());
        }
        run(
            db,
            &[
                "ALTER TABLE vulnerabilities DROP COLUMN search_vector",
                "ALTER TABLE vulnerabilities ADD COLUMN search_vector tsvector",
            ],
        )
        .await?;
        index_stored_rows(db).await?;
        // Built once the rows are indexed (faster than growing it row by row).
        run(
            db,
            &["CREATE INDEX ix_vulnerabilities_search ON vulnerabilities USING GIN (search_vector)
                WITH (gin_pending_list_limit = 256)"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        // Migration 12's generated column and index, as they were.
        run(db, &["ALTER TABLE vulnerabilities DROP COLUMN search_vector"]).await?;
        run(db, &m20261130_000012_team_keyed_search::POSTGRES_UP[1..3]).await
    }
}

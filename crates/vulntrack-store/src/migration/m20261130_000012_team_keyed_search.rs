//! Search indexes whose words carry their team's key (`t1a2b3c4d` +
//! `kerberos`), so a prefix query expands over one team's words instead
//! of every team's (see `vulnerabilities/search.rs`).
//!
//! PostgreSQL rebuilds its generated `tsvector` with the key in front of
//! each word. SQLite replaces the trigger-fed FTS table, which copied the
//! text, with a contentless one that the store writes: SQLite's SQL cannot
//! put a key in front of each word, so the store computes the terms (and
//! this migration computes them for the rows already there).

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;
use uuid::Uuid;
use vulntrack_domain::TeamId;

use super::{m20261129_000003_vulnerability_search, m20261129_000006_search_weights};
use crate::vulnerabilities::search;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The text every word of a row comes from, as in migration 6; the key is
/// `t` and the last eight hex digits of the team id, as `search::team_key`.
pub(super) const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE vulnerabilities DROP COLUMN search_vector",
    r"ALTER TABLE vulnerabilities ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', regexp_replace(
            regexp_replace(
                coalesce(title, '') || ' ' || coalesce(description, '') || ' ' ||
                coalesce(cve_id, '') || ' ' || coalesce(assets::text, ''),
                '[^[:alnum:]]+', ' ', 'g'),
            '([[:alnum:]]+)', 't' || right(replace(team_id::text, '-', ''), 8) || '\1', 'g'))
    ) STORED",
    // New rows wait in the index's pending list until it is merged, and
    // every search reads that list whole: with the default 4 MB limit a
    // search paid ~2 ms for it after an import. 256 kB bounds that cost;
    // merges come more often and are smaller.
    "CREATE INDEX ix_vulnerabilities_search ON vulnerabilities USING GIN (search_vector)
        WITH (gin_pending_list_limit = 256)",
    // The entity is shared by both backends; this column stays NULL here.
    "ALTER TABLE vulnerabilities ADD COLUMN fts_rowid BIGINT",
];

const SQLITE_UP: &[&str] = &[
    "DROP TRIGGER vulnerabilities_fts_insert",
    "DROP TRIGGER vulnerabilities_fts_update",
    "DROP TRIGGER vulnerabilities_fts_delete",
    "DROP TABLE vulnerabilities_fts",
    "CREATE VIRTUAL TABLE vulnerabilities_fts USING fts5(terms, content='', contentless_delete=1)",
    "CREATE UNIQUE INDEX ix_vulnerabilities_fts_rowid ON vulnerabilities (fts_rowid)",
    // Deletes still follow the row however it goes (a team's deletion
    // cascades to its records).
    "CREATE TRIGGER vulnerabilities_fts_delete AFTER DELETE ON vulnerabilities BEGIN
        DELETE FROM vulnerabilities_fts WHERE rowid = old.fts_rowid;
    END",
];

/// Undone on SQLite: the old FTS table, filled from the rows, and migration
/// 3's triggers.
const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER vulnerabilities_fts_delete",
    "DROP INDEX ix_vulnerabilities_fts_rowid",
    "DROP TABLE vulnerabilities_fts",
    "CREATE VIRTUAL TABLE vulnerabilities_fts USING fts5(team, title, description, cve_id, assets)",
    "INSERT INTO vulnerabilities_fts (rowid, team, title, description, cve_id, assets)
        SELECT fts_rowid, 't' || lower(hex(team_id)), title, description, cve_id, assets FROM vulnerabilities",
];

/// The search terms of a stored row read as `<key>, team_id, title,
/// description, cve_id, assets` (this migration's and migration 18's
/// reads of the rows already there).
pub(super) fn stored_terms(row: &sea_orm::QueryResult) -> Result<String, DbErr> {
    let team: Uuid = row.try_get_by_index(1)?;
    let title: String = row.try_get_by_index(2)?;
    let description: String = row.try_get_by_index(3)?;
    let cve_id: Option<String> = row.try_get_by_index(4)?;
    let assets: serde_json::Value = row.try_get_by_index(5)?;
    let assets: Vec<String> = serde_json::from_value(assets).unwrap_or_default();
    let texts = [title.as_str(), description.as_str(), cve_id.as_deref().unwrap_or("")]
        .into_iter()
        .chain(assets.iter().map(String::as_str));
    Ok(search::terms_of(TeamId::from_uuid(team), texts))
}

/// Rows read per step while indexing the rows already stored.
const BATCH: u64 = 1000;

/// Indexes every stored row in the new FTS table, under the row id the old
/// trigger gave it.
async fn index_stored_rows(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let mut after = i64::MIN;
    loop {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT fts_rowid, team_id, title, description, cve_id, assets FROM vulnerabilities
                 WHERE fts_rowid > ? ORDER BY fts_rowid LIMIT ?",
                [after.into(), BATCH.into()],
            ))
            .await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.try_get_by_index(0)?;
        let mut indexed = Vec::with_capacity(rows.len());
        for row in &rows {
            indexed.push((row.try_get_by_index::<i64>(0)?, stored_terms(row)?));
        }
        search::index_sqlite(db, indexed).await.map_err(|e| DbErr::Custom(e.to_string()))?;
    }
}

/// Runs raw statements in order (this migration's and migration 18's).
pub(super) async fn run(db: &impl ConnectionTrait, statements: &[&str]) -> Result<(), DbErr> {
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => run(db, POSTGRES_UP).await,
            _ => {
                run(db, SQLITE_UP).await?;
                index_stored_rows(db).await
            }
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            // Migration 6's column and index, as they were.
            DbBackend::Postgres => {
                run(db, &["ALTER TABLE vulnerabilities DROP COLUMN fts_rowid"]).await?;
                run(db, m20261129_000006_search_weights::POSTGRES_UP).await
            }
            _ => {
                run(db, SQLITE_DOWN).await?;
                run(db, m20261129_000003_vulnerability_search::SQLITE_TRIGGERS).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use sea_orm::sea_query::{Alias, Query};
    use sea_orm_migration::MigratorTrait;
    use serde_json::json;

    use super::*;
    use crate::{
        Database, DatabaseUrl, PoolSettings, TeamScope,
        migration::Migrator,
        vulnerabilities::{self, ListQuery},
    };

    /// A record stored under the old trigger-fed index is found, by prefix,
    /// once the migration has rebuilt the index — and only by its team.
    #[tokio::test]
    async fn rows_stored_before_the_migration_are_indexed_by_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::sqlite_file(&dir.path().join("before.db"));
        let db = Database::connect(&url, PoolSettings::default()).await.expect("connect");
        let txn = db.begin().await.expect("begin");
        Migrator::up(&txn, Some(11)).await.expect("migrations 1 to 11");
        txn.commit().await.expect("commit");

        let now = Utc::now();
        let teams = [Uuid::now_v7(), Uuid::now_v7()];
        for (number, team) in teams.iter().enumerate() {
            db.conn()
                .execute(
                    &Query::insert()
                        .into_table(Alias::new("teams"))
                        .columns(["id", "name", "created_at", "updated_at"].map(Alias::new))
                        .values_panic([(*team).into(), format!("team {number}").into(), now.into(), now.into()])
                        .to_owned(),
                )
                .await
                .expect("team");
        }
        let columns = [
            "id",
            "team_id",
            "number",
            "title",
            "description",
            "severity",
            "severity_rank",
            "status",
            "kind",
            "assets",
            "reference_links",
            "created_at",
            "updated_at",
            "version",
        ];
        db.conn()
            .execute(
                &Query::insert()
                    .into_table(Alias::new("vulnerabilities"))
                    .columns(columns.map(Alias::new))
                    .values_panic([
                        Uuid::now_v7().into(),
                        teams[0].into(),
                        1i64.into(),
                        "Kerberoasting on the domain controller".into(),
                        "Service tickets crackable offline.".into(),
                        "HIGH".into(),
                        4i16.into(),
                        "OPEN".into(),
                        "VULNERABILITY".into(),
                        json!(["dc-01.corp"]).into(),
                        json!([]).into(),
                        now.into(),
                        now.into(),
                        1i64.into(),
                    ])
                    .to_owned(),
            )
            .await
            .expect("vulnerability");

        assert!(db.migrate().await.expect("migration 12").contains(&"m20261130_000012_team_keyed_search".to_string()));
        let search = |team: Uuid, text: &str| {
            let db = &db;
            let query = ListQuery { text: Some(text.to_string()), ..ListQuery::default() };
            async move {
                let scope = TeamScope::new(TeamId::from_uuid(team));
                vulnerabilities::list(db.conn(), scope, &query).await.expect("list").items.len()
            }
        };
        assert_eq!(search(teams[0], "kerberoast").await, 1, "a word's start");
        assert_eq!(search(teams[0], "dc-01").await, 1, "assets");
        assert_eq!(search(teams[0], "offline tickets").await, 1, "every word, any order");
        assert_eq!(search(teams[0], "golden").await, 0);
        assert_eq!(search(teams[1], "kerberoast").await, 0, "another team's words are not its own");

        // Undone and done again, the index is rebuilt the same way.
        let txn = db.begin().await.expect("begin");
        let undo = <u32 as TryFrom<usize>>::try_from(Migrator::migrations().len() - 11).expect("a few");
        Migrator::down(&txn, Some(undo)).await.expect("migrations undone down to 11");
        txn.commit().await.expect("commit");
        db.migrate().await.expect("migrations again");
        assert_eq!(search(teams[0], "kerberoast").await, 1, "found after a round trip");
    }
}

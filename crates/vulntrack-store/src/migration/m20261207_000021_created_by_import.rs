//! The import that created a record is a column of the record, not a row
//! of `import_findings`.
//!
//! A first import of 10 000 findings wrote 10 000 `import_findings` rows
//! saying "created", each checked against two foreign keys: 0.24 s of a
//! 2.3 s import on PostgreSQL (docs/PERFORMANCE.md). The record's own row
//! is written anyway, and the import's findings are read by its asset, so
//! the column needs no index. It has no foreign key either, for the same
//! cost; an import is never deleted apart from its asset's records.
//! `import_findings` keeps what later imports did (updated, reopened,
//! closed).

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261130_000012_team_keyed_search::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Vulnerabilities {
    Table,
    CreatedByImport,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Vulnerabilities::Table)
                    .add_column(uuid_null(Vulnerabilities::CreatedByImport))
                    .to_owned(),
            )
            .await?;
        run(
            manager.get_connection(),
            &[
                "UPDATE vulnerabilities SET created_by_import = (
                     SELECT f.import_id FROM import_findings f
                     WHERE f.team_id = vulnerabilities.team_id AND f.vulnerability_id = vulnerabilities.id
                       AND f.outcome = 'created')
                 WHERE id IN (SELECT vulnerability_id FROM import_findings WHERE outcome = 'created')",
                "DELETE FROM import_findings WHERE outcome = 'created'",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        run(
            db,
            &["INSERT INTO import_findings (import_id, team_id, vulnerability_id, outcome)
               SELECT v.created_by_import, v.team_id, v.id, 'created' FROM vulnerabilities v
               WHERE v.created_by_import IN (SELECT id FROM imports)"],
        )
        .await?;
        // SQLite drops a column in place since 3.35 (sqlx bundles a later one).
        run(db, &["ALTER TABLE vulnerabilities DROP COLUMN created_by_import"]).await
    }
}

//! Why a record is resolved: `resolution` (one of the domain's
//! `Resolution` names, required by the service once a record is RESOLVED
//! or CLOSED), the person's `resolution_note`, and for a DUPLICATE the
//! record it repeats (`duplicate_of`). Records already resolved were
//! resolved before a reason was asked: they become FIXED.
//!
//! `duplicate_of` has no foreign key: SQLite cannot add a composite one to
//! an existing table, and a single-column one would not keep it inside the
//! team. The service checks that the record is the team's when it is set,
//! and deleting a record clears the pointers to it.

use sea_orm_migration::{prelude::*, schema::*};
use vulntrack_domain::vulnerability::Resolution;

use super::m20261130_000012_team_keyed_search::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Vulnerabilities {
    Table,
    Resolution,
    ResolutionNote,
    DuplicateOf,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        let columns: Vec<ColumnDef> = vec![
            string_len_null(Vulnerabilities::Resolution, 20)
                .check(Expr::col(Vulnerabilities::Resolution).is_in(Resolution::names()))
                .to_owned(),
            text_null(Vulnerabilities::ResolutionNote),
            uuid_null(Vulnerabilities::DuplicateOf),
        ];
        for mut column in columns {
            manager
                .alter_table(Table::alter().table(Vulnerabilities::Table).add_column(&mut column).to_owned())
                .await?;
        }
        run(
            manager.get_connection(),
            &["UPDATE vulnerabilities SET resolution = 'FIXED' WHERE status IN ('RESOLVED', 'CLOSED')"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager.get_connection(),
            &[
                "ALTER TABLE vulnerabilities DROP COLUMN duplicate_of",
                "ALTER TABLE vulnerabilities DROP COLUMN resolution_note",
                "ALTER TABLE vulnerabilities DROP COLUMN resolution",
            ],
        )
        .await
    }
}

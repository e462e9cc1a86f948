//! What the CVE catalogue says of each record, on the record: known
//! exploited, EPSS, and the priority that combines them with severity and
//! the asset (filled here for existing records). The CVE index leads with
//! the CVE id, so a catalogue change finds its records in every team.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Vulnerabilities {
    Table,
    KnownExploited,
    EpssScore,
    Priority,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            boolean(Vulnerabilities::KnownExploited).default(false).to_owned(),
            double_null(Vulnerabilities::EpssScore),
            small_integer(Vulnerabilities::Priority).default(0).to_owned(),
        ] {
            let mut column = column;
            manager
                .alter_table(Table::alter().table(Vulnerabilities::Table).add_column(&mut column).to_owned())
                .await?;
        }
        let db = manager.get_connection();
        super::m20261130_000012_team_keyed_search::run(
            db,
            &[
                "DROP INDEX ix_vulnerabilities_team_cve",
                "CREATE INDEX ix_vulnerabilities_cve_team ON vulnerabilities (cve_id, team_id) WHERE cve_id IS NOT NULL",
            ],
        )
        .await?;
        crate::vulnerabilities::priority::refresh(db, crate::vulnerabilities::priority::Target::All)
            .await
            .map_err(|e| DbErr::Custom(format!("filling the records' priorities: {e}")))?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::m20261130_000012_team_keyed_search::run(
            manager.get_connection(),
            &[
                "DROP INDEX ix_vulnerabilities_cve_team",
                "CREATE INDEX ix_vulnerabilities_team_cve ON vulnerabilities (team_id, cve_id) WHERE cve_id IS NOT NULL",
            ],
        )
        .await?;
        for column in [Vulnerabilities::KnownExploited, Vulnerabilities::EpssScore, Vulnerabilities::Priority] {
            manager.alter_table(Table::alter().table(Vulnerabilities::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

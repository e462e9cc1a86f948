//! Two list indexes hold only the records they can serve: the assignee
//! index only assigned records (a filter by assignee names one; records
//! nobody holds, such as everything an import creates, need no entry),
//! the CVE index only records with a CVE id (a filter by CVE names one;
//! a SAST or DAST finding has none). Every new record without an assignee
//! or a CVE id then writes one index entry fewer.

use sea_orm_migration::prelude::*;

use super::m20261130_000012_team_keyed_search::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager.get_connection(),
            &[
                "DROP INDEX ix_vulnerabilities_team_assignee",
                "CREATE INDEX ix_vulnerabilities_team_assignee ON vulnerabilities (team_id, assignee_id, created_at, id) \
                 WHERE assignee_id IS NOT NULL",
                "DROP INDEX ix_vulnerabilities_team_cve",
                "CREATE INDEX ix_vulnerabilities_team_cve ON vulnerabilities (team_id, cve_id) WHERE cve_id IS NOT NULL",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager.get_connection(),
            &[
                "DROP INDEX ix_vulnerabilities_team_assignee",
                "CREATE INDEX ix_vulnerabilities_team_assignee ON vulnerabilities (team_id, assignee_id, created_at, id)",
                "DROP INDEX ix_vulnerabilities_team_cve",
                "CREATE INDEX ix_vulnerabilities_team_cve ON vulnerabilities (team_id, cve_id)",
            ],
        )
        .await
    }
}

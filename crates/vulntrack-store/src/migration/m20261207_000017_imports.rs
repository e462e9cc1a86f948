//! Scanner imports: what a scanner reported on each record (source, rule,
//! component, location, fingerprint, sightings), the import history, and
//! which records each import created, changed, reopened or closed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Vulnerabilities {
    Table,
    Id,
    TeamId,
    Source,
    Scanner,
    ScannerTool,
    RuleId,
    CweIds,
    ComponentName,
    ComponentVersion,
    ComponentPurl,
    ComponentEcosystem,
    FixedVersion,
    LocationFile,
    LocationLine,
    LocationUrl,
    LocationHost,
    LocationPort,
    LocationProtocol,
    Fingerprint,
    FindingAssetId,
    FirstSeenAt,
    LastSeenAt,
    Occurrences,
    SeverityOverridden,
}

#[derive(DeriveIden, Clone, Copy)]
enum Imports {
    Table,
    Id,
    TeamId,
    AssetId,
    Format,
    Scanner,
    FileName,
    FileSize,
    Sha256,
    ActorKind,
    ActorId,
    CloseMissing,
    MinimumSeverity,
    Tags,
    Created,
    Updated,
    Unchanged,
    Reopened,
    Closed,
    Total,
    Skipped,
    DurationMs,
    Warnings,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ImportFindings {
    Table,
    ImportId,
    TeamId,
    VulnerabilityId,
    Outcome,
}

#[derive(DeriveIden, Clone, Copy)]
enum Assets {
    Table,
    Id,
    TeamId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Teams {
    Table,
    Id,
}

/// What an import did to a record (unchanged records are not listed).
pub const OUTCOMES: [&str; 4] = ["created", "updated", "reopened", "closed"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        let columns: Vec<ColumnDef> = vec![
            string_len(Vulnerabilities::Source, 32).default("manual").to_owned(),
            string_len_null(Vulnerabilities::Scanner, 200),
            string_len_null(Vulnerabilities::ScannerTool, 100),
            string_len_null(Vulnerabilities::RuleId, 500),
            json_binary_null(Vulnerabilities::CweIds),
            string_len_null(Vulnerabilities::ComponentName, 500),
            string_len_null(Vulnerabilities::ComponentVersion, 200),
            string_len_null(Vulnerabilities::ComponentPurl, 1000),
            string_len_null(Vulnerabilities::ComponentEcosystem, 64),
            string_len_null(Vulnerabilities::FixedVersion, 500),
            string_len_null(Vulnerabilities::LocationFile, 1000),
            integer_null(Vulnerabilities::LocationLine),
            string_len_null(Vulnerabilities::LocationUrl, 2000),
            string_len_null(Vulnerabilities::LocationHost, 255),
            integer_null(Vulnerabilities::LocationPort),
            string_len_null(Vulnerabilities::LocationProtocol, 16),
            string_len_null(Vulnerabilities::Fingerprint, 64),
            uuid_null(Vulnerabilities::FindingAssetId),
            timestamp_with_time_zone_null(Vulnerabilities::FirstSeenAt),
            timestamp_with_time_zone_null(Vulnerabilities::LastSeenAt),
            integer_null(Vulnerabilities::Occurrences),
            boolean(Vulnerabilities::SeverityOverridden).default(false).to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(Table::alter().table(Vulnerabilities::Table).add_column(&mut column).to_owned())
                .await?;
        }
        // A fingerprint names one record per asset: the import's dedup key.
        manager
            .create_index(
                Index::create()
                    .name("ux_vulnerabilities_finding")
                    .table(Vulnerabilities::Table)
                    .col(Vulnerabilities::TeamId)
                    .col(Vulnerabilities::FindingAssetId)
                    .col(Vulnerabilities::Fingerprint)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Imports::Table)
                    .col(pk_uuid(Imports::Id))
                    .col(uuid(Imports::TeamId))
                    .col(uuid(Imports::AssetId))
                    .col(string_len(Imports::Format, 32))
                    .col(string_len_null(Imports::Scanner, 200))
                    .col(string_len(Imports::FileName, 255))
                    .col(big_integer(Imports::FileSize))
                    .col(string_len(Imports::Sha256, 64))
                    .col(string_len(Imports::ActorKind, 16))
                    .col(uuid_null(Imports::ActorId))
                    .col(boolean(Imports::CloseMissing))
                    .col(string_len_null(Imports::MinimumSeverity, 16))
                    .col(json_binary(Imports::Tags))
                    .col(big_integer(Imports::Created))
                    .col(big_integer(Imports::Updated))
                    .col(big_integer(Imports::Unchanged))
                    .col(big_integer(Imports::Reopened))
                    .col(big_integer(Imports::Closed))
                    .col(big_integer(Imports::Total))
                    .col(big_integer(Imports::Skipped))
                    .col(big_integer(Imports::DurationMs))
                    .col(json_binary(Imports::Warnings))
                    .col(timestamp_with_time_zone(Imports::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_imports_team")
                            .from(Imports::Table, Imports::TeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_imports_asset")
                            .from(Imports::Table, (Imports::TeamId, Imports::AssetId))
                            .to(Assets::Table, (Assets::TeamId, Assets::Id))
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_imports_team_created")
                    .table(Imports::Table)
                    .col(Imports::TeamId)
                    .col(Imports::CreatedAt)
                    .col(Imports::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_imports_asset")
                    .table(Imports::Table)
                    .col(Imports::TeamId)
                    .col(Imports::AssetId)
                    .col(Imports::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ImportFindings::Table)
                    .col(uuid(ImportFindings::ImportId))
                    .col(uuid(ImportFindings::TeamId))
                    .col(uuid(ImportFindings::VulnerabilityId))
                    .col(
                        string_len(ImportFindings::Outcome, 16)
                            .check(Expr::col(ImportFindings::Outcome).is_in(OUTCOMES)),
                    )
                    .primary_key(Index::create().col(ImportFindings::ImportId).col(ImportFindings::VulnerabilityId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_import_findings_import")
                            .from(ImportFindings::Table, ImportFindings::ImportId)
                            .to(Imports::Table, Imports::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_import_findings_vulnerability")
                            .from(ImportFindings::Table, (ImportFindings::TeamId, ImportFindings::VulnerabilityId))
                            .to(Vulnerabilities::Table, (Vulnerabilities::TeamId, Vulnerabilities::Id))
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_import_findings_vulnerability")
                    .table(ImportFindings::Table)
                    .col(ImportFindings::VulnerabilityId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ImportFindings::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Imports::Table).to_owned()).await?;
        manager
            .drop_index(Index::drop().name("ux_vulnerabilities_finding").table(Vulnerabilities::Table).to_owned())
            .await?;
        let columns = [
            Vulnerabilities::Source,
            Vulnerabilities::Scanner,
            Vulnerabilities::ScannerTool,
            Vulnerabilities::RuleId,
            Vulnerabilities::CweIds,
            Vulnerabilities::ComponentName,
            Vulnerabilities::ComponentVersion,
            Vulnerabilities::ComponentPurl,
            Vulnerabilities::ComponentEcosystem,
            Vulnerabilities::FixedVersion,
            Vulnerabilities::LocationFile,
            Vulnerabilities::LocationLine,
            Vulnerabilities::LocationUrl,
            Vulnerabilities::LocationHost,
            Vulnerabilities::LocationPort,
            Vulnerabilities::LocationProtocol,
            Vulnerabilities::Fingerprint,
            Vulnerabilities::FindingAssetId,
            Vulnerabilities::FirstSeenAt,
            Vulnerabilities::LastSeenAt,
            Vulnerabilities::Occurrences,
            Vulnerabilities::SeverityOverridden,
        ];
        for column in columns {
            manager.alter_table(Table::alter().table(Vulnerabilities::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

//! When each finding was last reported, kept beside the record rather than
//! in it.
//!
//! A reimport that finds 10 000 findings unchanged only has to note that it
//! saw them. Written into `vulnerabilities`, that note rewrote each wide row
//! and, on PostgreSQL, added entries to all of its indexes (the updates
//! were not HOT): 1.3 s of a 2 s reimport. In this narrow table keyed by
//! the record it is one small row each, upserted.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum FindingSightings {
    Table,
    VulnerabilityId,
    TeamId,
    LastSeenAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Vulnerabilities {
    Table,
    Id,
    TeamId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FindingSightings::Table)
                    .col(uuid(FindingSightings::VulnerabilityId).primary_key())
                    .col(uuid(FindingSightings::TeamId))
                    .col(timestamp_with_time_zone(FindingSightings::LastSeenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_finding_sightings_vulnerability")
                            .from(
                                FindingSightings::Table,
                                (FindingSightings::TeamId, FindingSightings::VulnerabilityId),
                            )
                            .to(Vulnerabilities::Table, (Vulnerabilities::TeamId, Vulnerabilities::Id))
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(FindingSightings::Table).to_owned()).await
    }
}

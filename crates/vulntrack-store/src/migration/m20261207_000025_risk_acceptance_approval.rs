//! Risk acceptance with approval: a team may require an ADMIN to approve
//! an ANALYST's acceptance of a risk (`teams.risk_acceptance_approval`).
//! Until then the acceptance is a request (`risk_acceptance_requests`,
//! kept with its decision as the record's history); at most one request
//! per record waits at a time.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261130_000012_team_keyed_search::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Teams {
    Table,
    RiskAcceptanceApproval,
}

#[derive(DeriveIden, Clone, Copy)]
enum Vulnerabilities {
    Table,
    Id,
    TeamId,
}

#[derive(DeriveIden, Clone, Copy)]
enum RiskAcceptanceRequests {
    Table,
    Id,
    TeamId,
    VulnerabilityId,
    RequestedBy,
    RequestedAt,
    Status,
    Note,
    AcceptedUntil,
    State,
    DecidedBy,
    DecidedAt,
    DecisionNote,
}

/// A request's states: waiting, or how it ended.
pub const STATES: [&str; 4] = ["PENDING", "APPROVED", "REJECTED", "WITHDRAWN"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Teams::Table)
                    .add_column(boolean(Teams::RiskAcceptanceApproval).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RiskAcceptanceRequests::Table)
                    .col(pk_uuid(RiskAcceptanceRequests::Id))
                    .col(uuid(RiskAcceptanceRequests::TeamId))
                    .col(uuid(RiskAcceptanceRequests::VulnerabilityId))
                    .col(uuid_null(RiskAcceptanceRequests::RequestedBy))
                    .col(timestamp_with_time_zone(RiskAcceptanceRequests::RequestedAt))
                    .col(
                        string_len(RiskAcceptanceRequests::Status, 16)
                            .check(Expr::col(RiskAcceptanceRequests::Status).is_in(["RESOLVED", "CLOSED"])),
                    )
                    .col(text(RiskAcceptanceRequests::Note))
                    .col(date(RiskAcceptanceRequests::AcceptedUntil))
                    .col(
                        string_len(RiskAcceptanceRequests::State, 16)
                            .check(Expr::col(RiskAcceptanceRequests::State).is_in(STATES)),
                    )
                    .col(uuid_null(RiskAcceptanceRequests::DecidedBy))
                    .col(timestamp_with_time_zone_null(RiskAcceptanceRequests::DecidedAt))
                    .col(text_null(RiskAcceptanceRequests::DecisionNote))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_risk_acceptance_requests_vulnerability")
                            .from(
                                RiskAcceptanceRequests::Table,
                                (RiskAcceptanceRequests::TeamId, RiskAcceptanceRequests::VulnerabilityId),
                            )
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
                    .name("ix_risk_acceptance_requests_team_state")
                    .table(RiskAcceptanceRequests::Table)
                    .col(RiskAcceptanceRequests::TeamId)
                    .col(RiskAcceptanceRequests::State)
                    .col(RiskAcceptanceRequests::RequestedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_risk_acceptance_requests_vulnerability")
                    .table(RiskAcceptanceRequests::Table)
                    .col(RiskAcceptanceRequests::VulnerabilityId)
                    .col(RiskAcceptanceRequests::RequestedAt)
                    .to_owned(),
            )
            .await?;
        // One waiting request per record (a partial index on both backends).
        run(
            manager.get_connection(),
            &["CREATE UNIQUE INDEX ux_risk_acceptance_requests_pending \
               ON risk_acceptance_requests (vulnerability_id) WHERE state = 'PENDING'"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RiskAcceptanceRequests::Table).to_owned()).await?;
        run(manager.get_connection(), &["ALTER TABLE teams DROP COLUMN risk_acceptance_approval"]).await
    }
}

//! The core schema: teams, users, sessions, vulnerabilities, comments,
//! invitations, API tokens, notifications and the audit log.
//!
//! Tenant isolation is enforced by the schema as well as the code: every
//! tenant table carries `team_id`, and every reference between tenant rows is
//! a composite foreign key `(team_id, x_id) → parent(team_id, id)`, so a row
//! can never point at another team's row even if a query forgets a filter.

use sea_orm_migration::{prelude::*, schema::*};
use vulntrack_domain::{
    Role, UserStatus,
    vulnerability::{Severity, VulnKind, VulnStatus},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Teams {
    Table,
    Id,
    Name,
    NextVulnNumber,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    TeamId,
    Email,
    EmailNormalized,
    Name,
    PasswordHash,
    Role,
    Status,
    Phone,
    JobTitle,
    Department,
    Bio,
    IsOnboarded,
    FailedLoginCount,
    FailedLoginWindowStart,
    LockedUntil,
    LastLoginAt,
    PasswordChangedAt,
    DeletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Sessions {
    Table,
    Id,
    TeamId,
    UserId,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    RevokedAt,
    Ip,
    UserAgent,
}

#[derive(DeriveIden, Clone, Copy)]
enum Vulnerabilities {
    Table,
    Id,
    TeamId,
    Number,
    Title,
    Description,
    Severity,
    SeverityRank,
    Status,
    Kind,
    CveId,
    CvssVector,
    CvssVersion,
    CvssScore,
    DreadDamage,
    DreadReproducibility,
    DreadExploitability,
    DreadAffectedUsers,
    DreadDiscoverability,
    DreadScore,
    StrideSpoofing,
    StrideTampering,
    StrideRepudiation,
    StrideInformationDisclosure,
    StrideDenialOfService,
    StrideElevationOfPrivilege,
    Assets,
    ReferenceLinks,
    Remediation,
    AssigneeId,
    ReporterId,
    ResolvedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Comments {
    Table,
    Id,
    TeamId,
    VulnerabilityId,
    AuthorId,
    Body,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Invitations {
    Table,
    Id,
    TeamId,
    Email,
    EmailNormalized,
    Role,
    TokenHash,
    InvitedBy,
    ExpiresAt,
    AcceptedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApiTokens {
    Table,
    Id,
    TeamId,
    UserId,
    Name,
    TokenHash,
    TokenPrefix,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Notifications {
    Table,
    Id,
    TeamId,
    UserId,
    VulnerabilityId,
    Kind,
    Message,
    ReadAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    Id,
    TeamId,
    Seq,
    ActorKind,
    ActorId,
    ActorEmail,
    ActorTokenId,
    Action,
    EntityType,
    EntityId,
    Details,
    Ip,
    UserAgent,
    RequestId,
    PrevHash,
    Hash,
    CreatedAt,
}

/// `column IN ('A', 'B', …)` for a closed set of names.
fn one_of(column: impl IntoIden + 'static, names: &[&'static str]) -> SimpleExpr {
    Expr::col(column).is_in(names.iter().copied())
}

/// `column IS NULL OR column BETWEEN 0 AND 10`, for DREAD factors.
fn dread_factor(column: Vulnerabilities) -> ColumnDef {
    let mut def = small_integer_null(column);
    def.check(Expr::col(column).between(0, 10));
    def
}

/// A foreign key from a tenant row to a parent row of the same team.
fn same_team_fk(
    name: &str,
    from: impl IntoIden + Copy + 'static,
    from_cols: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: impl IntoIden + Copy + 'static,
    to_cols: (impl IntoIden + 'static, impl IntoIden + 'static),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from, from_cols)
        .to(to, to_cols)
        .on_delete(on_delete)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

fn team_fk(
    name: &str,
    from: impl IntoIden + Copy + 'static,
    col: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from, col)
        .to(Teams::Table, Teams::Id)
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

fn index(name: &str, table: impl IntoIden + 'static) -> IndexCreateStatement {
    Index::create().name(name).table(table).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Teams::Table)
                    .col(pk_uuid(Teams::Id))
                    .col(string_len(Teams::Name, 100))
                    .col(big_integer(Teams::NextVulnNumber).default(1))
                    .col(timestamp_with_time_zone(Teams::CreatedAt))
                    .col(timestamp_with_time_zone(Teams::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("ux_teams_name", Teams::Table).col(Teams::Name).unique().to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(uuid(Users::TeamId))
                    .col(string_len(Users::Email, 254))
                    .col(string_len(Users::EmailNormalized, 254))
                    .col(string_len(Users::Name, 100))
                    .col(string_len(Users::PasswordHash, 255))
                    .col(string_len(Users::Role, 16).check(one_of(Users::Role, &Role::names())))
                    .col(
                        string_len(Users::Status, 16)
                            .default(UserStatus::Active.as_str())
                            .check(one_of(Users::Status, &UserStatus::names())),
                    )
                    .col(string_len_null(Users::Phone, 40))
                    .col(string_len_null(Users::JobTitle, 100))
                    .col(string_len_null(Users::Department, 100))
                    .col(text_null(Users::Bio))
                    .col(boolean(Users::IsOnboarded).default(false))
                    .col(integer(Users::FailedLoginCount).default(0))
                    .col(timestamp_with_time_zone_null(Users::FailedLoginWindowStart))
                    .col(timestamp_with_time_zone_null(Users::LockedUntil))
                    .col(timestamp_with_time_zone_null(Users::LastLoginAt))
                    .col(timestamp_with_time_zone(Users::PasswordChangedAt))
                    .col(timestamp_with_time_zone_null(Users::DeletedAt))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .foreign_key(&mut team_fk("fk_users_team", Users::Table, Users::TeamId))
                    .to_owned(),
            )
            .await?;
        // Emails are unique across the instance (sign-in is by email alone)
        // and compared in Unicode lower case, which the code stores here.
        manager
            .create_index(
                index("ux_users_email_normalized", Users::Table).col(Users::EmailNormalized).unique().to_owned(),
            )
            .await?;
        // The target of every same-team foreign key to a user.
        manager
            .create_index(
                index("ux_users_team_id_id", Users::Table).col(Users::TeamId).col(Users::Id).unique().to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(uuid(Sessions::TeamId))
                    .col(uuid(Sessions::UserId))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .col(string_len_null(Sessions::Ip, 45))
                    .col(string_len_null(Sessions::UserAgent, 512))
                    .foreign_key(&mut same_team_fk(
                        "fk_sessions_user",
                        Sessions::Table,
                        (Sessions::TeamId, Sessions::UserId),
                        Users::Table,
                        (Users::TeamId, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("ix_sessions_user", Sessions::Table).col(Sessions::UserId).to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table(Vulnerabilities::Table)
                    .col(pk_uuid(Vulnerabilities::Id))
                    .col(uuid(Vulnerabilities::TeamId))
                    .col(big_integer(Vulnerabilities::Number))
                    .col(string_len(Vulnerabilities::Title, 200))
                    .col(text(Vulnerabilities::Description))
                    .col(
                        string_len(Vulnerabilities::Severity, 16)
                            .check(one_of(Vulnerabilities::Severity, &Severity::names())),
                    )
                    .col(
                        small_integer(Vulnerabilities::SeverityRank)
                            .check(Expr::col(Vulnerabilities::SeverityRank).between(1, 5)),
                    )
                    .col(
                        string_len(Vulnerabilities::Status, 16)
                            .default(VulnStatus::Open.as_str())
                            .check(one_of(Vulnerabilities::Status, &VulnStatus::names())),
                    )
                    .col(
                        string_len(Vulnerabilities::Kind, 24)
                            .default(VulnKind::Vulnerability.as_str())
                            .check(one_of(Vulnerabilities::Kind, &VulnKind::names())),
                    )
                    .col(string_len_null(Vulnerabilities::CveId, 32))
                    .col(string_len_null(Vulnerabilities::CvssVector, 255))
                    .col(string_len_null(Vulnerabilities::CvssVersion, 8))
                    .col(
                        double_null(Vulnerabilities::CvssScore)
                            .check(Expr::col(Vulnerabilities::CvssScore).between(0.0, 10.0)),
                    )
                    .col(dread_factor(Vulnerabilities::DreadDamage))
                    .col(dread_factor(Vulnerabilities::DreadReproducibility))
                    .col(dread_factor(Vulnerabilities::DreadExploitability))
                    .col(dread_factor(Vulnerabilities::DreadAffectedUsers))
                    .col(dread_factor(Vulnerabilities::DreadDiscoverability))
                    .col(double_null(Vulnerabilities::DreadScore))
                    .col(boolean(Vulnerabilities::StrideSpoofing).default(false))
                    .col(boolean(Vulnerabilities::StrideTampering).default(false))
                    .col(boolean(Vulnerabilities::StrideRepudiation).default(false))
                    .col(boolean(Vulnerabilities::StrideInformationDisclosure).default(false))
                    .col(boolean(Vulnerabilities::StrideDenialOfService).default(false))
                    .col(boolean(Vulnerabilities::StrideElevationOfPrivilege).default(false))
                    .col(json_binary(Vulnerabilities::Assets))
                    .col(json_binary(Vulnerabilities::ReferenceLinks))
                    .col(text_null(Vulnerabilities::Remediation))
                    .col(uuid_null(Vulnerabilities::AssigneeId))
                    .col(uuid_null(Vulnerabilities::ReporterId))
                    .col(timestamp_with_time_zone_null(Vulnerabilities::ResolvedAt))
                    .col(timestamp_with_time_zone(Vulnerabilities::CreatedAt))
                    .col(timestamp_with_time_zone(Vulnerabilities::UpdatedAt))
                    .foreign_key(&mut team_fk(
                        "fk_vulnerabilities_team",
                        Vulnerabilities::Table,
                        Vulnerabilities::TeamId,
                    ))
                    .foreign_key(&mut same_team_fk(
                        "fk_vulnerabilities_assignee",
                        Vulnerabilities::Table,
                        (Vulnerabilities::TeamId, Vulnerabilities::AssigneeId),
                        Users::Table,
                        (Users::TeamId, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut same_team_fk(
                        "fk_vulnerabilities_reporter",
                        Vulnerabilities::Table,
                        (Vulnerabilities::TeamId, Vulnerabilities::ReporterId),
                        Users::Table,
                        (Users::TeamId, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        // Listing is always "one team, ordered by X, after cursor": each sort
        // order gets an index led by team_id and ending in the id tie-breaker,
        // so a page costs the same whatever other teams hold.
        for (name, cols) in [
            ("ux_vulnerabilities_team_id_id", vec![Vulnerabilities::TeamId, Vulnerabilities::Id]),
            ("ux_vulnerabilities_team_number", vec![Vulnerabilities::TeamId, Vulnerabilities::Number]),
        ] {
            let mut stmt = index(name, Vulnerabilities::Table);
            for col in cols {
                stmt.col(col);
            }
            manager.create_index(stmt.unique().to_owned()).await?;
        }
        for (name, cols) in [
            (
                "ix_vulnerabilities_team_created",
                vec![Vulnerabilities::TeamId, Vulnerabilities::CreatedAt, Vulnerabilities::Id],
            ),
            (
                "ix_vulnerabilities_team_updated",
                vec![Vulnerabilities::TeamId, Vulnerabilities::UpdatedAt, Vulnerabilities::Id],
            ),
            (
                "ix_vulnerabilities_team_severity",
                vec![
                    Vulnerabilities::TeamId,
                    Vulnerabilities::SeverityRank,
                    Vulnerabilities::CreatedAt,
                    Vulnerabilities::Id,
                ],
            ),
            (
                "ix_vulnerabilities_team_cvss",
                vec![Vulnerabilities::TeamId, Vulnerabilities::CvssScore, Vulnerabilities::Id],
            ),
            (
                "ix_vulnerabilities_team_status",
                vec![Vulnerabilities::TeamId, Vulnerabilities::Status, Vulnerabilities::CreatedAt, Vulnerabilities::Id],
            ),
            (
                "ix_vulnerabilities_team_assignee",
                vec![
                    Vulnerabilities::TeamId,
                    Vulnerabilities::AssigneeId,
                    Vulnerabilities::CreatedAt,
                    Vulnerabilities::Id,
                ],
            ),
            ("ix_vulnerabilities_team_cve", vec![Vulnerabilities::TeamId, Vulnerabilities::CveId]),
        ] {
            let mut stmt = index(name, Vulnerabilities::Table);
            for col in cols {
                stmt.col(col);
            }
            manager.create_index(stmt).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(pk_uuid(Comments::Id))
                    .col(uuid(Comments::TeamId))
                    .col(uuid(Comments::VulnerabilityId))
                    .col(uuid(Comments::AuthorId))
                    .col(text(Comments::Body))
                    .col(timestamp_with_time_zone(Comments::CreatedAt))
                    .col(timestamp_with_time_zone(Comments::UpdatedAt))
                    .foreign_key(&mut same_team_fk(
                        "fk_comments_vulnerability",
                        Comments::Table,
                        (Comments::TeamId, Comments::VulnerabilityId),
                        Vulnerabilities::Table,
                        (Vulnerabilities::TeamId, Vulnerabilities::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut same_team_fk(
                        "fk_comments_author",
                        Comments::Table,
                        (Comments::TeamId, Comments::AuthorId),
                        Users::Table,
                        (Users::TeamId, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("ix_comments_team_vulnerability", Comments::Table)
                    .col(Comments::TeamId)
                    .col(Comments::VulnerabilityId)
                    .col(Comments::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .col(pk_uuid(Invitations::Id))
                    .col(uuid(Invitations::TeamId))
                    .col(string_len(Invitations::Email, 254))
                    .col(string_len(Invitations::EmailNormalized, 254))
                    .col(string_len(Invitations::Role, 16).check(one_of(Invitations::Role, &Role::names())))
                    .col(string_len(Invitations::TokenHash, 64))
                    .col(uuid(Invitations::InvitedBy))
                    .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                    .col(timestamp_with_time_zone(Invitations::CreatedAt))
                    .foreign_key(&mut same_team_fk(
                        "fk_invitations_inviter",
                        Invitations::Table,
                        (Invitations::TeamId, Invitations::InvitedBy),
                        Users::Table,
                        (Users::TeamId, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("ux_invitations_token_hash", Invitations::Table).col(Invitations::TokenHash).unique().to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("ix_invitations_team", Invitations::Table)
                    .col(Invitations::TeamId)
                    .col(Invitations::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(pk_uuid(ApiTokens::Id))
                    .col(uuid(ApiTokens::TeamId))
                    .col(uuid(ApiTokens::UserId))
                    .col(string_len(ApiTokens::Name, 100))
                    .col(string_len(ApiTokens::TokenHash, 64))
                    .col(string_len(ApiTokens::TokenPrefix, 16))
                    .col(timestamp_with_time_zone_null(ApiTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .foreign_key(&mut same_team_fk(
                        "fk_api_tokens_user",
                        ApiTokens::Table,
                        (ApiTokens::TeamId, ApiTokens::UserId),
                        Users::Table,
                        (Users::TeamId, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("ux_api_tokens_token_hash", ApiTokens::Table).col(ApiTokens::TokenHash).unique().to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("ix_api_tokens_team_user", ApiTokens::Table)
                    .col(ApiTokens::TeamId)
                    .col(ApiTokens::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_uuid(Notifications::Id))
                    .col(uuid(Notifications::TeamId))
                    .col(uuid(Notifications::UserId))
                    .col(uuid_null(Notifications::VulnerabilityId))
                    .col(string_len(Notifications::Kind, 32))
                    .col(string_len(Notifications::Message, 500))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .foreign_key(&mut same_team_fk(
                        "fk_notifications_user",
                        Notifications::Table,
                        (Notifications::TeamId, Notifications::UserId),
                        Users::Table,
                        (Users::TeamId, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut same_team_fk(
                        "fk_notifications_vulnerability",
                        Notifications::Table,
                        (Notifications::TeamId, Notifications::VulnerabilityId),
                        Vulnerabilities::Table,
                        (Vulnerabilities::TeamId, Vulnerabilities::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("ix_notifications_team_user", Notifications::Table)
                    .col(Notifications::TeamId)
                    .col(Notifications::UserId)
                    .col(Notifications::CreatedAt)
                    .to_owned(),
            )
            .await?;

        // The audit log keeps no foreign key to users: it must outlive any
        // row it talks about, and it is append-only. `team_id` is NULL only
        // for instance-wide events (e.g. a failed login for an unknown email).
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(pk_uuid(AuditLog::Id))
                    .col(uuid_null(AuditLog::TeamId))
                    .col(big_integer(AuditLog::Seq))
                    .col(
                        string_len(AuditLog::ActorKind, 16)
                            .check(one_of(AuditLog::ActorKind, &["USER", "TOKEN", "SYSTEM", "ANONYMOUS"])),
                    )
                    .col(uuid_null(AuditLog::ActorId))
                    .col(string_len_null(AuditLog::ActorEmail, 254))
                    .col(uuid_null(AuditLog::ActorTokenId))
                    .col(string_len(AuditLog::Action, 48))
                    .col(string_len_null(AuditLog::EntityType, 32))
                    .col(string_len_null(AuditLog::EntityId, 64))
                    .col(json_binary(AuditLog::Details))
                    .col(string_len_null(AuditLog::Ip, 45))
                    .col(string_len_null(AuditLog::UserAgent, 512))
                    .col(string_len_null(AuditLog::RequestId, 64))
                    .col(string_len(AuditLog::PrevHash, 64))
                    .col(string_len(AuditLog::Hash, 64))
                    .col(timestamp_with_time_zone(AuditLog::CreatedAt))
                    .foreign_key(&mut team_fk("fk_audit_log_team", AuditLog::Table, AuditLog::TeamId))
                    .to_owned(),
            )
            .await?;
        // One chain per team: (team_id, seq) orders it and refuses forks.
        manager
            .create_index(
                index("ux_audit_log_team_seq", AuditLog::Table)
                    .col(AuditLog::TeamId)
                    .col(AuditLog::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("ix_audit_log_team_created", AuditLog::Table)
                    .col(AuditLog::TeamId)
                    .col(AuditLog::CreatedAt)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("ix_audit_log_team_action", AuditLog::Table)
                    .col(AuditLog::TeamId)
                    .col(AuditLog::Action)
                    .col(AuditLog::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            Notifications::Table.into_iden(),
            ApiTokens::Table.into_iden(),
            Invitations::Table.into_iden(),
            Comments::Table.into_iden(),
            Vulnerabilities::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
            Teams::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

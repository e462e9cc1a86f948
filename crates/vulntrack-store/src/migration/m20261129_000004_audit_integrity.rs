//! The audit log's integrity on PostgreSQL — a trigger refuses UPDATE and
//! DELETE, so not even the application's own role can rewrite history — and
//! the table of security alerts.

use sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum SecurityAlerts {
    Table,
    Id,
    TeamId,
    Rule,
    Severity,
    Subject,
    WindowStart,
    DedupeKey,
    Evidence,
    CreatedAt,
    AcknowledgedAt,
    AcknowledgedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    Action,
    Ip,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Teams {
    Table,
    Id,
}

const POSTGRES_UP: &[&str] = &[
    "CREATE FUNCTION vulntrack_audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
         RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
             USING ERRCODE = 'insufficient_privilege';
     END
     $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
     FOR EACH STATEMENT EXECUTE FUNCTION vulntrack_audit_log_is_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            for statement in POSTGRES_UP {
                manager.get_connection().execute_unprepared(statement).await?;
            }
        }
        // One row per (team, rule, subject, window), spelled out in
        // `dedupe_key` because a NULL team (instance-wide alerts) would never
        // collide in a composite unique index: raising the same alert again
        // in its window collides here instead of flooding.
        manager
            .create_table(
                Table::create()
                    .table(SecurityAlerts::Table)
                    .col(pk_uuid(SecurityAlerts::Id))
                    .col(uuid_null(SecurityAlerts::TeamId))
                    .col(string_len(SecurityAlerts::Rule, 48))
                    .col(string_len(SecurityAlerts::Severity, 16))
                    .col(string_len(SecurityAlerts::Subject, 300))
                    .col(timestamp_with_time_zone(SecurityAlerts::WindowStart))
                    .col(string_len(SecurityAlerts::DedupeKey, 400))
                    .col(json_binary(SecurityAlerts::Evidence))
                    .col(timestamp_with_time_zone(SecurityAlerts::CreatedAt))
                    .col(timestamp_with_time_zone_null(SecurityAlerts::AcknowledgedAt))
                    .col(uuid_null(SecurityAlerts::AcknowledgedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_security_alerts_team")
                            .from(SecurityAlerts::Table, SecurityAlerts::TeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_security_alerts_once_per_window")
                    .table(SecurityAlerts::Table)
                    .col(SecurityAlerts::DedupeKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_security_alerts_team_created")
                    .table(SecurityAlerts::Table)
                    .col(SecurityAlerts::TeamId)
                    .col(SecurityAlerts::CreatedAt)
                    .to_owned(),
            )
            .await?;
        // Failed sign-ins by client address, across teams (spraying rule).
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_log_action_ip_created")
                    .table(AuditLog::Table)
                    .col(AuditLog::Action)
                    .col(AuditLog::Ip)
                    .col(AuditLog::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SecurityAlerts::Table).to_owned()).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            let db = manager.get_connection();
            db.execute_unprepared("DROP TRIGGER audit_log_append_only ON audit_log").await?;
            db.execute_unprepared("DROP FUNCTION vulntrack_audit_log_is_append_only()").await?;
        }
        Ok(())
    }
}

//! Retention: each team's policy (NULL: the instance's default) and the
//! signed checkpoints that let a chain whose oldest rows were purged still
//! verify. On PostgreSQL the audit log's row guard also lets a transaction
//! that asks for it (`vulntrack.audit_purge`) delete the rows a checkpoint
//! covers — and only those.

use sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditCheckpoints {
    Table,
    Id,
    TeamId,
    Seq,
    Hash,
    RowsPurged,
    PurgedBefore,
    KeyId,
    Signature,
    CreatedAt,
}

const TEAM_COLUMNS: [&str; 5] = [
    "retention_audit_days",
    "retention_sessions_days",
    "retention_notifications_days",
    "retention_alerts_days",
    "retention_closed_days",
];

/// The guard of migration 33, with purges of checkpointed rows allowed.
const POSTGRES_GUARD: &str =
    "CREATE OR REPLACE FUNCTION vulntrack_audit_log_row_guard() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
         IF TG_OP = 'DELETE' THEN
             IF current_setting('vulntrack.audit_purge', true) = 'on'
                AND EXISTS (SELECT 1 FROM audit_checkpoints c
                            WHERE c.team_id IS NOT DISTINCT FROM OLD.team_id AND c.seq >= OLD.seq) THEN
                 RETURN OLD;
             END IF;
         END IF;
         IF TG_OP = 'UPDATE' THEN
             IF OLD.personal_digest IS NULL
                AND current_setting('vulntrack.audit_upgrade', true) = 'on'
                AND NEW.personal_digest IS NOT NULL
                AND (NEW.id, NEW.team_id, NEW.seq, NEW.actor_kind, NEW.actor_id, NEW.actor_email, NEW.actor_token_id,
                     NEW.action, NEW.entity_type, NEW.entity_id, NEW.details, NEW.ip, NEW.user_agent,
                     NEW.request_id, NEW.created_at, NEW.erased_at)
                    IS NOT DISTINCT FROM
                    (OLD.id, OLD.team_id, OLD.seq, OLD.actor_kind, OLD.actor_id, OLD.actor_email, OLD.actor_token_id,
                     OLD.action, OLD.entity_type, OLD.entity_id, OLD.details, OLD.ip, OLD.user_agent,
                     OLD.request_id, OLD.created_at, OLD.erased_at) THEN
                 RETURN NEW;
             END IF;
             IF OLD.personal_digest IS NOT NULL
                AND current_setting('vulntrack.audit_erasure', true) = 'on'
                AND NEW.personal_salt IS NULL AND NEW.erased_at IS NOT NULL
                AND (NEW.id, NEW.team_id, NEW.seq, NEW.actor_kind, NEW.actor_id, NEW.actor_token_id, NEW.action,
                     NEW.entity_type, NEW.entity_id, NEW.request_id, NEW.created_at, NEW.prev_hash, NEW.hash,
                     NEW.hash_key, NEW.personal_digest)
                    IS NOT DISTINCT FROM
                    (OLD.id, OLD.team_id, OLD.seq, OLD.actor_kind, OLD.actor_id, OLD.actor_token_id, OLD.action,
                     OLD.entity_type, OLD.entity_id, OLD.request_id, OLD.created_at, OLD.prev_hash, OLD.hash,
                     OLD.hash_key, OLD.personal_digest) THEN
                 RETURN NEW;
             END IF;
         END IF;
         RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
             USING ERRCODE = 'insufficient_privilege';
     END
     $$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in TEAM_COLUMNS {
            manager
                .alter_table(
                    Table::alter().table(Alias::new("teams")).add_column(integer_null(Alias::new(column))).to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AuditCheckpoints::Table)
                    .col(pk_uuid(AuditCheckpoints::Id))
                    .col(uuid_null(AuditCheckpoints::TeamId))
                    .col(big_integer(AuditCheckpoints::Seq))
                    .col(string_len(AuditCheckpoints::Hash, 64))
                    .col(big_integer(AuditCheckpoints::RowsPurged))
                    .col(timestamp_with_time_zone(AuditCheckpoints::PurgedBefore))
                    .col(string_len(AuditCheckpoints::KeyId, 16))
                    .col(string_len(AuditCheckpoints::Signature, 64))
                    .col(timestamp_with_time_zone(AuditCheckpoints::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_checkpoints_team_seq")
                    .table(AuditCheckpoints::Table)
                    .col(AuditCheckpoints::TeamId)
                    .col(AuditCheckpoints::Seq)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_GUARD).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditCheckpoints::Table).to_owned()).await?;
        for column in TEAM_COLUMNS {
            manager
                .alter_table(Table::alter().table(Alias::new("teams")).drop_column(Alias::new(column)).to_owned())
                .await?;
        }
        // The guard's DELETE branch finds no checkpoint table now; it is
        // replaced by migration 33's on the way down through it.
        Ok(())
    }
}

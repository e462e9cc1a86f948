//! Audit rows keep their personal fields (actor email, details, address,
//! user agent) out of the hash chain: each row gets a random salt and the
//! SHA-256 of the salt and those fields, which the chain hashes in their
//! place; erasing a person destroys the salt with the values. Existing
//! chains are sealed into this form and hashed again under the current
//! key (`audit::upgrade_chains`, which verifies each chain first and
//! records the previous head).

use sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

/// PostgreSQL: the append-only trigger becomes a row trigger that still
/// refuses every DELETE and every UPDATE, except two, each only inside a
/// transaction that asks for it (`set_config(…, 'on', true)`): sealing a
/// row of the first format (its digest, salt and chain fields; nothing it
/// records), and erasing a sealed row's personal fields (its salt goes,
/// `erased_at` is set, and nothing the chain hashes changes). TRUNCATE
/// keeps its statement trigger. The runbook's application role may update
/// only the personal columns (docs/OPERATIONS.md).
const POSTGRES_UP: &[&str] = &[
    "DROP TRIGGER audit_log_append_only ON audit_log",
    "CREATE FUNCTION vulntrack_audit_log_row_guard() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
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
     $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
     FOR EACH ROW EXECUTE FUNCTION vulntrack_audit_log_row_guard()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
     FOR EACH STATEMENT EXECUTE FUNCTION vulntrack_audit_log_is_append_only()",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let audit = Alias::new("audit_log");
        for column in [
            string_len_null(Alias::new("personal_salt"), 64),
            string_len_null(Alias::new("personal_digest"), 64),
            timestamp_with_time_zone_null(Alias::new("erased_at")),
        ] {
            // One column per statement: SQLite alters a column at a time.
            manager.alter_table(Table::alter().table(audit.clone()).add_column(column).to_owned()).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            for statement in POSTGRES_UP {
                manager.get_connection().execute_unprepared(statement).await?;
            }
        }
        crate::audit::upgrade_chains(manager.get_connection())
            .await
            .map_err(|error| DbErr::Migration(format!("audit chains: {error}")))?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        if postgres {
            for statement in [
                "DROP TRIGGER audit_log_no_truncate ON audit_log",
                "DROP TRIGGER audit_log_append_only ON audit_log",
                "DROP FUNCTION vulntrack_audit_log_row_guard()",
            ] {
                manager.get_connection().execute_unprepared(statement).await?;
            }
        }
        crate::audit::downgrade_chains(manager.get_connection())
            .await
            .map_err(|error| DbErr::Migration(format!("audit chains: {error}")))?;
        if postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
                     FOR EACH STATEMENT EXECUTE FUNCTION vulntrack_audit_log_is_append_only()",
                )
                .await?;
        }
        for column in ["personal_salt", "personal_digest", "erased_at"] {
            manager
                .alter_table(Table::alter().table(Alias::new("audit_log")).drop_column(Alias::new(column)).to_owned())
                .await?;
        }
        Ok(())
    }
}

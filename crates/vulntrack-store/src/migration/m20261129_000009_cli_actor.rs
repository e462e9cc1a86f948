//! The audit log's actor kinds gain `CLI`: the operator's commands
//! (`vulntrack admin …`) are recorded as such.
//!
//! PostgreSQL swaps the CHECK constraint. SQLite cannot alter a CHECK, so
//! the table is rebuilt the way SQLite documents (create the new table,
//! copy, drop, rename, recreate the indexes) inside the migration's
//! transaction; the rows, and so the hash chains, are copied unchanged.

use sea_orm::{DbBackend, Statement};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD: &str = "'USER', 'TOKEN', 'SYSTEM', 'ANONYMOUS'";
const NEW: &str = "'USER', 'TOKEN', 'SYSTEM', 'ANONYMOUS', 'CLI'";

async fn set_kinds(manager: &SchemaManager<'_>, from: &str, to: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            let name = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT conname FROM pg_constraint WHERE conrelid = 'audit_log'::regclass AND contype = 'c' \
                     AND pg_get_constraintdef(oid) LIKE '%actor_kind%'",
                ))
                .await?
                .map(|row| row.try_get_by_index::<String>(0))
                .transpose()?
                .unwrap_or_else(|| "audit_log_actor_kind_check".into());
            db.execute_unprepared(&format!(
                "ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS \"{name}\", \
                 ADD CONSTRAINT audit_log_actor_kind_check CHECK (actor_kind IN ({to}))"
            ))
            .await?;
        }
        _ => {
            let objects = db
                .query_all_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT type, sql FROM sqlite_master WHERE tbl_name = 'audit_log' AND sql IS NOT NULL ORDER BY type DESC",
                ))
                .await?;
            let mut table = None;
            let mut indexes = Vec::new();
            for row in objects {
                let (kind, sql): (String, String) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
                if kind == "table" {
                    table = Some(sql)
                } else if kind == "index" {
                    indexes.push(sql)
                }
            }
            let table = table.ok_or_else(|| DbErr::Migration("audit_log is missing".into()))?;
            if !table.contains(from) {
                return Err(DbErr::Migration("audit_log's actor_kind constraint is not the expected one".into()));
            }
            let rebuilt =
                table.replace(from, to).replacen("CREATE TABLE \"audit_log\"", "CREATE TABLE \"audit_log_rebuilt\"", 1);
            db.execute_unprepared(&rebuilt).await?;
            db.execute_unprepared("INSERT INTO audit_log_rebuilt SELECT * FROM audit_log").await?;
            db.execute_unprepared("DROP TABLE audit_log").await?;
            db.execute_unprepared("ALTER TABLE audit_log_rebuilt RENAME TO audit_log").await?;
            for index in indexes {
                db.execute_unprepared(&index).await?;
            }
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_kinds(manager, OLD, NEW).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_kinds(manager, NEW, OLD).await
    }
}

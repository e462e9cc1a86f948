//! The schedule of the periodic background jobs. A node runs a job only
//! after claiming it: one conditional UPDATE that succeeds for one node
//! only (the job is due and nobody holds an unexpired lease), on either
//! backend, so several nodes on one database run each job once per
//! period. A node that dies mid-run loses its lease when it expires.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use crate::{entity::jobs, error::StoreResult};

/// A job's row as the schedule holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    pub name: String,
    pub next_run_at: DateTime<Utc>,
    pub last_started_at: Option<DateTime<Utc>>,
    pub last_finished_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub runs: i64,
}

/// Claims `name` for `node` until `lease_until` when it is due at `now`
/// and nobody holds it; whether this node got it.
pub async fn claim(
    db: &impl ConnectionTrait,
    name: &str,
    node: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> StoreResult<bool> {
    let first = jobs::ActiveModel {
        name: sea_orm::Set(name.to_owned()),
        next_run_at: sea_orm::Set(now),
        locked_by: sea_orm::Set(None),
        locked_until: sea_orm::Set(None),
        last_started_at: sea_orm::Set(None),
        last_finished_at: sea_orm::Set(None),
        last_error: sea_orm::Set(None),
        runs: sea_orm::Set(0),
    };
    jobs::Entity::insert(first)
        .on_conflict(OnConflict::column(jobs::Column::Name).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let claimed = jobs::Entity::update_many()
        .col_expr(jobs::Column::LockedBy, Expr::value(node))
        .col_expr(jobs::Column::LockedUntil, Expr::value(lease_until))
        .col_expr(jobs::Column::LastStartedAt, Expr::value(now))
        .filter(jobs::Column::Name.eq(name))
        .filter(jobs::Column::NextRunAt.lte(now))
        .filter(jobs::Column::LockedUntil.is_null().or(jobs::Column::LockedUntil.lt(now)))
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Ends `node`'s run of `name`: next due at `next_run_at`, with the run's
/// error if it failed.
pub async fn finish(
    db: &impl ConnectionTrait,
    name: &str,
    node: &str,
    now: DateTime<Utc>,
    next_run_at: DateTime<Utc>,
    error: Option<String>,
) -> StoreResult<()> {
    jobs::Entity::update_many()
        .col_expr(jobs::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(jobs::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(jobs::Column::LastFinishedAt, Expr::value(now))
        .col_expr(jobs::Column::NextRunAt, Expr::value(next_run_at))
        .col_expr(jobs::Column::LastError, Expr::value(error))
        .col_expr(jobs::Column::Runs, Expr::col(jobs::Column::Runs).add(1))
        .filter(jobs::Column::Name.eq(name))
        .filter(jobs::Column::LockedBy.eq(node))
        .exec(db)
        .await?;
    Ok(())
}

/// Every job's state (for operators and tests).
pub async fn list(db: &impl ConnectionTrait) -> StoreResult<Vec<JobState>> {
    Ok(jobs::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| JobState {
            name: row.name,
            next_run_at: row.next_run_at,
            last_started_at: row.last_started_at,
            last_finished_at: row.last_finished_at,
            last_error: row.last_error,
            runs: row.runs,
        })
        .collect())
}

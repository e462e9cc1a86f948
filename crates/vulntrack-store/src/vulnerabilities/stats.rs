//! Figures for the dashboard. Mean time to resolve needs date arithmetic,
//! which each backend spells differently.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde::Serialize;
use vulntrack_domain::vulnerability::{Severity, VulnStatus};

use crate::{
    entity::vulnerabilities as vulns,
    error::{StoreError, StoreResult},
    scope::TeamScope,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SeverityStatusCount {
    pub severity: Severity,
    pub status: VulnStatus,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub total: u64,
    /// OPEN or IN_PROGRESS.
    pub open: u64,
    pub by_severity_and_status: Vec<SeverityStatusCount>,
    /// Mean seconds from creation to resolution of resolved or closed
    /// records, per severity; `None` where nothing has been resolved.
    pub mean_time_to_resolve_seconds: Vec<(Severity, Option<f64>)>,
    /// Open records past their SLA due time.
    pub overdue: u64,
    /// Open records due within the next seven days.
    pub due_this_week: u64,
    /// Open records whose CVE is on CISA's KEV list.
    pub known_exploited_open: u64,
    /// Per severity, of the records resolved in the last 90 days that had a
    /// due time: how many, and how many were resolved by it.
    pub sla_compliance: Vec<SlaCompliance>,
}

/// One severity's SLA record over the last 90 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SlaCompliance {
    pub severity: Severity,
    /// Resolved in the window, with a due time.
    pub resolved: u64,
    /// Of those, resolved by their due time.
    pub in_time: u64,
}

/// The days the SLA compliance looks back over.
pub const COMPLIANCE_DAYS: i64 = 90;

fn seconds_to_resolve(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "AVG(EXTRACT(EPOCH FROM (resolved_at - created_at)))::float8",
        _ => "AVG((julianday(resolved_at) - julianday(created_at)) * 86400.0)",
    }
}

pub async fn stats(db: &impl ConnectionTrait, scope: TeamScope) -> StoreResult<Stats> {
    let team = scope.team_id().as_uuid();
    let counts: Vec<(String, String, i64)> = vulns::Entity::find()
        .select_only()
        .column(vulns::Column::Severity)
        .column(vulns::Column::Status)
        .column_as(Expr::col(vulns::Column::Id).count(), "count")
        .filter(vulns::Column::TeamId.eq(team))
        .group_by(vulns::Column::Severity)
        .group_by(vulns::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_severity_and_status = Vec::with_capacity(counts.len());
    for (severity, status, count) in counts {
        by_severity_and_status.push(SeverityStatusCount {
            severity: severity.parse().map_err(|_| StoreError::Corrupt(format!("severity {severity:?}")))?,
            status: status.parse().map_err(|_| StoreError::Corrupt(format!("status {status:?}")))?,
            count: u64::try_from(count).unwrap_or(0),
        });
    }
    by_severity_and_status.sort_by_key(|c| (std::cmp::Reverse(c.severity.rank()), c.status.as_str()));
    let total = by_severity_and_status.iter().map(|c| c.count).sum();
    let open = by_severity_and_status
        .iter()
        .filter(|c| matches!(c.status, VulnStatus::Open | VulnStatus::InProgress))
        .map(|c| c.count)
        .sum();

    let means: Vec<(String, Option<f64>)> = vulns::Entity::find()
        .select_only()
        .column(vulns::Column::Severity)
        .column_as(Expr::cust(seconds_to_resolve(db.get_database_backend())), "mean")
        .filter(vulns::Column::TeamId.eq(team))
        .filter(vulns::Column::ResolvedAt.is_not_null())
        .group_by(vulns::Column::Severity)
        .into_tuple()
        .all(db)
        .await?;
    let mean_time_to_resolve_seconds = Severity::ALL
        .iter()
        .map(|severity| {
            let mean = means.iter().find(|(s, _)| s == severity.as_str()).and_then(|(_, m)| *m);
            (*severity, mean.map(|m| m.round()))
        })
        .collect();
    let now = chrono::Utc::now();
    let open_statuses = [VulnStatus::Open.as_str(), VulnStatus::InProgress.as_str()];
    let count_open = |condition: sea_orm::Condition| {
        vulns::Entity::find()
            .filter(vulns::Column::TeamId.eq(team))
            .filter(vulns::Column::Status.is_in(open_statuses))
            .filter(condition)
            .count(db)
    };
    let overdue = count_open(sea_orm::Condition::all().add(vulns::Column::DueAt.lte(now))).await?;
    let week = now + chrono::Duration::days(7);
    let due_this_week =
        count_open(sea_orm::Condition::all().add(vulns::Column::DueAt.gt(now)).add(vulns::Column::DueAt.lte(week)))
            .await?;
    let known_exploited_open =
        count_open(sea_orm::Condition::all().add(vulns::Column::KnownExploited.eq(true))).await?;
    let resolved: Vec<(String, i64, Option<i64>)> = vulns::Entity::find()
        .select_only()
        .column(vulns::Column::Severity)
        .column_as(Expr::col(vulns::Column::Id).count(), "resolved")
        .column_as(Expr::cust("SUM(CASE WHEN resolved_at <= due_at THEN 1 ELSE 0 END)"), "in_time")
        .filter(vulns::Column::TeamId.eq(team))
        .filter(vulns::Column::DueAt.is_not_null())
        .filter(vulns::Column::ResolvedAt.gte(now - chrono::Duration::days(COMPLIANCE_DAYS)))
        .group_by(vulns::Column::Severity)
        .into_tuple()
        .all(db)
        .await?;
    let sla_compliance = Severity::ALL
        .iter()
        .map(|severity| {
            let row = resolved.iter().find(|(s, _, _)| s == severity.as_str());
            let resolved = row.map_or(0, |(_, n, _)| u64::try_from(*n).unwrap_or(0));
            let in_time = row.and_then(|(_, _, n)| *n).map_or(0, |n| u64::try_from(n).unwrap_or(0));
            SlaCompliance { severity: *severity, resolved, in_time }
        })
        .collect();
    Ok(Stats {
        total,
        open,
        by_severity_and_status,
        mean_time_to_resolve_seconds,
        overdue,
        due_this_week,
        known_exploited_open,
        sla_compliance,
    })
}

/// One day of the trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrendDay {
    pub day: chrono::NaiveDate,
    /// Open at the end of the day.
    pub open: u64,
    /// Resolved during the day (by the time each record was last resolved).
    pub resolved: u64,
}

/// Each of the last `days` days (UTC), oldest first: open vulnerabilities
/// at its end (everything created by then minus everything resolved by
/// then) and those resolved that day. Two grouped queries, whatever the
/// number of records.
pub async fn open_trend(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    today: chrono::NaiveDate,
    days: u32,
) -> StoreResult<Vec<TrendDay>> {
    let team = scope.team_id().as_uuid();
    let first = today - chrono::Duration::days(i64::from(Ord::max(days, 1)) - 1);
    let day_of = |column: &str| match db.get_database_backend() {
        DbBackend::Postgres => format!("to_char(({column} AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')"),
        _ => format!("date({column})"),
    };
    let per_day = |column: vulns::Column, name: &str| {
        vulns::Entity::find()
            .select_only()
            .column_as(Expr::cust(day_of(name)), "day")
            .column_as(Expr::col(vulns::Column::Id).count(), "count")
            .filter(vulns::Column::TeamId.eq(team))
            .filter(column.is_not_null())
            .group_by(Expr::cust(day_of(name)))
            .into_tuple::<(String, i64)>()
    };
    let created = per_day(vulns::Column::CreatedAt, "created_at").all(db).await?;
    let resolved = per_day(vulns::Column::ResolvedAt, "resolved_at").all(db).await?;
    let parse = |rows: Vec<(String, i64)>| -> Vec<(chrono::NaiveDate, i64)> {
        rows.into_iter()
            .filter_map(|(day, n)| chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok().map(|d| (d, n)))
            .collect()
    };
    let (created, resolved) = (parse(created), parse(resolved));
    let up_to = |rows: &[(chrono::NaiveDate, i64)], day: chrono::NaiveDate| -> i64 {
        rows.iter().filter(|(d, _)| *d <= day).map(|(_, n)| n).sum()
    };
    Ok((0..Ord::max(days, 1))
        .map(|offset| {
            let day = first + chrono::Duration::days(i64::from(offset));
            let open = up_to(&created, day) - up_to(&resolved, day);
            let resolved_that_day: i64 = resolved.iter().filter(|(d, _)| *d == day).map(|(_, n)| n).sum();
            TrendDay {
                day,
                open: u64::try_from(Ord::max(open, 0)).unwrap_or(0),
                resolved: u64::try_from(resolved_that_day).unwrap_or(0),
            }
        })
        .collect())
}

//! Retention: how long each team keeps what it no longer needs, and the
//! purge. A team's overrides are stored on its row (NULL: the instance's
//! default; for the audit log and closed findings, 0: keep for ever); the
//! purge deletes what is older than the policy allows and, for the audit
//! log, leaves a signed checkpoint of the purged prefix so the chain still
//! verifies ([`crate::audit::purge_before`]).

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use serde::Serialize;
use vulntrack_domain::vulnerability::VulnStatus;

use crate::{
    audit,
    entity::{invitations, notifications, password_resets, security_alerts, sessions, teams, vulnerabilities},
    error::StoreResult,
    scope::TeamScope,
};

/// A policy in effect: days to keep each kind of row; `None` keeps for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Retention {
    pub audit_days: Option<u32>,
    pub sessions_days: u32,
    pub notifications_days: u32,
    pub alerts_days: u32,
    pub closed_findings_days: Option<u32>,
}

/// A team's own choices: `None` takes the instance's default; for the
/// audit log and closed findings `Some(0)` keeps for ever.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TeamRetention {
    pub audit_days: Option<u32>,
    pub sessions_days: Option<u32>,
    pub notifications_days: Option<u32>,
    pub alerts_days: Option<u32>,
    pub closed_findings_days: Option<u32>,
}

impl TeamRetention {
    /// The policy in effect with the instance's `defaults`.
    pub fn effective(&self, defaults: &Retention) -> Retention {
        let forever_or = |own: Option<u32>, default: Option<u32>| match own {
            Some(0) => None,
            Some(days) => Some(days),
            None => default,
        };
        Retention {
            audit_days: forever_or(self.audit_days, defaults.audit_days),
            sessions_days: self.sessions_days.unwrap_or(defaults.sessions_days),
            notifications_days: self.notifications_days.unwrap_or(defaults.notifications_days),
            alerts_days: self.alerts_days.unwrap_or(defaults.alerts_days),
            closed_findings_days: forever_or(self.closed_findings_days, defaults.closed_findings_days),
        }
    }

    pub(crate) fn of(row: &teams::Model) -> Self {
        let days = |v: Option<i32>| v.and_then(|d| u32::try_from(d).ok());
        Self {
            audit_days: days(row.retention_audit_days),
            sessions_days: days(row.retention_sessions_days),
            notifications_days: days(row.retention_notifications_days),
            alerts_days: days(row.retention_alerts_days),
            closed_findings_days: days(row.retention_closed_days),
        }
    }
}

/// Stores the team's choices (the caller checks them and the version).
pub async fn set(db: &impl ConnectionTrait, scope: TeamScope, choices: TeamRetention) -> StoreResult<()> {
    let days = |v: Option<u32>| v.map(|d| i32::try_from(d).unwrap_or(i32::MAX));
    teams::Entity::update_many()
        .col_expr(teams::Column::RetentionAuditDays, Expr::value(days(choices.audit_days)))
        .col_expr(teams::Column::RetentionSessionsDays, Expr::value(days(choices.sessions_days)))
        .col_expr(teams::Column::RetentionNotificationsDays, Expr::value(days(choices.notifications_days)))
        .col_expr(teams::Column::RetentionAlertsDays, Expr::value(days(choices.alerts_days)))
        .col_expr(teams::Column::RetentionClosedDays, Expr::value(days(choices.closed_findings_days)))
        .col_expr(teams::Column::Version, Expr::col(teams::Column::Version).add(1))
        .col_expr(teams::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(teams::Column::Id.eq(scope.team_id().as_uuid()))
        .exec(db)
        .await?;
    Ok(())
}

/// Every team with its choices: what the purge job walks.
pub async fn teams(db: &impl ConnectionTrait) -> StoreResult<Vec<(TeamScope, TeamRetention)>> {
    Ok(teams::Entity::find()
        .all(db)
        .await?
        .iter()
        .map(|row| (TeamScope::new(vulntrack_domain::TeamId::from_uuid(row.id)), TeamRetention::of(row)))
        .collect())
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub audit_rows: u64,
    pub sessions: u64,
    pub links: u64,
    pub notifications: u64,
    pub alerts: u64,
    pub closed_findings: u64,
}

impl Purged {
    pub fn is_empty(&self) -> bool {
        *self == Purged::default()
    }
}

fn before(now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    now - Duration::days(i64::from(days))
}

/// Deletes what the team's `policy` no longer keeps as of `now`. Call it
/// in a transaction; the caller audits the purge after it.
pub async fn purge(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    policy: &Retention,
    now: DateTime<Utc>,
) -> StoreResult<Purged> {
    let team = scope.team_id().as_uuid();
    let sessions_cutoff = before(now, policy.sessions_days);
    let ended = |expired: sessions::Column, revoked: sessions::Column| {
        Condition::any().add(expired.lt(sessions_cutoff)).add(revoked.lt(sessions_cutoff))
    };
    let mut purged = Purged {
        sessions: sessions::Entity::delete_many()
            .filter(sessions::Column::TeamId.eq(team))
            .filter(ended(sessions::Column::ExpiresAt, sessions::Column::RevokedAt))
            .exec(db)
            .await?
            .rows_affected,
        ..Purged::default()
    };
    purged.links = password_resets::Entity::delete_many()
        .filter(password_resets::Column::TeamId.eq(team))
        .filter(
            Condition::any()
                .add(password_resets::Column::UsedAt.lt(sessions_cutoff))
                .add(password_resets::Column::ExpiresAt.lt(sessions_cutoff)),
        )
        .exec(db)
        .await?
        .rows_affected
        + invitations::Entity::delete_many()
            .filter(invitations::Column::TeamId.eq(team))
            .filter(
                Condition::any()
                    .add(invitations::Column::AcceptedAt.lt(sessions_cutoff))
                    .add(invitations::Column::ExpiresAt.lt(sessions_cutoff)),
            )
            .exec(db)
            .await?
            .rows_affected;
    purged.notifications = notifications::Entity::delete_many()
        .filter(notifications::Column::TeamId.eq(team))
        .filter(notifications::Column::ReadAt.lt(before(now, policy.notifications_days)))
        .exec(db)
        .await?
        .rows_affected;
    purged.alerts = security_alerts::Entity::delete_many()
        .filter(security_alerts::Column::TeamId.eq(team))
        .filter(security_alerts::Column::AcknowledgedAt.lt(before(now, policy.alerts_days)))
        .exec(db)
        .await?
        .rows_affected;
    if let Some(days) = policy.closed_findings_days {
        purged.closed_findings = vulnerabilities::Entity::delete_many()
            .filter(vulnerabilities::Column::TeamId.eq(team))
            .filter(vulnerabilities::Column::Status.is_in([VulnStatus::Resolved.as_str(), VulnStatus::Closed.as_str()]))
            .filter(vulnerabilities::Column::ResolvedAt.lt(before(now, days)))
            .exec(db)
            .await?
            .rows_affected;
    }
    if let Some(days) = policy.audit_days {
        purged.audit_rows = audit::purge_before(db, Some(scope.team_id()), before(now, days)).await?;
    }
    Ok(purged)
}

/// Purges the instance's own audit chain (operator and anonymous events)
/// by the instance's default.
pub async fn purge_instance_audit(
    db: &impl ConnectionTrait,
    defaults: &Retention,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    match defaults.audit_days {
        Some(days) => audit::purge_before(db, None, before(now, days)).await,
        None => Ok(0),
    }
}

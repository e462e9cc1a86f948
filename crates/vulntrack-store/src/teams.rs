//! Teams, the tenants.
//!
//! `create` hands out the [`TeamScope`] of a new team (setup, open
//! registration). Reaching an existing team without a signed-in member
//! (by name, or all of them) is only possible through [`crate::operator`].

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use vulntrack_domain::{
    TeamId,
    vulnerability::{Severity, sla::SlaPolicy},
};

use crate::{
    entity::teams,
    error::{StoreError, StoreResult},
    scope::TeamScope,
};

#[derive(Debug, Clone, PartialEq, Eq)]
// Built only by the store: its `scope()` vouches for the team.
#[non_exhaustive]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    /// The team's own session lifetime, if its ADMINs chose a shorter one.
    pub session_ttl_seconds: Option<i64>,
    /// How many days ahead a risk may be accepted (the triage policy).
    pub risk_acceptance_max_days: u16,
    /// An ANALYST's acceptance of a risk waits for an ADMIN's approval.
    pub risk_acceptance_approval: bool,
    /// Days to remediate per severity, and when a record is due soon.
    pub sla: SlaPolicy,
    /// The team's own retention choices (over the instance's defaults).
    pub retention: crate::retention::TeamRetention,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change to the settings; the `ETag`.
    pub version: i64,
}

impl Team {
    pub fn scope(&self) -> TeamScope {
        TeamScope::new(self.id)
    }
}

impl From<teams::Model> for Team {
    fn from(row: teams::Model) -> Self {
        let sla = sla_of(&row);
        let retention = crate::retention::TeamRetention::of(&row);
        Self {
            id: TeamId::from_uuid(row.id),
            name: row.name,
            session_ttl_seconds: row.session_ttl_seconds,
            risk_acceptance_max_days: u16::try_from(row.risk_acceptance_max_days)
                .unwrap_or(DEFAULT_RISK_ACCEPTANCE_DAYS),
            risk_acceptance_approval: row.risk_acceptance_approval,
            sla,
            retention,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        }
    }
}

/// How far ahead a team lets a risk be accepted until its ADMINs choose.
pub const DEFAULT_RISK_ACCEPTANCE_DAYS: u16 = 365;
/// The most a team may choose: ten years.
pub const RISK_ACCEPTANCE_DAYS_LIMIT: u16 = 3650;

fn days(policy: SlaPolicy, severity: Severity) -> Option<i32> {
    policy.days_for(severity).map(i32::from)
}

/// The policy a row holds (its CHECK constraints keep the numbers in range).
fn sla_of(row: &teams::Model) -> SlaPolicy {
    let day = |d: Option<i32>| d.and_then(|d| u16::try_from(d).ok());
    SlaPolicy {
        days: [
            day(row.sla_critical_days),
            day(row.sla_high_days),
            day(row.sla_medium_days),
            day(row.sla_low_days),
            day(row.sla_info_days),
        ],
        due_soon_percent: u8::try_from(row.sla_due_soon_percent).unwrap_or(SlaPolicy::default().due_soon_percent),
        due_soon_days: u16::try_from(row.sla_due_soon_days).unwrap_or(SlaPolicy::default().due_soon_days),
    }
}

/// Creates a team.
pub async fn create(db: &impl ConnectionTrait, name: &str) -> StoreResult<Team> {
    let now = Utc::now();
    let row = teams::ActiveModel {
        id: Set(TeamId::new().as_uuid()),
        name: Set(name.to_string()),
        next_vuln_number: Set(1),
        session_ttl_seconds: Set(None),
        risk_acceptance_max_days: Set(i32::from(DEFAULT_RISK_ACCEPTANCE_DAYS)),
        risk_acceptance_approval: Set(false),
        sla_critical_days: Set(days(SlaPolicy::default(), Severity::Critical)),
        sla_high_days: Set(days(SlaPolicy::default(), Severity::High)),
        sla_medium_days: Set(days(SlaPolicy::default(), Severity::Medium)),
        sla_low_days: Set(days(SlaPolicy::default(), Severity::Low)),
        sla_info_days: Set(days(SlaPolicy::default(), Severity::Info)),
        sla_due_soon_percent: Set(i32::from(SlaPolicy::default().due_soon_percent)),
        sla_due_soon_days: Set(i32::from(SlaPolicy::default().due_soon_days)),
        retention_audit_days: Set(None),
        retention_sessions_days: Set(None),
        retention_notifications_days: Set(None),
        retention_alerts_days: Set(None),
        retention_closed_days: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    };
    Ok(teams::Entity::insert(row).exec_with_returning(db).await.map(Team::from)?)
}

/// Looks a team up by exact name (see [`crate::operator`]).
/// Names need not be unique; several teams with the name are `Ambiguous`
/// (the operator renames one).
pub(crate) async fn find_by_name(db: &impl ConnectionTrait, name: &str) -> StoreResult<Option<Team>> {
    use sea_orm::QuerySelect;
    let mut found = teams::Entity::find().filter(teams::Column::Name.eq(name)).limit(2).all(db).await?;
    match found.len() {
        0 | 1 => Ok(found.pop().map(Team::from)),
        _ => Err(StoreError::Ambiguous { what: "teams with this name" }),
    }
}

/// The named team, created if it does not exist. Operator path.
pub(crate) async fn find_or_create(db: &impl ConnectionTrait, name: &str) -> StoreResult<Team> {
    match find_by_name(db, name).await? {
        Some(team) => Ok(team),
        None => create(db, name).await,
    }
}

/// Renames the scope's team (names need not be unique).
pub async fn rename(db: &impl ConnectionTrait, scope: TeamScope, name: &str) -> StoreResult<Team> {
    teams::Entity::update_many()
        .col_expr(teams::Column::Name, sea_orm::sea_query::Expr::value(name))
        .col_expr(teams::Column::UpdatedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .col_expr(
            teams::Column::Version,
            sea_orm::sea_query::ExprTrait::add(sea_orm::sea_query::Expr::col(teams::Column::Version), 1),
        )
        .filter(teams::Column::Id.eq(scope.team_id().as_uuid()))
        .exec(db)
        .await?;
    get(db, scope).await
}

/// Every team, by name. Operator path (audit verification).
pub(crate) async fn list_all(db: &impl ConnectionTrait) -> StoreResult<Vec<Team>> {
    use sea_orm::QueryOrder;
    Ok(teams::Entity::find().order_by_asc(teams::Column::Name).all(db).await?.into_iter().map(Team::from).collect())
}

/// Writes settings columns of the scope's team, moving its `updated_at`
/// and version (the `ETag`) on once for the whole change.
async fn write_settings(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    columns: Vec<(teams::Column, sea_orm::sea_query::SimpleExpr)>,
) -> StoreResult<Team> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    let mut update = teams::Entity::update_many();
    for (column, value) in columns {
        update = update.col_expr(column, value);
    }
    update
        .col_expr(teams::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(teams::Column::Version, Expr::col(teams::Column::Version).add(1))
        .filter(teams::Column::Id.eq(scope.team_id().as_uuid()))
        .exec(db)
        .await?;
    get(db, scope).await
}

/// Sets (or, with `None`, clears) the team's session lifetime.
pub async fn set_session_ttl(db: &impl ConnectionTrait, scope: TeamScope, seconds: Option<i64>) -> StoreResult<Team> {
    write_settings(db, scope, vec![(teams::Column::SessionTtlSeconds, Expr::value(seconds))]).await
}

/// Sets the team's triage policy: how far ahead a risk may be accepted,
/// whether an ADMIN approves an ANALYST's acceptance, and its SLA,
/// recomputing its records' deadlines when the SLA changed.
pub async fn set_triage_policy(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    risk_acceptance_max_days: u16,
    risk_acceptance_approval: bool,
    policy: SlaPolicy,
) -> StoreResult<Team> {
    let before = get(db, scope).await?;
    let day = |severity| Expr::value(days(policy, severity));
    let after = write_settings(
        db,
        scope,
        vec![
            (teams::Column::RiskAcceptanceMaxDays, Expr::value(i32::from(risk_acceptance_max_days))),
            (teams::Column::RiskAcceptanceApproval, Expr::value(risk_acceptance_approval)),
            (teams::Column::SlaCriticalDays, day(Severity::Critical)),
            (teams::Column::SlaHighDays, day(Severity::High)),
            (teams::Column::SlaMediumDays, day(Severity::Medium)),
            (teams::Column::SlaLowDays, day(Severity::Low)),
            (teams::Column::SlaInfoDays, day(Severity::Info)),
            (teams::Column::SlaDueSoonPercent, Expr::value(i32::from(policy.due_soon_percent))),
            (teams::Column::SlaDueSoonDays, Expr::value(i32::from(policy.due_soon_days))),
        ],
    )
    .await?;
    if before.sla != policy {
        crate::vulnerabilities::deadlines::recompute(db, scope, &policy).await?;
    }
    Ok(after)
}

/// The scope's own team, its row held until the write transaction ends:
/// team-wide rules (the last active ADMIN, settings) are decided under it,
/// so concurrent changes to the team's members apply one at a time.
pub async fn get_for_update(txn: &sea_orm::DatabaseTransaction, scope: TeamScope) -> StoreResult<Team> {
    use sea_orm::QuerySelect;
    teams::Entity::find_by_id(scope.team_id().as_uuid())
        .lock_exclusive()
        .one(txn)
        .await?
        .map(Team::from)
        .ok_or(StoreError::NotFound)
}

/// The scope's own team.
pub async fn get(db: &impl ConnectionTrait, scope: TeamScope) -> StoreResult<Team> {
    teams::Entity::find_by_id(scope.team_id().as_uuid()).one(db).await?.map(Team::from).ok_or(StoreError::NotFound)
}

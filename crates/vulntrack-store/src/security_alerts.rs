//! Security alerts raised by the monitoring rules, at most once per rule,
//! subject and window. Instance-wide alerts (no team) are shown to every
//! team's administrators.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;
use vulntrack_domain::{TeamId, UserId};

use crate::{
    entity::{audit_log, security_alerts as alerts},
    error::{StoreError, StoreResult},
    scope::TeamScope,
};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SecurityAlert {
    pub id: Uuid,
    pub team_id: Option<TeamId>,
    pub rule: String,
    pub severity: String,
    pub subject: String,
    pub window_start: DateTime<Utc>,
    pub evidence: Value,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<UserId>,
}

impl From<alerts::Model> for SecurityAlert {
    fn from(row: alerts::Model) -> Self {
        Self {
            id: row.id,
            team_id: row.team_id.map(TeamId::from_uuid),
            rule: row.rule,
            severity: row.severity,
            subject: row.subject,
            window_start: row.window_start,
            evidence: row.evidence,
            created_at: row.created_at,
            acknowledged_at: row.acknowledged_at,
            acknowledged_by: row.acknowledged_by.map(UserId::from_uuid),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewAlert<'a> {
    /// The team's alert (its ADMINs see it) or the instance's (the operator's).
    pub team: crate::audit::Tenancy,
    pub rule: &'a str,
    pub severity: &'a str,
    pub subject: &'a str,
    pub window_start: DateTime<Utc>,
    pub evidence: Value,
}

/// Stores the alert unless the same one was already raised in its window;
/// `None` means it was (nothing new to announce).
pub async fn raise(db: &impl ConnectionTrait, new: NewAlert<'_>) -> StoreResult<Option<SecurityAlert>> {
    let team = new.team.team_id().map_or_else(|| "instance".to_string(), |t| t.to_string());
    let subject: String = new.subject.chars().take(300).collect();
    let dedupe_key = format!("{team}|{}|{subject}|{}", new.rule, new.window_start.timestamp());
    let row = alerts::ActiveModel {
        id: Set(Uuid::now_v7()),
        team_id: Set(new.team.team_id().map(|t| t.as_uuid())),
        rule: Set(new.rule.to_string()),
        severity: Set(new.severity.to_string()),
        subject: Set(subject),
        window_start: Set(new.window_start),
        dedupe_key: Set(dedupe_key.chars().take(400).collect()),
        evidence: Set(new.evidence),
        created_at: Set(Utc::now()),
        acknowledged_at: Set(None),
        acknowledged_by: Set(None),
    };
    match alerts::Entity::insert(row).exec_with_returning(db).await {
        Ok(model) => Ok(Some(model.into())),
        Err(error) => match StoreError::conflict_on_unique(error, "alert") {
            StoreError::Conflict { .. } => Ok(None),
            other => Err(other),
        },
    }
}

/// A team sees only its own alerts. Instance-wide ones (no team: password
/// spraying across accounts, invalid tokens per client, outages, the error
/// rate) carry other teams' traffic and are the operator's
/// (`vulntrack alerts list|ack`, the log, the webhook, metrics).
fn visible_to(scope: TeamScope) -> Condition {
    Condition::all().add(alerts::Column::TeamId.eq(scope.team_id().as_uuid()))
}

/// Alerts matching `condition`, newest first.
async fn newest(db: &impl ConnectionTrait, condition: Condition, limit: u64) -> StoreResult<Vec<SecurityAlert>> {
    Ok(alerts::Entity::find()
        .filter(condition)
        .order_by_desc(alerts::Column::CreatedAt)
        .order_by_desc(alerts::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(SecurityAlert::from)
        .collect())
}

/// The instance-wide alerts, newest first (operator path).
pub(crate) async fn list_instance_wide(db: &impl ConnectionTrait, limit: u64) -> StoreResult<Vec<SecurityAlert>> {
    newest(db, Condition::all().add(alerts::Column::TeamId.is_null()), limit).await
}

/// Acknowledges an instance-wide alert (operator path; no user recorded).
pub(crate) async fn acknowledge_instance_wide(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<bool> {
    let result = alerts::Entity::update_many()
        .col_expr(alerts::Column::AcknowledgedAt, Expr::value(Utc::now()))
        .filter(alerts::Column::Id.eq(id))
        .filter(alerts::Column::TeamId.is_null())
        .filter(alerts::Column::AcknowledgedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The team's alerts, newest first.
pub async fn list(db: &impl ConnectionTrait, scope: TeamScope, limit: u64) -> StoreResult<Vec<SecurityAlert>> {
    newest(db, visible_to(scope), limit).await
}

/// How many alerts the team can see wait for someone to acknowledge them
/// (the count beside the Alerts menu entry).
pub async fn unacknowledged_count(db: &impl ConnectionTrait, scope: TeamScope) -> StoreResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(alerts::Entity::find()
        .filter(visible_to(scope))
        .filter(alerts::Column::AcknowledgedAt.is_null())
        .count(db)
        .await?)
}

/// Marks an alert the team can see as acknowledged; false if there is none.
pub async fn acknowledge(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid, by: UserId) -> StoreResult<bool> {
    let result = alerts::Entity::update_many()
        .col_expr(alerts::Column::AcknowledgedAt, Expr::value(Utc::now()))
        .col_expr(alerts::Column::AcknowledgedBy, Expr::value(by.as_uuid()))
        .filter(alerts::Column::Id.eq(id))
        .filter(visible_to(scope))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// What the monitoring rules count in the audit log.
#[derive(Debug, Clone, Default)]
pub struct EventCount<'a> {
    /// `None` counts across every team (and instance-wide rows).
    pub team: Option<TeamId>,
    pub action: &'a str,
    pub since: DateTime<Utc>,
    pub entity_id: Option<&'a str>,
    pub actor_id: Option<Uuid>,
    pub ip: Option<&'a str>,
}

pub async fn count_events(db: &impl ConnectionTrait, count: EventCount<'_>) -> StoreResult<u64> {
    let mut query = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(count.action))
        .filter(audit_log::Column::CreatedAt.gte(count.since));
    if let Some(team) = count.team {
        query = query.filter(audit_log::Column::TeamId.eq(team.as_uuid()));
    }
    if let Some(entity) = count.entity_id {
        query = query.filter(audit_log::Column::EntityId.eq(entity));
    }
    if let Some(actor) = count.actor_id {
        query = query.filter(audit_log::Column::ActorId.eq(actor));
    }
    if let Some(ip) = count.ip {
        query = query.filter(audit_log::Column::Ip.eq(ip));
    }
    Ok(query.count(db).await?)
}

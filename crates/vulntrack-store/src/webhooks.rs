//! Teams' outgoing webhooks and the log of their deliveries.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;
use vulntrack_domain::UserId;

use crate::{
    entity::{webhook_deliveries as deliveries, webhooks},
    error::{StoreError, StoreResult},
    scope::TeamScope,
};

/// A team's webhook. The secret signs each delivery (HMAC-SHA256), so it
/// is kept as given and shown once, when created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub secret: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<webhooks::Model> for Webhook {
    type Error = StoreError;

    fn try_from(row: webhooks::Model) -> StoreResult<Self> {
        Ok(Self {
            id: row.id,
            url: row.url,
            secret: row.secret,
            events: serde_json::from_str(&row.events)
                .map_err(|e| StoreError::Corrupt(format!("webhook events: {e}")))?,
            active: row.active,
            created_by: row.created_by.map(UserId::from_uuid),
            created_at: row.created_at,
        })
    }
}

fn of_team(scope: TeamScope) -> sea_orm::Select<webhooks::Entity> {
    webhooks::Entity::find().filter(webhooks::Column::TeamId.eq(scope.team_id().as_uuid()))
}

pub async fn create(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    url: &str,
    secret: &str,
    events: &[String],
    created_by: UserId,
) -> StoreResult<Webhook> {
    let row = webhooks::ActiveModel {
        id: Set(Uuid::now_v7()),
        team_id: Set(scope.team_id().as_uuid()),
        url: Set(url.to_owned()),
        secret: Set(secret.to_owned()),
        events: Set(serde_json::to_string(events).unwrap_or_else(|_| "[]".into())),
        active: Set(true),
        created_by: Set(Some(created_by.as_uuid())),
        created_at: Set(Utc::now()),
    };
    webhooks::Entity::insert(row).exec_with_returning(db).await?.try_into()
}

/// The team's webhooks, oldest first.
pub async fn list(db: &impl ConnectionTrait, scope: TeamScope) -> StoreResult<Vec<Webhook>> {
    of_team(scope).order_by_asc(webhooks::Column::CreatedAt).all(db).await?.into_iter().map(Webhook::try_from).collect()
}

pub async fn get(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<Webhook> {
    of_team(scope).filter(webhooks::Column::Id.eq(id)).one(db).await?.ok_or(StoreError::NotFound)?.try_into()
}

/// Deletes a webhook (its deliveries' log with it); whether it existed.
pub async fn delete(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<bool> {
    let result = webhooks::Entity::delete_many()
        .filter(webhooks::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(webhooks::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The team's active webhooks that want `event`.
pub async fn subscribed(db: &impl ConnectionTrait, scope: TeamScope, event: &str) -> StoreResult<Vec<Webhook>> {
    Ok(list(db, scope).await?.into_iter().filter(|w| w.active && w.events.iter().any(|e| e == event)).collect())
}

/// One attempt to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub outbox_id: Uuid,
    pub event: String,
    /// 1 for the first attempt.
    pub attempt: i32,
    /// The receiver's answer, when it answered.
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub attempted_at: DateTime<Utc>,
}

pub async fn record_delivery(db: &impl ConnectionTrait, scope: TeamScope, delivery: &Delivery) -> StoreResult<()> {
    let row = deliveries::ActiveModel {
        id: Set(delivery.id),
        team_id: Set(scope.team_id().as_uuid()),
        webhook_id: Set(delivery.webhook_id),
        outbox_id: Set(delivery.outbox_id),
        event: Set(delivery.event.clone()),
        attempt: Set(delivery.attempt),
        status_code: Set(delivery.status_code.map(i32::from)),
        error: Set(delivery.error.clone()),
        duration_ms: Set(delivery.duration_ms),
        attempted_at: Set(delivery.attempted_at),
    };
    deliveries::Entity::insert(row).exec_without_returning(db).await?;
    Ok(())
}

/// A webhook's latest deliveries, newest first.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    webhook_id: Uuid,
    limit: u64,
) -> StoreResult<Vec<Delivery>> {
    Ok(deliveries::Entity::find()
        .filter(deliveries::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(deliveries::Column::WebhookId.eq(webhook_id))
        .order_by_desc(deliveries::Column::AttemptedAt)
        .order_by_desc(deliveries::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|row| Delivery {
            id: row.id,
            webhook_id: row.webhook_id,
            outbox_id: row.outbox_id,
            event: row.event,
            attempt: row.attempt,
            status_code: row.status_code.and_then(|c| u16::try_from(c).ok()),
            error: row.error,
            duration_ms: row.duration_ms,
            attempted_at: row.attempted_at,
        })
        .collect())
}

//! The outbox: mail and webhook calls a change causes, written in the
//! change's own transaction (none is sent for a change rolled back, none
//! lost when the process dies after committing), then delivered by a
//! worker. A worker claims a batch with one UPDATE over the rows that
//! wait; on PostgreSQL its inner SELECT takes them `FOR UPDATE SKIP
//! LOCKED`, so workers of several processes take disjoint batches without
//! waiting on each other; SQLite runs one writer at a time. A claim is a
//! lease: a worker that dies mid-batch leaves its rows to another once
//! the lease ends.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;
use vulntrack_domain::TeamId;

use crate::{
    entity::outbox,
    error::{StoreError, StoreResult},
    scope::TeamScope,
};

/// How a message leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// To a member (`target_id`), by mail.
    Email,
    /// To a team's webhook (`target_id`).
    Webhook,
}

impl Channel {
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub channel: Channel,
    pub target_id: Uuid,
    pub event: String,
    pub payload: serde_json::Value,
}

/// A message as a worker holds it.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: Uuid,
    pub scope: TeamScope,
    pub channel: Channel,
    pub target_id: Uuid,
    pub event: String,
    pub payload: serde_json::Value,
    /// Attempts made before this one.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<outbox::Model> for Message {
    type Error = StoreError;

    fn try_from(row: outbox::Model) -> StoreResult<Self> {
        let channel = match row.channel.as_str() {
            "email" => Channel::Email,
            "webhook" => Channel::Webhook,
            other => return Err(StoreError::Corrupt(format!("outbox channel {other}"))),
        };
        Ok(Self {
            id: row.id,
            scope: TeamScope::new(TeamId::from_uuid(row.team_id)),
            channel,
            target_id: row.target_id,
            event: row.event,
            payload: serde_json::from_str(&row.payload)
                .map_err(|e| StoreError::Corrupt(format!("outbox payload: {e}")))?,
            attempts: row.attempts,
            created_at: row.created_at,
        })
    }
}

/// Queues `messages` (in the caller's transaction).
pub async fn enqueue(db: &impl ConnectionTrait, scope: TeamScope, messages: Vec<NewMessage>) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows: Vec<outbox::ActiveModel> = messages
        .into_iter()
        .map(|m| outbox::ActiveModel {
            id: Set(Uuid::now_v7()),
            team_id: Set(scope.team_id().as_uuid()),
            channel: Set(m.channel.as_str().to_owned()),
            target_id: Set(m.target_id),
            event: Set(m.event),
            payload: Set(m.payload.to_string()),
            created_at: Set(now),
            available_at: Set(now),
            attempts: Set(0),
            locked_by: Set(None),
            locked_until: Set(None),
            delivered_at: Set(None),
            failed_at: Set(None),
            last_error: Set(None),
        })
        .collect();
    crate::bulk::insert(db, rows, None, None).await
}

/// Claims for `node`, until `lease_until`, at most `limit` messages due at
/// `now` that nobody holds.
pub async fn claim(
    db: &impl ConnectionTrait,
    node: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> StoreResult<Vec<Message>> {
    let backend = db.get_database_backend();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE outbox SET locked_by = $1, locked_until = $2 WHERE id IN (\
               SELECT id FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL AND available_at <= $3 \
               AND (locked_until IS NULL OR locked_until < $3) ORDER BY available_at LIMIT $4 \
               FOR UPDATE SKIP LOCKED) RETURNING *"
        }
        _ => {
            "UPDATE outbox SET locked_by = ?, locked_until = ? WHERE id IN (\
               SELECT id FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL AND available_at <= ? \
               AND (locked_until IS NULL OR locked_until < ?) ORDER BY available_at LIMIT ?) RETURNING *"
        }
    };
    let values: Vec<sea_orm::Value> = match backend {
        DbBackend::Postgres => vec![node.into(), lease_until.into(), now.into(), limit.into()],
        _ => vec![node.into(), lease_until.into(), now.into(), now.into(), limit.into()],
    };
    let rows =
        outbox::Entity::find().from_raw_sql(Statement::from_sql_and_values(backend, sql, values)).all(db).await?;
    let mut messages: Vec<Message> = rows.into_iter().map(Message::try_from).collect::<StoreResult<_>>()?;
    messages.sort_by_key(|m| m.created_at);
    Ok(messages)
}

/// Marks `node`'s message delivered; whether it still held it.
pub async fn delivered(db: &impl ConnectionTrait, id: Uuid, node: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    let result = outbox::Entity::update_many()
        .col_expr(outbox::Column::DeliveredAt, Expr::value(now))
        .col_expr(outbox::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::LockedBy.eq(node))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records a failed attempt of `node`'s message: tried again at `retry_at`,
/// or given up when that is `None`.
pub async fn attempt_failed(
    db: &impl ConnectionTrait,
    id: Uuid,
    node: &str,
    now: DateTime<Utc>,
    retry_at: Option<DateTime<Utc>>,
    error: &str,
) -> StoreResult<()> {
    let mut update = outbox::Entity::update_many()
        .col_expr(outbox::Column::LastError, Expr::value(error))
        .col_expr(outbox::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1));
    update = match retry_at {
        Some(at) => update.col_expr(outbox::Column::AvailableAt, Expr::value(at)),
        None => update.col_expr(outbox::Column::FailedAt, Expr::value(now)),
    };
    update.filter(outbox::Column::Id.eq(id)).filter(outbox::Column::LockedBy.eq(node)).exec(db).await?;
    Ok(())
}

/// How many messages still wait (delivered or given up ones aside).
pub async fn waiting(db: &impl ConnectionTrait) -> StoreResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(outbox::Entity::find()
        .filter(outbox::Column::DeliveredAt.is_null())
        .filter(outbox::Column::FailedAt.is_null())
        .count(db)
        .await?)
}

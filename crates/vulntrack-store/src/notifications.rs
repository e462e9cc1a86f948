//! In-app notifications: assignment, comments and status changes on the
//! vulnerabilities a person reports or is assigned.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use uuid::Uuid;
use vulntrack_domain::{
    UserId,
    notification_prefs::{Delivery, Preferences},
};

use crate::{
    entity::{notifications, users},
    error::StoreResult,
    outbox::{Channel, NewMessage},
    scope::TeamScope,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: Uuid,
    pub user_id: UserId,
    pub vulnerability_id: Option<Uuid>,
    pub kind: String,
    pub message: String,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<notifications::Model> for Notification {
    fn from(row: notifications::Model) -> Self {
        Self {
            id: row.id,
            user_id: UserId::from_uuid(row.user_id),
            vulnerability_id: row.vulnerability_id,
            kind: row.kind,
            message: row.message,
            read_at: row.read_at,
            created_at: row.created_at,
        }
    }
}

/// Notifies each recipient once (duplicates collapse), as each chose for
/// this kind: listed in the product, also mailed (an outbox message in the
/// same transaction), or not at all.
pub async fn notify(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    recipients: &[UserId],
    vulnerability_id: Option<Uuid>,
    kind: &str,
    message: &str,
) -> StoreResult<()> {
    let mut unique: Vec<UserId> = recipients.to_vec();
    unique.sort();
    unique.dedup();
    if unique.is_empty() {
        return Ok(());
    }
    let choices: Vec<(Uuid, Option<String>)> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::NotificationSettings)
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::Id.is_in(unique.iter().map(|u| u.as_uuid())))
        .filter(users::Column::DeletedAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    let now = Utc::now();
    let message: String = message.chars().take(500).collect();
    let mut rows = Vec::new();
    let mut mails = Vec::new();
    for (user, stored) in choices {
        let delivery = Preferences::from_stored(stored.as_deref()).delivery(kind);
        if delivery == Delivery::Off {
            continue;
        }
        rows.push(notifications::ActiveModel {
            id: Set(Uuid::now_v7()),
            team_id: Set(scope.team_id().as_uuid()),
            user_id: Set(user),
            vulnerability_id: Set(vulnerability_id),
            kind: Set(kind.to_string()),
            message: Set(message.clone()),
            read_at: Set(None),
            created_at: Set(now),
        });
        if delivery == Delivery::Email {
            mails.push(NewMessage {
                channel: Channel::Email,
                target_id: user,
                event: kind.to_owned(),
                payload: serde_json::json!({ "message": message, "vulnerability_id": vulnerability_id }),
            });
        }
    }
    if !rows.is_empty() {
        notifications::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    crate::outbox::enqueue(db, scope, mails).await
}

/// The user's notifications, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user: UserId,
    unread_only: bool,
    limit: u64,
) -> StoreResult<Vec<Notification>> {
    let mut query = notifications::Entity::find()
        .filter(notifications::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(notifications::Column::UserId.eq(user.as_uuid()));
    if unread_only {
        query = query.filter(notifications::Column::ReadAt.is_null());
    }
    Ok(query
        .order_by_desc(notifications::Column::CreatedAt)
        .order_by_desc(notifications::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Notification::from)
        .collect())
}

/// The user's unread notifications created after `since`, oldest first.
pub async fn unread_since(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user: UserId,
    since: DateTime<Utc>,
    limit: u64,
) -> StoreResult<Vec<Notification>> {
    Ok(notifications::Entity::find()
        .filter(notifications::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(notifications::Column::UserId.eq(user.as_uuid()))
        .filter(notifications::Column::ReadAt.is_null())
        .filter(notifications::Column::CreatedAt.gt(since))
        .order_by_asc(notifications::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Notification::from)
        .collect())
}

pub async fn unread_count(db: &impl ConnectionTrait, scope: TeamScope, user: UserId) -> StoreResult<u64> {
    Ok(notifications::Entity::find()
        .filter(notifications::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(notifications::Column::UserId.eq(user.as_uuid()))
        .filter(notifications::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// Marks one of the user's notifications read; false if there is none.
pub async fn mark_read(db: &impl ConnectionTrait, scope: TeamScope, user: UserId, id: Uuid) -> StoreResult<bool> {
    let found = notifications::Entity::find_by_id(id)
        .filter(notifications::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(notifications::Column::UserId.eq(user.as_uuid()))
        .one(db)
        .await?
        .is_some();
    if found {
        notifications::Entity::update_many()
            .col_expr(notifications::Column::ReadAt, Expr::value(Utc::now()))
            .filter(notifications::Column::Id.eq(id))
            .filter(notifications::Column::ReadAt.is_null())
            .exec(db)
            .await?;
    }
    Ok(found)
}

/// Marks read the user's notifications about one vulnerability (they
/// opened it); returns how many were unread.
pub async fn mark_read_about(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user: UserId,
    vulnerability: Uuid,
) -> StoreResult<u64> {
    Ok(notifications::Entity::update_many()
        .col_expr(notifications::Column::ReadAt, Expr::value(Utc::now()))
        .filter(notifications::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(notifications::Column::UserId.eq(user.as_uuid()))
        .filter(notifications::Column::VulnerabilityId.eq(vulnerability))
        .filter(notifications::Column::ReadAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn mark_all_read(db: &impl ConnectionTrait, scope: TeamScope, user: UserId) -> StoreResult<u64> {
    Ok(notifications::Entity::update_many()
        .col_expr(notifications::Column::ReadAt, Expr::value(Utc::now()))
        .filter(notifications::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(notifications::Column::UserId.eq(user.as_uuid()))
        .filter(notifications::Column::ReadAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

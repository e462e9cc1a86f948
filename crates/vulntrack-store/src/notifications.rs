//! In-app notifications: assignment, comments and status changes on the
//! vulnerabilities a person reports or is assigned.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use uuid::Uuid;
use vulntrack_domain::UserId;

use crate::{entity::notifications, error::StoreResult, scope::TeamScope};

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

/// Notifies each recipient once (duplicates collapse).
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
    let now = Utc::now();
    let message: String = message.chars().take(500).collect();
    let rows = unique.into_iter().map(|user| notifications::ActiveModel {
        id: Set(Uuid::now_v7()),
        team_id: Set(scope.team_id().as_uuid()),
        user_id: Set(user.as_uuid()),
        vulnerability_id: Set(vulnerability_id),
        kind: Set(kind.to_string()),
        message: Set(message.clone()),
        read_at: Set(None),
        created_at: Set(now),
    });
    notifications::Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(())
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

//! Discussion on a vulnerability.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr};
use uuid::Uuid;
use vulntrack_domain::{TeamId, UserId};

use crate::{
    entity::comments,
    error::{StoreError, StoreResult},
    scope::TeamScope,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: Uuid,
    pub team_id: TeamId,
    pub vulnerability_id: Uuid,
    pub author_id: UserId,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every edit; the `ETag` that `If-Match` is checked against.
    pub version: i64,
}

impl From<comments::Model> for Comment {
    fn from(row: comments::Model) -> Self {
        Self {
            id: row.id,
            team_id: TeamId::from_uuid(row.team_id),
            vulnerability_id: row.vulnerability_id,
            author_id: UserId::from_uuid(row.author_id),
            body: row.body,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        }
    }
}

pub async fn create(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    vulnerability_id: Uuid,
    author: UserId,
    body: &str,
) -> StoreResult<Comment> {
    let now = Utc::now();
    let row = comments::ActiveModel {
        id: Set(Uuid::now_v7()),
        team_id: Set(scope.team_id().as_uuid()),
        vulnerability_id: Set(vulnerability_id),
        author_id: Set(author.as_uuid()),
        body: Set(body.to_string()),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    };
    Ok(comments::Entity::insert(row).exec_with_returning(db).await?.into())
}

/// The comments on one of the team's vulnerabilities, oldest first.
pub async fn list_for(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    vulnerability_id: Uuid,
) -> StoreResult<Vec<Comment>> {
    Ok(comments::Entity::find()
        .filter(comments::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(comments::Column::VulnerabilityId.eq(vulnerability_id))
        .order_by_asc(comments::Column::CreatedAt)
        .order_by_asc(comments::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Comment::from)
        .collect())
}

pub async fn get(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<Comment> {
    comments::Entity::find_by_id(id)
        .filter(comments::Column::TeamId.eq(scope.team_id().as_uuid()))
        .one(db)
        .await?
        .map(Comment::from)
        .ok_or(StoreError::NotFound)
}

/// Like [`get`], inside a write transaction, holding the row until it ends
/// (`FOR UPDATE` on PostgreSQL; SQLite's write transaction holds the lock).
pub async fn get_for_update(txn: &sea_orm::DatabaseTransaction, scope: TeamScope, id: Uuid) -> StoreResult<Comment> {
    use sea_orm::QuerySelect;
    comments::Entity::find_by_id(id)
        .filter(comments::Column::TeamId.eq(scope.team_id().as_uuid()))
        .lock_exclusive()
        .one(txn)
        .await?
        .map(Comment::from)
        .ok_or(StoreError::NotFound)
}

/// Replaces the body and bumps the version; `Stale` if `current` is no
/// longer the stored version.
pub async fn update_body(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    current: &Comment,
    body: &str,
) -> StoreResult<Comment> {
    let result = comments::Entity::update_many()
        .col_expr(comments::Column::Body, Expr::value(body))
        .col_expr(comments::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(comments::Column::Version, Expr::value(current.version + 1))
        .filter(comments::Column::Id.eq(current.id))
        .filter(comments::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(comments::Column::Version.eq(current.version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::Stale);
    }
    get(db, scope, current.id).await
}

pub async fn delete(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<bool> {
    let result = comments::Entity::delete_many()
        .filter(comments::Column::Id.eq(id))
        .filter(comments::Column::TeamId.eq(scope.team_id().as_uuid()))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

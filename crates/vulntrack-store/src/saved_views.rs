//! Saved views of the vulnerability list. A view belongs to its owner and,
//! when shared, is listed for every member of the team.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;
use vulntrack_domain::UserId;

use crate::{
    entity::saved_views,
    error::{StoreError, StoreResult},
    scope::TeamScope,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedView {
    pub id: Uuid,
    pub owner_id: UserId,
    pub name: String,
    /// The list's query string: filters, sort and columns, no cursor.
    pub query: String,
    pub shared: bool,
    pub created_at: DateTime<Utc>,
}

impl From<saved_views::Model> for SavedView {
    fn from(row: saved_views::Model) -> Self {
        Self {
            id: row.id,
            owner_id: UserId::from_uuid(row.owner_id),
            name: row.name,
            query: row.query,
            shared: row.shared,
            created_at: row.created_at,
        }
    }
}

/// Saves a view; a second view of the same name by the same owner is a
/// conflict.
pub async fn create(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    owner: UserId,
    name: &str,
    query: &str,
    shared: bool,
) -> StoreResult<SavedView> {
    let row = saved_views::ActiveModel {
        id: Set(Uuid::now_v7()),
        team_id: Set(scope.team_id().as_uuid()),
        owner_id: Set(owner.as_uuid()),
        name: Set(name.to_string()),
        query: Set(query.to_string()),
        shared: Set(shared),
        created_at: Set(Utc::now()),
    };
    saved_views::Entity::insert(row)
        .exec_with_returning(db)
        .await
        .map(SavedView::from)
        .map_err(|e| StoreError::conflict_on_unique(e, "a view of yours with this name"))
}

/// The views `user` sees: their own and the team's shared ones, by name.
pub async fn visible_to(db: &impl ConnectionTrait, scope: TeamScope, user: UserId) -> StoreResult<Vec<SavedView>> {
    Ok(saved_views::Entity::find()
        .filter(saved_views::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(
            Condition::any()
                .add(saved_views::Column::OwnerId.eq(user.as_uuid()))
                .add(saved_views::Column::Shared.eq(true)),
        )
        .order_by_asc(saved_views::Column::Name)
        .order_by_asc(saved_views::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(SavedView::from)
        .collect())
}

/// One of the team's views; another team's is `NotFound`.
pub async fn get(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<SavedView> {
    saved_views::Entity::find_by_id(id)
        .filter(saved_views::Column::TeamId.eq(scope.team_id().as_uuid()))
        .one(db)
        .await?
        .map(SavedView::from)
        .ok_or(StoreError::NotFound)
}

pub async fn delete(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<bool> {
    let result = saved_views::Entity::delete_many()
        .filter(saved_views::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(saved_views::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

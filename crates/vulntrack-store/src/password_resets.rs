//! Single-use password reset tokens, stored hashed.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;
use vulntrack_domain::{TeamId, UserId};

use crate::{entity::password_resets, error::StoreResult, scope::TeamScope};

#[derive(Debug, Clone, PartialEq, Eq)]
// Built only by the store: its `scope()` vouches for the team.
#[non_exhaustive]
pub struct PasswordReset {
    pub id: Uuid,
    pub team_id: TeamId,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
}

impl PasswordReset {
    pub fn scope(&self) -> TeamScope {
        TeamScope::new(self.team_id)
    }
}

impl From<password_resets::Model> for PasswordReset {
    fn from(row: password_resets::Model) -> Self {
        Self {
            id: row.id,
            team_id: TeamId::from_uuid(row.team_id),
            user_id: UserId::from_uuid(row.user_id),
            expires_at: row.expires_at,
        }
    }
}

pub async fn create(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user_id: UserId,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> StoreResult<PasswordReset> {
    let row = password_resets::ActiveModel {
        id: Set(Uuid::now_v7()),
        team_id: Set(scope.team_id().as_uuid()),
        user_id: Set(user_id.as_uuid()),
        token_hash: Set(token_hash.to_string()),
        expires_at: Set(expires_at),
        used_at: Set(None),
        created_at: Set(Utc::now()),
    };
    Ok(password_resets::Entity::insert(row).exec_with_returning(db).await?.into())
}

/// The unexpired, unused reset with this token hash, without claiming it.
pub async fn find_valid(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<PasswordReset>> {
    Ok(password_resets::Entity::find()
        .filter(password_resets::Column::TokenHash.eq(token_hash))
        .filter(password_resets::Column::UsedAt.is_null())
        .filter(password_resets::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .map(PasswordReset::from))
}

/// Claims the unexpired, unused reset with this token hash (single use,
/// also under concurrent attempts). Unscoped: the token is the credential.
pub async fn claim(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<PasswordReset>> {
    let Some(row) = password_resets::Entity::find()
        .filter(password_resets::Column::TokenHash.eq(token_hash))
        .filter(password_resets::Column::UsedAt.is_null())
        .filter(password_resets::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let claimed = password_resets::Entity::update_many()
        .col_expr(password_resets::Column::UsedAt, Expr::value(now))
        .filter(password_resets::Column::Id.eq(row.id))
        .filter(password_resets::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok((claimed.rows_affected > 0).then(|| row.into()))
}

/// Voids every outstanding reset link of the user: a newer link, a used
/// one or a new password makes the older ones worthless. Returns how many.
pub async fn void_all_for_user(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user_id: UserId,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(password_resets::Entity::update_many()
        .col_expr(password_resets::Column::UsedAt, Expr::value(now))
        .filter(password_resets::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(password_resets::Column::UserId.eq(user_id.as_uuid()))
        .filter(password_resets::Column::UsedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

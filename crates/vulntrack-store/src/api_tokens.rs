//! Personal API tokens. Only a SHA-256 hash of each token is stored; the
//! token itself is shown once, when it is created.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr,
};
use uuid::Uuid;
use vulntrack_domain::{TeamId, UserId};

use crate::{entity::api_tokens, error::StoreResult, scope::TeamScope};

#[derive(Debug, Clone, PartialEq, Eq)]
// Built only by the store: its `scope()` vouches for the team.
#[non_exhaustive]
pub struct ApiToken {
    pub id: Uuid,
    pub team_id: TeamId,
    pub user_id: UserId,
    pub name: String,
    /// The first characters of the token, so a person can tell tokens apart.
    pub prefix: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl ApiToken {
    /// The team of the token's owner.
    pub fn scope(&self) -> TeamScope {
        TeamScope::new(self.team_id)
    }
}

impl From<api_tokens::Model> for ApiToken {
    fn from(row: api_tokens::Model) -> Self {
        Self {
            id: row.id,
            team_id: TeamId::from_uuid(row.team_id),
            user_id: UserId::from_uuid(row.user_id),
            name: row.name,
            prefix: row.token_prefix,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewApiToken<'a> {
    pub user_id: UserId,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub prefix: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn create(db: &impl ConnectionTrait, scope: TeamScope, new: NewApiToken<'_>) -> StoreResult<ApiToken> {
    let row = api_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        team_id: Set(scope.team_id().as_uuid()),
        user_id: Set(new.user_id.as_uuid()),
        name: Set(new.name.to_string()),
        token_hash: Set(new.token_hash.to_string()),
        token_prefix: Set(new.prefix.to_string()),
        expires_at: Set(new.expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(Utc::now()),
    };
    Ok(api_tokens::Entity::insert(row).exec_with_returning(db).await?.into())
}

/// Live: not revoked and not expired. Every token has an expiry (migration
/// 8 gave one to tokens made before it was required).
fn live(now: DateTime<Utc>) -> Condition {
    Condition::all().add(api_tokens::Column::RevokedAt.is_null()).add(api_tokens::Column::ExpiresAt.gt(now))
}

/// The live token with this hash. Unscoped: the token is the credential
/// that establishes the team.
pub async fn find_live_by_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<ApiToken>> {
    Ok(api_tokens::Entity::find()
        .filter(api_tokens::Column::TokenHash.eq(token_hash))
        .filter(live(now))
        .one(db)
        .await?
        .map(ApiToken::from))
}

/// Records the token's use (within its team, like every tenant write).
pub async fn touch(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
    api_tokens::Entity::update_many()
        .col_expr(api_tokens::Column::LastUsedAt, Expr::value(now))
        .filter(api_tokens::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(api_tokens::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Live tokens of the team (of one member, if given), newest first.
async fn live_of_team(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user_id: Option<UserId>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<ApiToken>> {
    let mut select = api_tokens::Entity::find().filter(api_tokens::Column::TeamId.eq(scope.team_id().as_uuid()));
    if let Some(user_id) = user_id {
        select = select.filter(api_tokens::Column::UserId.eq(user_id.as_uuid()));
    }
    Ok(select
        .filter(live(now))
        .order_by_desc(api_tokens::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(ApiToken::from)
        .collect())
}

/// The user's live tokens, newest first.
pub async fn list_live(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user_id: UserId,
    now: DateTime<Utc>,
) -> StoreResult<Vec<ApiToken>> {
    live_of_team(db, scope, Some(user_id), now).await
}

/// Every live token of the team, newest first (the ADMIN's overview).
pub async fn list_live_for_team(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    now: DateTime<Utc>,
) -> StoreResult<Vec<ApiToken>> {
    live_of_team(db, scope, None, now).await
}

/// Revokes one of the user's tokens; false when there is no such live token.
pub async fn revoke(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user_id: UserId,
    id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = api_tokens::Entity::update_many()
        .col_expr(api_tokens::Column::RevokedAt, Expr::value(now))
        .filter(api_tokens::Column::Id.eq(id))
        .filter(api_tokens::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(api_tokens::Column::UserId.eq(user_id.as_uuid()))
        .filter(api_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Revokes every live token of the user.
pub async fn revoke_all(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user_id: UserId,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(api_tokens::Entity::update_many()
        .col_expr(api_tokens::Column::RevokedAt, Expr::value(now))
        .filter(api_tokens::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(api_tokens::Column::UserId.eq(user_id.as_uuid()))
        .filter(api_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Revokes every live token of every team (operator path, as
/// [`crate::sessions::revoke_every_session`]).
pub(crate) async fn revoke_every_token(db: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(api_tokens::Entity::update_many()
        .col_expr(api_tokens::Column::RevokedAt, Expr::value(now))
        .filter(api_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

//! Invitations to join a team. The token is stored hashed and works once.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr};
use uuid::Uuid;
use vulntrack_domain::{Role, TeamId, UserId, normalize_email};

use crate::{
    entity::invitations,
    error::{StoreError, StoreResult},
    scope::TeamScope,
};

#[derive(Debug, Clone, PartialEq, Eq)]
// Built only by the store: its `scope()` vouches for the team.
#[non_exhaustive]
pub struct Invitation {
    pub id: Uuid,
    pub team_id: TeamId,
    pub email: String,
    pub role: Role,
    pub invited_by: UserId,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Invitation {
    /// The scope of the inviting team, which the new user joins.
    pub fn scope(&self) -> TeamScope {
        TeamScope::new(self.team_id)
    }
}

impl TryFrom<invitations::Model> for Invitation {
    type Error = StoreError;

    fn try_from(row: invitations::Model) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.id,
            team_id: TeamId::from_uuid(row.team_id),
            role: row
                .role
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("invitation {} has role {:?}", row.id, row.role)))?,
            email: row.email,
            invited_by: UserId::from_uuid(row.invited_by),
            expires_at: row.expires_at,
            accepted_at: row.accepted_at,
            created_at: row.created_at,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewInvitation<'a> {
    pub email: &'a str,
    pub role: Role,
    pub token_hash: &'a str,
    pub invited_by: UserId,
    pub expires_at: DateTime<Utc>,
}

pub async fn create(db: &impl ConnectionTrait, scope: TeamScope, new: NewInvitation<'_>) -> StoreResult<Invitation> {
    let row = invitations::ActiveModel {
        id: Set(Uuid::now_v7()),
        team_id: Set(scope.team_id().as_uuid()),
        email: Set(new.email.to_string()),
        email_normalized: Set(normalize_email(new.email)),
        role: Set(new.role.as_str().to_string()),
        token_hash: Set(new.token_hash.to_string()),
        invited_by: Set(new.invited_by.as_uuid()),
        expires_at: Set(new.expires_at),
        accepted_at: Set(None),
        created_at: Set(Utc::now()),
    };
    invitations::Entity::insert(row).exec_with_returning(db).await?.try_into()
}

/// The team's invitations not yet accepted, newest first.
pub async fn list_pending(db: &impl ConnectionTrait, scope: TeamScope) -> StoreResult<Vec<Invitation>> {
    invitations::Entity::find()
        .filter(invitations::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(invitations::Column::AcceptedAt.is_null())
        .order_by_desc(invitations::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(Invitation::try_from)
        .collect()
}

/// Deletes a pending invitation of the team; false if there is none.
pub async fn delete_pending(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<Option<Invitation>> {
    let Some(row) = invitations::Entity::find_by_id(id)
        .filter(invitations::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(invitations::Column::AcceptedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    invitations::Entity::delete_by_id(id).exec(db).await?;
    row.try_into().map(Some)
}

/// The unexpired, unaccepted invitation with this token hash, without
/// claiming it. Unscoped: the token establishes the team.
pub async fn find_valid(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<Invitation>> {
    invitations::Entity::find()
        .filter(invitations::Column::TokenHash.eq(token_hash))
        .filter(invitations::Column::AcceptedAt.is_null())
        .filter(invitations::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .map(Invitation::try_from)
        .transpose()
}

/// Claims the unexpired, unaccepted invitation with this token hash, marking
/// it accepted. The conditional update makes the claim single-use even
/// under concurrent attempts. Unscoped: the token establishes the team.
pub async fn claim(db: &impl ConnectionTrait, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Invitation>> {
    let Some(row) = invitations::Entity::find()
        .filter(invitations::Column::TokenHash.eq(token_hash))
        .filter(invitations::Column::AcceptedAt.is_null())
        .filter(invitations::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let claimed = invitations::Entity::update_many()
        .col_expr(invitations::Column::AcceptedAt, Expr::value(now))
        .filter(invitations::Column::Id.eq(row.id))
        .filter(invitations::Column::AcceptedAt.is_null())
        .exec(db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(None);
    }
    Invitation::try_from(row).map(|mut invitation| {
        invitation.accepted_at = Some(now);
        Some(invitation)
    })
}

//! Server-side session records. The signed cookie only names a session;
//! this row decides whether it is still good, so logout, "sign out
//! everywhere", deactivation and password changes take effect at once.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr};
use uuid::Uuid;
use vulntrack_domain::{TeamId, UserId};

use crate::{entity::sessions, error::StoreResult, scope::TeamScope};

/// How stale `last_seen_at` may get before a request refreshes it: one
/// write a minute per session at most, not one per request.
pub const TOUCH_INTERVAL: Duration = Duration::seconds(60);

#[derive(Debug, Clone, PartialEq, Eq)]
// Built only by the store: its `scope()` vouches for the team.
#[non_exhaustive]
pub struct Session {
    pub id: Uuid,
    pub team_id: TeamId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Session {
    /// The team the session was opened in.
    pub fn scope(&self) -> TeamScope {
        TeamScope::new(self.team_id)
    }
}

impl From<sessions::Model> for Session {
    fn from(row: sessions::Model) -> Self {
        Self {
            id: row.id,
            team_id: TeamId::from_uuid(row.team_id),
            user_id: UserId::from_uuid(row.user_id),
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            expires_at: row.expires_at,
            ip: row.ip,
            user_agent: row.user_agent,
        }
    }
}

fn truncate(value: Option<&str>, max: usize) -> Option<String> {
    value.map(|v| v.chars().take(max).collect())
}

pub async fn create(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user_id: UserId,
    expires_at: DateTime<Utc>,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> StoreResult<Session> {
    let now = Utc::now();
    let row = sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        team_id: Set(scope.team_id().as_uuid()),
        user_id: Set(user_id.as_uuid()),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        ip: Set(truncate(ip, 45)),
        user_agent: Set(truncate(user_agent, 512)),
    };
    Ok(sessions::Entity::insert(row).exec_with_returning(db).await?.into())
}

/// A session that is neither revoked nor expired. Unscoped: the id comes
/// from a cookie whose signature was verified, and the session is what
/// establishes the team.
pub async fn find_live(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> StoreResult<Option<Session>> {
    Ok(sessions::Entity::find_by_id(id)
        .filter(sessions::Column::RevokedAt.is_null())
        .filter(sessions::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .map(Session::from))
}

/// Records activity if the last record is older than [`TOUCH_INTERVAL`].
/// Scoped to the session's own team, like every tenant write.
pub async fn touch(db: &impl ConnectionTrait, session: &Session, now: DateTime<Utc>) -> StoreResult<()> {
    if now - session.last_seen_at < TOUCH_INTERVAL {
        return Ok(());
    }
    sessions::Entity::update_many()
        .col_expr(sessions::Column::LastSeenAt, Expr::value(now))
        .filter(sessions::Column::TeamId.eq(session.scope().team_id().as_uuid()))
        .filter(sessions::Column::Id.eq(session.id))
        .exec(db)
        .await?;
    Ok(())
}

/// The user's live sessions, newest first.
pub async fn list_live(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user_id: UserId,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Session>> {
    Ok(sessions::Entity::find()
        .filter(sessions::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(sessions::Column::UserId.eq(user_id.as_uuid()))
        .filter(sessions::Column::RevokedAt.is_null())
        .filter(sessions::Column::ExpiresAt.gt(now))
        .order_by_desc(sessions::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(Session::from)
        .collect())
}

/// Revokes one of the user's live sessions; false when there is no such
/// session for this user (another user's session id included).
pub async fn revoke(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user_id: UserId,
    id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(now))
        .filter(sessions::Column::Id.eq(id))
        .filter(sessions::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(sessions::Column::UserId.eq(user_id.as_uuid()))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Revokes every live session of the user except `keep`; returns how many.
pub async fn revoke_all(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user_id: UserId,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut update = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(now))
        .filter(sessions::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(sessions::Column::UserId.eq(user_id.as_uuid()))
        .filter(sessions::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(sessions::Column::Id.ne(keep));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// Revokes every live session of every team (the operator's "sign
/// everyone out", after a suspected compromise). Unscoped on purpose: only
/// the command line reaches it.
pub(crate) async fn revoke_every_session(db: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(now))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Shortens every live session of the team that would outlive
/// `created_at + lifetime` to end then (a team choosing a shorter session
/// lifetime caps the sessions already open, not only new ones). Returns how
/// many were shortened.
pub async fn cap_lifetime(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    lifetime: chrono::Duration,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let live = sessions::Entity::find()
        .filter(sessions::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(sessions::Column::RevokedAt.is_null())
        .filter(sessions::Column::ExpiresAt.gt(now))
        .all(db)
        .await?;
    let mut shortened = 0;
    for session in live {
        let cap = session.created_at + lifetime;
        if cap < session.expires_at {
            sessions::Entity::update_many()
                .col_expr(sessions::Column::ExpiresAt, Expr::value(cap))
                .filter(sessions::Column::Id.eq(session.id))
                .exec(db)
                .await?;
            shortened += 1;
        }
    }
    Ok(shortened)
}

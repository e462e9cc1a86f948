//! Users: every query is scoped to a team except the sign-in look-up by
//! email, which is what establishes the scope in the first place.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use vulntrack_domain::{Role, TeamId, UserId, UserStatus, normalize_email};

use crate::{
    entity::users,
    error::{StoreError, StoreResult},
    scope::TeamScope,
};

/// A user as the rest of the application sees it: typed, and without the
/// password hash, which only the sign-in path reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub team_id: TeamId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub status: UserStatus,
    pub phone: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub bio: Option<String>,
    pub is_onboarded: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// The scope this user acts in: their own team.
    pub fn scope(&self) -> TeamScope {
        TeamScope::new(self.team_id)
    }
}

impl TryFrom<users::Model> for User {
    type Error = StoreError;

    fn try_from(row: users::Model) -> Result<Self, Self::Error> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Corrupt(format!("user {} has {what} {value:?}", row.id))
        };
        Ok(Self {
            id: UserId::from_uuid(row.id),
            team_id: TeamId::from_uuid(row.team_id),
            role: row.role.parse().map_err(|_| corrupt("role", &row.role))?,
            status: row
                .status
                .parse()
                .map_err(|_| corrupt("status", &row.status))?,
            email: row.email,
            name: row.name,
            phone: row.phone,
            job_title: row.job_title,
            department: row.department,
            bio: row.bio,
            is_onboarded: row.is_onboarded,
            last_login_at: row.last_login_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// What it takes to create a user; the password is already hashed.
#[derive(Clone)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
}

impl std::fmt::Debug for NewUser<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Creates a user in the scope's team. An email already used anywhere on
/// the instance (in any letter case) is a `Conflict`.
pub async fn create(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    new: NewUser<'_>,
) -> StoreResult<User> {
    let now = Utc::now();
    let row = users::ActiveModel {
        id: Set(UserId::new().as_uuid()),
        team_id: Set(scope.team_id().as_uuid()),
        email: Set(new.email.to_string()),
        email_normalized: Set(normalize_email(new.email)),
        name: Set(new.name.to_string()),
        password_hash: Set(new.password_hash.to_string()),
        role: Set(new.role.as_str().to_string()),
        status: Set(UserStatus::Active.as_str().to_string()),
        phone: Set(None),
        job_title: Set(None),
        department: Set(None),
        bio: Set(None),
        is_onboarded: Set(false),
        failed_login_count: Set(0),
        failed_login_window_start: Set(None),
        locked_until: Set(None),
        last_login_at: Set(None),
        password_changed_at: Set(now),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    users::Entity::insert(row)
        .exec_with_returning(db)
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "email"))
        .and_then(User::try_from)
}

/// A user of the scope's team; another team's user is `NotFound`.
pub async fn get(db: &impl ConnectionTrait, scope: TeamScope, id: UserId) -> StoreResult<User> {
    users::Entity::find_by_id(id.as_uuid())
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(User::try_from)
}

/// The user with this email in any letter case, with their password hash.
/// This is the sign-in look-up: it is unscoped because it is what finds the
/// team in the first place.
pub async fn find_for_sign_in(
    db: &impl ConnectionTrait,
    email: &str,
) -> StoreResult<Option<(User, String)>> {
    let row = users::Entity::find()
        .filter(users::Column::EmailNormalized.eq(normalize_email(email)))
        .filter(users::Column::DeletedAt.is_null())
        .one(db)
        .await?;
    row.map(|row| {
        let hash = row.password_hash.clone();
        User::try_from(row).map(|user| (user, hash))
    })
    .transpose()
}

/// How many accounts exist on the instance (first-run setup is open only
/// while there are none).
pub async fn count_all(db: &impl ConnectionTrait) -> StoreResult<u64> {
    Ok(users::Entity::find().count(db).await?)
}

//! Users: every query is scoped to a team except the sign-in look-up by
//! email, which is what establishes the scope in the first place.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;
use vulntrack_domain::{Role, TeamId, Theme, UserId, UserStatus, lockout::LoginFailures, normalize_email};

use crate::{
    entity::users,
    error::{StoreError, StoreResult},
    scope::TeamScope,
};

/// A user as the rest of the application sees it: typed, and without the
/// password hash, which only the sign-in path reads.
#[derive(Debug, Clone, PartialEq, Eq)]
// Built only by the store: its `scope()` vouches for the team.
#[non_exhaustive]
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
    pub theme: Theme,
    /// The IANA zone the pages show times in; `None` for the browser's.
    pub time_zone: Option<String>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// Until when sign-in is refused after repeated failures (may be past).
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change to the profile, role or status; the `ETag`
    /// that `If-Match` is checked against.
    pub version: i64,
}

impl User {
    /// The scope this user acts in: their own team.
    pub fn scope(&self) -> TeamScope {
        TeamScope::new(self.team_id)
    }

    /// The end of the lockout in force at `now`, if the account is locked.
    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }
}

impl TryFrom<users::Model> for User {
    type Error = StoreError;

    fn try_from(row: users::Model) -> Result<Self, Self::Error> {
        let corrupt = |what: &str, value: &str| StoreError::Corrupt(format!("user {} has {what} {value:?}", row.id));
        Ok(Self {
            id: UserId::from_uuid(row.id),
            team_id: TeamId::from_uuid(row.team_id),
            role: row.role.parse().map_err(|_| corrupt("role", &row.role))?,
            status: row.status.parse().map_err(|_| corrupt("status", &row.status))?,
            email: row.email,
            name: row.name,
            phone: row.phone,
            job_title: row.job_title,
            department: row.department,
            bio: row.bio,
            is_onboarded: row.is_onboarded,
            theme: row.theme.parse().map_err(|_| corrupt("theme", &row.theme))?,
            time_zone: row.time_zone,
            last_login_at: row.last_login_at,
            locked_until: row.locked_until,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
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
pub async fn create(db: &impl ConnectionTrait, scope: TeamScope, new: NewUser<'_>) -> StoreResult<User> {
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
        theme: Set(Theme::System.as_str().to_string()),
        time_zone: Set(None),
        triage_seen_at: Set(None),
        notification_settings: Set(None),
        digest_sent_at: Set(None),
        failed_login_count: Set(0),
        failed_login_window_start: Set(None),
        locked_until: Set(None),
        last_login_at: Set(None),
        password_changed_at: Set(now),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    };
    users::Entity::insert(row)
        .exec_with_returning(db)
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "email"))
        .and_then(User::try_from)
}

fn of_team(scope: TeamScope, id: UserId) -> sea_orm::Select<users::Entity> {
    users::Entity::find_by_id(id.as_uuid())
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::DeletedAt.is_null())
}

/// A user of the scope's team; another team's user is `NotFound`.
pub async fn get(db: &impl ConnectionTrait, scope: TeamScope, id: UserId) -> StoreResult<User> {
    of_team(scope, id).one(db).await?.ok_or(StoreError::NotFound).and_then(User::try_from)
}

/// Like [`get`], inside a write transaction, holding the row until it ends
/// (`FOR UPDATE` on PostgreSQL; SQLite's write transaction holds the lock).
pub async fn get_for_update(txn: &sea_orm::DatabaseTransaction, scope: TeamScope, id: UserId) -> StoreResult<User> {
    use sea_orm::QuerySelect;
    of_team(scope, id).lock_exclusive().one(txn).await?.ok_or(StoreError::NotFound).and_then(User::try_from)
}

/// What sign-in needs to know about an account.
#[derive(Clone)]
pub struct SignInRecord {
    pub user: User,
    pub password_hash: String,
    pub failures: LoginFailures,
}

impl std::fmt::Debug for SignInRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInRecord")
            .field("user", &self.user)
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

fn sign_in_record(row: users::Model) -> StoreResult<SignInRecord> {
    let password_hash = row.password_hash.clone();
    let failures = LoginFailures {
        count: row.failed_login_count,
        window_start: row.failed_login_window_start,
        locked_until: row.locked_until,
    };
    Ok(SignInRecord { user: User::try_from(row)?, password_hash, failures })
}

/// The account with this email in any letter case. This is the sign-in
/// look-up: it is unscoped because it is what finds the team in the first
/// place.
pub async fn find_for_sign_in(db: &impl ConnectionTrait, email: &str) -> StoreResult<Option<SignInRecord>> {
    users::Entity::find()
        .filter(users::Column::EmailNormalized.eq(normalize_email(email)))
        .filter(users::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .map(sign_in_record)
        .transpose()
}

/// The same record for a known user of the scope (password change).
pub async fn sign_in_record_of(db: &impl ConnectionTrait, scope: TeamScope, id: UserId) -> StoreResult<SignInRecord> {
    users::Entity::find_by_id(id.as_uuid())
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(sign_in_record)
}

/// Locks the account until `until` (the operator's containment step);
/// false when the team has no such user.
pub async fn lock_until(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    id: UserId,
    until: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = users::Entity::update_many()
        .col_expr(users::Column::LockedUntil, Expr::value(until))
        .filter(users::Column::Id.eq(id.as_uuid()))
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The account's failed sign-in bookkeeping, read inside a write
/// transaction with the row held, so concurrent failures count one after
/// another (each sees the others' increments) instead of all writing the
/// same "count read + 1".
pub async fn failures_for_update(
    txn: &sea_orm::DatabaseTransaction,
    scope: TeamScope,
    id: UserId,
) -> StoreResult<LoginFailures> {
    use sea_orm::QuerySelect;
    let row = of_team(scope, id).lock_exclusive().one(txn).await?.ok_or(StoreError::NotFound)?;
    Ok(LoginFailures {
        count: row.failed_login_count,
        window_start: row.failed_login_window_start,
        locked_until: row.locked_until,
    })
}

/// Stores the failed sign-in bookkeeping.
pub async fn record_login_failures(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    id: UserId,
    failures: LoginFailures,
) -> StoreResult<()> {
    users::Entity::update_many()
        .col_expr(users::Column::FailedLoginCount, Expr::value(failures.count))
        .col_expr(users::Column::FailedLoginWindowStart, Expr::value(failures.window_start))
        .col_expr(users::Column::LockedUntil, Expr::value(failures.locked_until))
        .filter(users::Column::Id.eq(id.as_uuid()))
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .exec(db)
        .await?;
    Ok(())
}

/// A successful sign-in: failures cleared, time recorded, and the password
/// hash replaced when it was upgraded (legacy bcrypt to argon2id).
pub async fn record_login_success(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    id: UserId,
    now: DateTime<Utc>,
    upgraded_hash: Option<&str>,
) -> StoreResult<()> {
    let mut update = users::Entity::update_many()
        .col_expr(users::Column::FailedLoginCount, Expr::value(0))
        .col_expr(users::Column::FailedLoginWindowStart, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(users::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(users::Column::LastLoginAt, Expr::value(now));
    if let Some(hash) = upgraded_hash {
        update = update.col_expr(users::Column::PasswordHash, Expr::value(hash));
    }
    update
        .filter(users::Column::Id.eq(id.as_uuid()))
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .exec(db)
        .await?;
    Ok(())
}

/// Lifts a lock and clears the failure count; false if no such user.
pub async fn unlock(db: &impl ConnectionTrait, scope: TeamScope, id: UserId) -> StoreResult<bool> {
    let result = users::Entity::update_many()
        .col_expr(users::Column::FailedLoginCount, Expr::value(0))
        .col_expr(users::Column::FailedLoginWindowStart, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(users::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(users::Column::Id.eq(id.as_uuid()))
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Replaces the password hash (and clears any lock).
pub async fn set_password_hash(db: &impl ConnectionTrait, scope: TeamScope, id: UserId, hash: &str) -> StoreResult<()> {
    let now = Utc::now();
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(hash))
        .col_expr(users::Column::PasswordChangedAt, Expr::value(now))
        .col_expr(users::Column::FailedLoginCount, Expr::value(0))
        .col_expr(users::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(id.as_uuid()))
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .exec(db)
        .await?;
    Ok(())
}

/// Profile fields a user may edit; `None` leaves a field as it is, and
/// `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub name: Option<String>,
    pub phone: Option<Option<String>>,
    pub job_title: Option<Option<String>>,
    pub department: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub is_onboarded: Option<bool>,
    pub theme: Option<Theme>,
    pub time_zone: Option<Option<String>>,
}

pub async fn update_profile(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    id: UserId,
    update: ProfileUpdate,
) -> StoreResult<User> {
    let mut query = users::Entity::update_many()
        .col_expr(users::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(users::Column::Version, Expr::col(users::Column::Version).add(1));
    if let Some(name) = update.name {
        query = query.col_expr(users::Column::Name, Expr::value(name));
    }
    for (column, value) in [
        (users::Column::Phone, update.phone),
        (users::Column::JobTitle, update.job_title),
        (users::Column::Department, update.department),
        (users::Column::Bio, update.bio),
    ] {
        if let Some(value) = value {
            query = query.col_expr(column, Expr::value(value));
        }
    }
    if let Some(onboarded) = update.is_onboarded {
        query = query.col_expr(users::Column::IsOnboarded, Expr::value(onboarded));
    }
    if let Some(theme) = update.theme {
        query = query.col_expr(users::Column::Theme, Expr::value(theme.as_str()));
    }
    if let Some(zone) = update.time_zone {
        query = query.col_expr(users::Column::TimeZone, Expr::value(zone));
    }
    query
        .filter(users::Column::Id.eq(id.as_uuid()))
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .exec(db)
        .await?;
    get(db, scope, id).await
}

/// Changes role and/or status of a user of the scope's team.
pub async fn set_role_and_status(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    id: UserId,
    role: Option<Role>,
    status: Option<UserStatus>,
) -> StoreResult<User> {
    let mut query = users::Entity::update_many()
        .col_expr(users::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(users::Column::Version, Expr::col(users::Column::Version).add(1));
    if let Some(role) = role {
        query = query.col_expr(users::Column::Role, Expr::value(role.as_str()));
    }
    if let Some(status) = status {
        query = query.col_expr(users::Column::Status, Expr::value(status.as_str()));
    }
    query
        .filter(users::Column::Id.eq(id.as_uuid()))
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    get(db, scope, id).await
}

/// The labels ("Deleted user #3") of the team's erased members, by id:
/// how pages name what they wrote.
pub async fn erased_labels(
    db: &impl ConnectionTrait,
    scope: TeamScope,
) -> StoreResult<std::collections::HashMap<UserId, String>> {
    let rows: Vec<(Uuid, String)> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Name)
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::DeletedAt.is_not_null())
        .filter(users::Column::Email.ends_with(ERASED_EMAIL_DOMAIN))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, name)| (UserId::from_uuid(id), name)).collect())
}

/// The domain an erased member's placeholder address ends with.
pub const ERASED_EMAIL_DOMAIN: &str = "@erased.invalid";

/// The team's users (not deleted), in name order.
pub async fn list(db: &impl ConnectionTrait, scope: TeamScope) -> StoreResult<Vec<User>> {
    users::Entity::find()
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::DeletedAt.is_null())
        .order_by_asc(users::Column::Name)
        .order_by_asc(users::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(User::try_from)
        .collect()
}

/// Notes that `user` looked at the triage queue at `at`; returns when they
/// looked before (`None` the first time).
pub async fn look_at_triage(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user: UserId,
    at: DateTime<Utc>,
) -> StoreResult<Option<DateTime<Utc>>> {
    let before = of_team(scope, user).one(db).await?.ok_or(StoreError::NotFound)?.triage_seen_at;
    users::Entity::update_many()
        .col_expr(users::Column::TriageSeenAt, sea_orm::sea_query::Expr::value(at))
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::Id.eq(user.as_uuid()))
        .exec(db)
        .await?;
    Ok(before)
}

/// What `user` chose to be told of, and how (the stored form).
pub async fn notification_settings(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user: UserId,
) -> StoreResult<Option<String>> {
    Ok(of_team(scope, user).one(db).await?.ok_or(StoreError::NotFound)?.notification_settings)
}

pub async fn set_notification_settings(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user: UserId,
    stored: &str,
) -> StoreResult<()> {
    users::Entity::update_many()
        .col_expr(users::Column::NotificationSettings, sea_orm::sea_query::Expr::value(stored))
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::Id.eq(user.as_uuid()))
        .exec(db)
        .await?;
    Ok(())
}

/// An account that has chosen its notifications (the digest job's view).
#[derive(Debug, Clone)]
pub struct NotificationChoices {
    pub scope: TeamScope,
    pub user: UserId,
    /// The stored choices.
    pub settings: String,
    pub digest_sent_at: Option<DateTime<Utc>>,
}

/// Every active account that has chosen its notifications, in every team.
pub async fn with_notification_settings(db: &impl ConnectionTrait) -> StoreResult<Vec<NotificationChoices>> {
    use sea_orm::QuerySelect;
    type Row = (uuid::Uuid, uuid::Uuid, Option<String>, Option<DateTime<Utc>>);
    let rows: Vec<Row> = users::Entity::find()
        .select_only()
        .column(users::Column::TeamId)
        .column(users::Column::Id)
        .column(users::Column::NotificationSettings)
        .column(users::Column::DigestSentAt)
        .filter(users::Column::NotificationSettings.is_not_null())
        .filter(users::Column::DeletedAt.is_null())
        .filter(users::Column::Status.eq(UserStatus::Active.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(team, id, settings, digest_sent_at)| {
            Some(NotificationChoices {
                scope: TeamScope::new(TeamId::from_uuid(team)),
                user: UserId::from_uuid(id),
                settings: settings?,
                digest_sent_at,
            })
        })
        .collect())
}

/// Notes that `user`'s digest went at `at`.
pub async fn digest_sent(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    user: UserId,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    users::Entity::update_many()
        .col_expr(users::Column::DigestSentAt, sea_orm::sea_query::Expr::value(at))
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::Id.eq(user.as_uuid()))
        .exec(db)
        .await?;
    Ok(())
}

/// The team's active administrators (whom a decision for an ADMIN is sent to).
pub async fn active_admins(db: &impl ConnectionTrait, scope: TeamScope) -> StoreResult<Vec<UserId>> {
    Ok(users::Entity::find()
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::DeletedAt.is_null())
        .filter(users::Column::Role.eq(Role::Admin.as_str()))
        .filter(users::Column::Status.eq(UserStatus::Active.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|row| UserId::from_uuid(row.id))
        .collect())
}

/// How many active administrators the team has (the last one cannot be
/// demoted, deactivated or deleted).
pub async fn count_active_admins(db: &impl ConnectionTrait, scope: TeamScope) -> StoreResult<u64> {
    Ok(users::Entity::find()
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::DeletedAt.is_null())
        .filter(users::Column::Role.eq(Role::Admin.as_str()))
        .filter(users::Column::Status.eq(UserStatus::Active.as_str()))
        .count(db)
        .await?)
}

/// How many accounts exist on the instance (first-run setup is open only
/// while there are none).
pub async fn count_all(db: &impl ConnectionTrait) -> StoreResult<u64> {
    Ok(users::Entity::find().count(db).await?)
}

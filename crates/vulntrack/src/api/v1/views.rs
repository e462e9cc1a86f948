//! JSON views of stored records.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use vulntrack_domain::{Role, TeamId, Theme, UserId, UserStatus};
use vulntrack_store::{teams, users::User};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub status: UserStatus,
    pub team_id: TeamId,
    pub team_name: String,
    pub is_onboarded: bool,
    /// How the web pages are coloured for this user.
    pub theme: Theme,
    /// The IANA time zone pages show times in; null for the browser's.
    pub time_zone: Option<String>,
    pub phone: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub bio: Option<String>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// Sign-in is refused until then after repeated failed attempts (an
    /// ADMIN can unlock sooner); null when the account is not locked.
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change to the profile, role or status; also the
    /// `ETag`, for `If-Match`.
    pub version: i64,
}

impl UserView {
    pub fn new(user: User, team_name: String) -> Self {
        let locked_until = user.locked_at(Utc::now());
        Self {
            id: user.id,
            email: user.email,
            name: user.name,
            role: user.role,
            status: user.status,
            team_id: user.team_id,
            team_name,
            is_onboarded: user.is_onboarded,
            theme: user.theme,
            time_zone: user.time_zone,
            phone: user.phone,
            job_title: user.job_title,
            department: user.department,
            bio: user.bio,
            last_login_at: user.last_login_at,
            locked_until,
            created_at: user.created_at,
            updated_at: user.updated_at,
            version: user.version,
        }
    }

    /// The view with the team's name looked up.
    pub async fn load(db: &impl ConnectionTrait, user: User) -> Result<Self, vulntrack_store::StoreError> {
        let team = teams::get(db, user.scope()).await?;
        Ok(Self::new(user, team.name))
    }
}

/// `{ "user": … }`, as login and registration answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserEnvelope {
    pub user: UserView,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Listing<T> {
    pub items: Vec<T>,
}

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub team_id: Uuid,
    pub email: String,
    pub email_normalized: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub status: String,
    pub phone: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub bio: Option<String>,
    pub is_onboarded: bool,
    pub theme: String,
    pub time_zone: Option<String>,
    pub triage_seen_at: Option<DateTimeUtc>,
    pub notification_settings: Option<String>,
    pub digest_sent_at: Option<DateTimeUtc>,
    pub failed_login_count: i32,
    pub failed_login_window_start: Option<DateTimeUtc>,
    pub locked_until: Option<DateTimeUtc>,
    pub last_login_at: Option<DateTimeUtc>,
    pub password_changed_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i64,
}

impl ActiveModelBehavior for ActiveModel {}

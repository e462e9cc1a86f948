use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "security_alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub team_id: Option<Uuid>,
    pub rule: String,
    pub severity: String,
    pub subject: String,
    pub window_start: DateTimeUtc,
    pub dedupe_key: String,
    pub evidence: Json,
    pub created_at: DateTimeUtc,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub acknowledged_by: Option<Uuid>,
}

impl ActiveModelBehavior for ActiveModel {}

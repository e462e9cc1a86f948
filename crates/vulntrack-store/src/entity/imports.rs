use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "imports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub team_id: Uuid,
    pub asset_id: Uuid,
    pub format: String,
    pub scanner: Option<String>,
    pub file_name: String,
    pub file_size: i64,
    pub sha256: String,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub close_missing: bool,
    pub minimum_severity: Option<String>,
    pub tags: Json,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub reopened: i64,
    pub closed: i64,
    pub total: i64,
    pub skipped: i64,
    pub duration_ms: i64,
    pub warnings: Json,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

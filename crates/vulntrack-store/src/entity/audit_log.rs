use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub team_id: Option<Uuid>,
    pub seq: i64,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_email: Option<String>,
    pub actor_token_id: Option<Uuid>,
    pub action: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub details: Json,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    pub hash_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub personal_salt: Option<String>,
    pub personal_digest: Option<String>,
    pub erased_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}

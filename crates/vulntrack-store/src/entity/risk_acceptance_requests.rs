use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_acceptance_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub team_id: Uuid,
    pub vulnerability_id: Uuid,
    pub requested_by: Option<Uuid>,
    pub requested_at: DateTimeUtc,
    pub status: String,
    pub note: String,
    pub accepted_until: Date,
    pub state: String,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
    pub decision_note: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}

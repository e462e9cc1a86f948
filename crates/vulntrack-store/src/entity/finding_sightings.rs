use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "finding_sightings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub vulnerability_id: Uuid,
    pub team_id: Uuid,
    pub last_seen_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

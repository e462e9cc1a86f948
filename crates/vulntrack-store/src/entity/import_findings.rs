use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_findings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub import_id: Uuid,
    pub team_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub vulnerability_id: Uuid,
    pub outcome: String,
}

impl ActiveModelBehavior for ActiveModel {}

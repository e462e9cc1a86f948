//! API tokens must expire: tokens made before an expiry was required get
//! one, 90 days from the upgrade, so none lives forever.

use chrono::{Duration, Utc};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let expiry = Utc::now() + Duration::days(90);
        let update = Query::update()
            .table(Alias::new("api_tokens"))
            .value(Alias::new("expires_at"), expiry)
            .and_where(Expr::col(Alias::new("expires_at")).is_null())
            .to_owned();
        manager.get_connection().execute(&update).await.map(|_| ())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

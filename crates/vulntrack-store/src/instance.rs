//! Instance-wide state: whether first-run setup has happened.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::{
    entity::instance,
    error::{StoreError, StoreResult},
};

/// Marks first-run setup done. A second call — even a concurrent one in
/// another transaction — is a `Conflict`.
pub async fn mark_setup_done(db: &impl ConnectionTrait) -> StoreResult<()> {
    let row = instance::ActiveModel { id: Set(1), setup_at: Set(Utc::now()) };
    instance::Entity::insert(row)
        .exec_without_returning(db)
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "setup"))?;
    Ok(())
}

//! The only door to what reaches every team at once or hands out any
//! team's scope: listing teams, finding one by name, signing everyone out,
//! the instance-wide alerts and walking the audit chains. These are for the
//! operator's own paths (the command line, first-run setup, the start-up
//! audit check); no request handler may call them, and the server crate's
//! architecture test keeps it so. The functions themselves live beside
//! their tables, visible only inside this crate.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;
use vulntrack_domain::TeamId;

use crate::{
    api_tokens,
    audit::{self, ChainBreak, ChainHead},
    error::StoreResult,
    security_alerts::{self, SecurityAlert},
    sessions,
    teams::{self, Team},
};

/// Every team, by name (audit verification walks each chain).
pub async fn teams(db: &impl ConnectionTrait) -> StoreResult<Vec<Team>> {
    teams::list_all(db).await
}

/// The team with this exact name; several are `Ambiguous`.
pub async fn team_by_name(db: &impl ConnectionTrait, name: &str) -> StoreResult<Option<Team>> {
    teams::find_by_name(db, name).await
}

/// The named team, created if it does not exist (`vulntrack create-user`).
pub async fn team_by_name_or_new(db: &impl ConnectionTrait, name: &str) -> StoreResult<Team> {
    teams::find_or_create(db, name).await
}

/// Ends every live session of every team ("sign everyone out").
pub async fn revoke_every_session(db: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    sessions::revoke_every_session(db, now).await
}

/// Revokes every live API token of every team.
pub async fn revoke_every_token(db: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    api_tokens::revoke_every_token(db, now).await
}

/// The instance-wide security alerts, newest first.
pub async fn instance_alerts(db: &impl ConnectionTrait, limit: u64) -> StoreResult<Vec<SecurityAlert>> {
    security_alerts::list_instance_wide(db, limit).await
}

/// Acknowledges an instance-wide alert; `false` if there is no such
/// unacknowledged alert.
pub async fn acknowledge_instance_alert(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<bool> {
    security_alerts::acknowledge_instance_wide(db, id).await
}

/// The head of a team's audit chain, or of the instance-wide one (`None`).
pub async fn audit_head(db: &impl ConnectionTrait, team: Option<TeamId>) -> StoreResult<Option<ChainHead>> {
    audit::head(db, team).await
}

/// The hash stored at `seq` in that chain, if the row exists.
pub async fn audit_hash_at(db: &impl ConnectionTrait, team: Option<TeamId>, seq: i64) -> StoreResult<Option<String>> {
    audit::hash_at(db, team, seq).await
}

/// Every row of that chain, oldest first (for tests and forensics).
pub async fn audit_rows(db: &impl ConnectionTrait, team: Option<TeamId>) -> StoreResult<Vec<audit::AuditRecord>> {
    audit::rows(db, team).await
}

/// Walks that chain from the start; how many rows held, or the first break.
pub async fn verify_audit_chain(
    db: &impl ConnectionTrait,
    team: Option<TeamId>,
) -> StoreResult<Result<u64, ChainBreak>> {
    audit::verify_chain(db, team).await
}

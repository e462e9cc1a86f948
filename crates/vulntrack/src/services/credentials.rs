//! What a credential event ends. The model (docs/ARCHITECTURE.md): a new
//! password — changed by the user or set through a reset link — ends every
//! other session, every API token and every outstanding reset link of the
//! account, since any of them may have been obtained by whoever knew the old
//! one; "sign out everywhere" ends sessions, and tokens when asked;
//! deactivation ends sessions and tokens for good.

use chrono::{DateTime, Utc};
use uuid::Uuid;
use vulntrack_domain::UserId;
use vulntrack_store::{StoreResult, TeamScope, api_tokens, password_resets, sessions};

/// How much a credential event ended, for its audit row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Ended {
    pub sessions_revoked: u64,
    pub tokens_revoked: u64,
    pub reset_links_voided: u64,
}

/// Inside the transaction that sets the new password: ends the account's
/// other sessions (all but `keep`), its API tokens and its reset links.
pub async fn after_password_change(
    txn: &sea_orm::DatabaseTransaction,
    scope: TeamScope,
    user: UserId,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> StoreResult<Ended> {
    Ok(Ended {
        sessions_revoked: sessions::revoke_all(txn, scope, user, keep, now).await?,
        tokens_revoked: api_tokens::revoke_all(txn, scope, user, now).await?,
        reset_links_voided: password_resets::void_all_for_user(txn, scope, user, now).await?,
    })
}

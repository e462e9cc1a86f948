//! What a credential event ends. The model (docs/ARCHITECTURE.md): a new
//! password — changed by the user or set through a reset link — ends every
//! other session, every API token and every outstanding reset link of the
//! account, since any of them may have been obtained by whoever knew the old
//! one; "sign out everywhere" ends sessions, and tokens when asked;
//! deactivation ends sessions and tokens for good.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;
use vulntrack_domain::{AuditAction, FieldError, PasswordPolicy, UserId, ValidationErrors};
use vulntrack_store::{
    StoreResult, TeamScope, api_tokens,
    audit::{self, AuditEvent, RequestContext},
    password_resets, sessions, users,
};

use crate::{app::AppState, auth::Principal, services::ServiceError};

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

/// The signed-in user changes their password: the current one must match,
/// the new one must meet the policy; then every other session, every API
/// token and every reset link of the account ends (the session making the
/// change stays).
pub async fn change_password(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    current_password: String,
    new_password: String,
) -> Result<Ended, ServiceError> {
    let db = state.db();
    let user = &principal.user;
    let record = users::sign_in_record_of(db.conn(), principal.scope(), user.id).await?;
    let current_ok = current_password.len() <= 1024
        && state.hasher().verify(SecretString::from(current_password), record.password_hash).await?.matched();
    let mut errors = ValidationErrors::default();
    if !current_ok {
        errors.push(FieldError::new("current_password", "incorrect", "is not your current password"));
    }
    let policy = PasswordPolicy { email: &user.email, name: &user.name };
    for error in policy.field_errors("new_password", &new_password) {
        errors.push(error);
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let hash = state.hasher().hash(SecretString::from(new_password)).await?;
    let txn = db.begin().await?;
    users::set_password_hash(&txn, principal.scope(), user.id, &hash).await?;
    let ended = after_password_change(&txn, principal.scope(), user.id, principal.session_id(), Utc::now()).await?;
    let event = AuditEvent::new(user.scope(), principal.actor(), AuditAction::PasswordChanged, context)
        .entity("user", user.id)
        .details(json!(ended));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(ended)
}

/// Ends one of the user's own sessions.
pub async fn revoke_own_session(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id: Uuid,
) -> Result<(), ServiceError> {
    let txn = state.db().begin().await?;
    if !sessions::revoke(&txn, principal.scope(), principal.user.id, id, Utc::now()).await? {
        return Err(ServiceError::NotFound);
    }
    let event = AuditEvent::new(principal.scope(), principal.actor(), AuditAction::SessionRevoked, context)
        .entity("session", id);
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

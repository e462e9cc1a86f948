//! API tokens: creating and revoking one's own, and revoking a member's (a
//! team ADMIN containing a departing or compromised member's access).

use chrono::{Duration, Utc};
use serde_json::json;
use uuid::Uuid;
use vulntrack_domain::AuditAction;
use vulntrack_domain::{Action, UserId};
use vulntrack_store::{
    api_tokens,
    audit::{self, AuditEvent, RequestContext},
    users,
};

use crate::{
    app::AppState,
    auth::{Principal, principal::Credential, secret_token},
    services::ServiceError,
};

pub const TOKEN_PREFIX: &str = "vt_";
/// Every token expires; this is its lifetime when none is asked for.
pub const DEFAULT_TOKEN_DAYS: i64 = 90;
/// How much of a token is kept in clear to tell tokens apart.
const SHOWN_PREFIX_CHARS: usize = 10;

/// A token just made, and its secret (shown this once).
#[derive(Debug)]
pub struct CreatedToken {
    pub token: api_tokens::ApiToken,
    pub secret: String,
}

/// Creates an API token for the principal: named, expiring after
/// `expires_in_days` (default [`DEFAULT_TOKEN_DAYS`], at most the operator's
/// `VULNTRACK_TOKEN_MAX_TTL`). Only from a signed-in session: a stolen token
/// must not be able to mint itself successors.
pub async fn create_own(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    name: &str,
    expires_in_days: Option<i64>,
) -> Result<CreatedToken, ServiceError> {
    if let Credential::ApiToken(_) = principal.credential {
        let refused = "API tokens are created from a signed-in session.";
        return Err(principal.deny(state, context, "CREATE_TOKEN_WITH_TOKEN", refused).await);
    }
    let name = name.trim();
    let mut errors = vulntrack_domain::ValidationErrors::default();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(vulntrack_domain::FieldError::new("name", "length", "must be 1–100 characters"));
    }
    let max_days = i64::try_from(state.config().token_max_ttl.as_secs() / 86_400).unwrap_or(i64::MAX);
    let days = expires_in_days.unwrap_or(DEFAULT_TOKEN_DAYS.min(max_days));
    if days < 1 || days > max_days {
        errors.push(vulntrack_domain::FieldError::new(
            "expires_in_days",
            "range",
            format!("must be 1–{max_days} days (the operator's maximum token lifetime)"),
        ));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let secret = secret_token::issue(TOKEN_PREFIX);
    let prefix: String = secret.plain.chars().take(SHOWN_PREFIX_CHARS).collect();
    let txn = state.db().begin().await?;
    let token = api_tokens::create(
        &txn,
        principal.scope(),
        api_tokens::NewApiToken {
            user_id: principal.user.id,
            name,
            token_hash: &secret.hash,
            prefix: &prefix,
            expires_at: Some(Utc::now() + Duration::days(days)),
        },
    )
    .await?;
    let event = AuditEvent::new(principal.scope(), principal.actor(), AuditAction::TokenCreated, context)
        .entity("api_token", token.id)
        .details(json!({ "name": token.name, "expires_at": token.expires_at }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(CreatedToken { token, secret: secret.plain })
}

/// Revokes one of the principal's own live tokens.
pub async fn revoke_own(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id: Uuid,
) -> Result<(), ServiceError> {
    let txn = state.db().begin().await?;
    if !api_tokens::revoke(&txn, principal.scope(), principal.user.id, id, Utc::now()).await? {
        return Err(ServiceError::NotFound);
    }
    let event = AuditEvent::new(principal.scope(), principal.actor(), AuditAction::TokenRevoked, context)
        .entity("api_token", id);
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

/// Revokes one live token of a member of the principal's team; another
/// team's member or token is `NotFound`.
pub async fn revoke_member_token(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    member: UserId,
    token: Uuid,
) -> Result<(), ServiceError> {
    principal.require(state, context, Action::ManageUsers).await?;
    let scope = principal.scope();
    let member = users::get(state.db().conn(), scope, member).await?;
    let txn = state.db().begin().await?;
    if !api_tokens::revoke(&txn, scope, member.id, token, Utc::now()).await? {
        return Err(ServiceError::NotFound);
    }
    let event = AuditEvent::new(scope, principal.actor(), AuditAction::TokenRevoked, context)
        .entity("api_token", token)
        .details(json!({ "owner_id": member.id, "owner_email": member.email }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

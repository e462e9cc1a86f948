//! One-time password reset links: issued to a user who asks, by a team
//! ADMIN, or by the operator on the command line.

use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;
use serde_json::json;
use vulntrack_domain::{Action, AuditAction, PasswordPolicy, UserId, UserStatus, ValidationErrors};
use vulntrack_store::{
    Database, StoreError, TeamScope,
    audit::{self, Actor, AuditEvent, RequestContext},
    password_resets, users,
};

use super::ServiceError;
use crate::{
    app::AppState,
    auth::{Principal, secret_token},
    mail::Mail,
};

/// How long a reset link works.
pub const RESET_LIFETIME: Duration = Duration::hours(1);

/// A link that sets a new password once, before `expires_at`.
#[derive(Debug, Clone)]
pub struct IssuedLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// Stores a new reset (only the token's hash) with its audit row and
/// returns the link under `public_url`.
pub async fn issue(
    db: &Database,
    public_url: &url::Url,
    scope: TeamScope,
    user_id: UserId,
    actor: Actor,
    context: &RequestContext,
) -> Result<IssuedLink, StoreError> {
    let secret = secret_token::issue("");
    let expires_at = Utc::now() + RESET_LIFETIME;
    let txn = db.begin().await?;
    // Only the newest link works: issuing one voids the earlier ones.
    password_resets::void_all_for_user(&txn, scope, user_id, Utc::now()).await?;
    let reset = password_resets::create(&txn, scope, user_id, &secret.hash, expires_at).await?;
    let event = AuditEvent::new(scope, actor, AuditAction::PasswordResetRequested, context)
        .entity("user", user_id)
        .details(json!({ "reset_id": reset.id, "expires_at": expires_at }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    let base = public_url.as_str().trim_end_matches('/');
    Ok(IssuedLink { url: format!("{base}/reset-password?token={}", secret.plain), expires_at })
}

/// Someone asks for a reset link for `email`. An active account gets one by
/// mail; the answer is the same either way (an unknown address is audited
/// without the account), so it cannot tell who has an account.
pub async fn request_link(state: &AppState, context: &RequestContext, email: &str) -> Result<(), ServiceError> {
    let found = users::find_for_sign_in(state.db().conn(), email).await?;
    match found.map(|record| record.user).filter(|user| user.status == UserStatus::Active) {
        Some(user) => {
            let link =
                issue(state.db(), &state.config().public_url, user.scope(), user.id, Actor::Anonymous, context).await?;
            state.mailer().send_in_background(Mail {
                to: user.email.clone(),
                subject: "Reset your VulnTrack password".into(),
                body: format!(
                    "Hello {},\n\nSomeone asked to reset your VulnTrack password. To choose a new one, open:\n\n{}\n\nThe link works once and expires at {} UTC. If it was not you, ignore this message.\n",
                    user.name,
                    link.url,
                    link.expires_at.format("%Y-%m-%d %H:%M")
                ),
            });
        }
        None => {
            let txn = state.db().begin().await?;
            let event = AuditEvent::new(
                audit::Tenancy::Instance,
                Actor::Anonymous,
                AuditAction::PasswordResetRequested,
                context,
            )
            .details(json!({ "email": email.trim().chars().take(254).collect::<String>(), "account": "none" }));
            audit::append(&txn, event).await?;
            txn.commit().await?;
        }
    }
    Ok(())
}

/// An ADMIN makes a reset link for a member of the team (to hand over
/// in person when mail is not set up).
pub async fn issue_for_member(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    member: UserId,
) -> Result<IssuedLink, ServiceError> {
    principal.require(state, context, Action::ManageUsers).await?;
    let user = users::get(state.db().conn(), principal.scope(), member).await?;
    Ok(issue(state.db(), &state.config().public_url, principal.scope(), user.id, principal.actor(), context).await?)
}

fn invalid_token() -> ServiceError {
    ServiceError::field("token", "invalid", "is invalid, expired or already used")
}

/// Sets a new password with a reset link. The link works once; the new
/// password ends every session, API token and other reset link.
pub async fn confirm(
    state: &AppState,
    context: &RequestContext,
    token: &str,
    new_password: String,
) -> Result<(), ServiceError> {
    let db = state.db();
    let token_hash = secret_token::hash(token.trim());
    let reset = password_resets::find_valid(db.conn(), &token_hash, Utc::now()).await?.ok_or_else(invalid_token)?;
    let user = users::get(db.conn(), reset.scope(), reset.user_id).await.map_err(|_| invalid_token())?;
    // A deactivated account's links are void (deactivation voids them too).
    if user.status != UserStatus::Active {
        return Err(invalid_token());
    }
    let policy = PasswordPolicy { email: &user.email, name: &user.name };
    let errors = ValidationErrors(policy.field_errors("new_password", &new_password));
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let hash = state.hasher().hash(SecretString::from(new_password)).await?;
    let now = Utc::now();
    let txn = db.begin().await?;
    password_resets::claim(&txn, &token_hash, now).await?.ok_or_else(invalid_token)?;
    users::set_password_hash(&txn, reset.scope(), user.id, &hash).await?;
    let ended = super::credentials::after_password_change(&txn, reset.scope(), user.id, None, now).await?;
    let event = AuditEvent::new(
        user.scope(),
        Actor::User { id: user.id, email: user.email.clone() },
        AuditAction::PasswordReset,
        context,
    )
    .entity("user", user.id)
    .details(json!({ "reset_id": reset.id, "sessions_revoked": ended.sessions_revoked,
                     "tokens_revoked": ended.tokens_revoked, "reset_links_voided": ended.reset_links_voided }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

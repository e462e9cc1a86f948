//! One-time password reset links: issued to a user who asks, by a team
//! ADMIN, or by the operator on the command line.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use vulntrack_domain::AuditAction;
use vulntrack_domain::UserId;
use vulntrack_store::{
    Database, StoreError, TeamScope,
    audit::{self, Actor, AuditEvent, RequestContext},
    password_resets,
};

use crate::auth::secret_token;

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
    let event = AuditEvent::new(Some(scope.team_id()), actor, AuditAction::PasswordResetRequested, context)
        .entity("user", user_id)
        .details(json!({ "reset_id": reset.id, "expires_at": expires_at }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    let base = public_url.as_str().trim_end_matches('/');
    Ok(IssuedLink { url: format!("{base}/reset-password?token={}", secret.plain), expires_at })
}

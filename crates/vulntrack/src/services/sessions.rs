//! Signing in: the one path behind the JSON API and the sign-in page.
//! Wrong email, wrong password, locked and deactivated accounts all end in
//! the same `Unauthorized`; the audit log records which it was.

use axum_extra::extract::cookie::Cookie;
use chrono::Utc;
use secrecy::SecretString;
use serde_json::json;
use vulntrack_domain::AuditAction;
use vulntrack_domain::{UserStatus, normalize_email, rate::RateRule};
use vulntrack_store::{
    audit::{self, Actor, AuditEvent, RequestContext},
    sessions,
    users::{self, User},
};

use crate::{
    app::AppState,
    auth::{Principal, cookie, password::Verification},
    services::ServiceError,
};

/// A new session: the user and the cookie that carries it.
#[derive(Debug)]
pub struct SignedIn {
    pub user: User,
    pub cookie: Cookie<'static>,
}

/// The per-(client, email) limit's key: it counts failed sign-ins only
/// (a success refunds its attempt), so signing in often is never refused.
fn account_limit_key(context: &RequestContext, email: &str) -> String {
    format!("login:{}:{}", context.ip.as_deref().unwrap_or_default(), normalize_email(email))
}

/// The sign-in limits for this client and email (checked before any
/// password is). The per-client limit counts every attempt.
pub fn limits(state: &AppState, context: &RequestContext, email: &str) -> [(String, RateRule); 2] {
    let config = state.config();
    let client = context.ip.as_deref().unwrap_or_default();
    [
        (account_limit_key(context, email), config.rate_limit_login),
        (format!("login-client:{client}"), config.rate_limit_login_client),
    ]
}

/// Longer than any password the policy accepts, with room for legacy ones;
/// past it nothing is hashed, so huge bodies cannot buy CPU time.
const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a sign-in failed: recorded in the audit log, never told the client.
#[derive(Debug, Clone, Copy)]
enum FailureReason {
    UnknownEmail,
    BadPassword,
    Locked,
    Inactive,
}

impl FailureReason {
    fn as_str(self) -> &'static str {
        match self {
            FailureReason::UnknownEmail => "unknown_email",
            FailureReason::BadPassword => "bad_password",
            FailureReason::Locked => "locked",
            FailureReason::Inactive => "inactive",
        }
    }
}

fn login_failed(
    team: Option<vulntrack_store::TeamScope>,
    email: &str,
    reason: FailureReason,
    context: &RequestContext,
) -> AuditEvent {
    AuditEvent::new(team, Actor::Anonymous, AuditAction::LoginFailed, context)
        .details(json!({ "email": email.trim().chars().take(254).collect::<String>(), "reason": reason.as_str() }))
}

pub async fn sign_in(
    state: &AppState,
    context: &RequestContext,
    email: &str,
    password: String,
) -> Result<SignedIn, ServiceError> {
    let db = state.db();
    let password = SecretString::from(password);
    let record = users::find_for_sign_in(db.conn(), email).await?;
    let too_long = secrecy::ExposeSecret::expose_secret(&password).len() > MAX_PASSWORD_BYTES;

    let Some(record) = record else {
        if !too_long {
            state.hasher().verify_decoy(password).await?;
        }
        let txn = db.begin().await?;
        audit::append(&txn, login_failed(None, email, FailureReason::UnknownEmail, context)).await?;
        metrics::counter!(crate::metrics::LOGINS, "outcome" => "failure").increment(1);
        txn.commit().await?;
        crate::alerts::on_login_failure(state, None, context.ip.as_deref()).await;
        return Err(ServiceError::NotAuthenticated);
    };

    let verification = if too_long {
        Verification::Mismatch
    } else {
        state.hasher().verify(password.clone(), record.password_hash.clone()).await?
    };
    let now = Utc::now();
    let user = &record.user;
    let scope = user.scope();
    let refusal = if record.failures.is_locked(now) {
        Some(FailureReason::Locked)
    } else if user.status != UserStatus::Active {
        Some(FailureReason::Inactive)
    } else if !verification.matched() {
        Some(FailureReason::BadPassword)
    } else {
        None
    };

    if let Some(reason) = refusal {
        return Err(refuse(state, context, email, user, reason, now).await);
    }

    let upgraded_hash = match verification {
        Verification::MatchNeedsUpgrade => Some(state.hasher().hash(password).await?),
        _ => None,
    };
    // The lock is decided again under the row lock: failures counted while
    // this password was being checked may have locked the account.
    let txn = db.begin().await?;
    if users::failures_for_update(&txn, scope, user.id).await?.is_locked(now) {
        drop(txn);
        return Err(refuse(state, context, email, user, FailureReason::Locked, now).await);
    }
    metrics::counter!(crate::metrics::LOGINS, "outcome" => "success").increment(1);
    state.rate_limiter().refund(&account_limit_key(context, email)).await;
    // The team may choose a shorter lifetime than the operator's maximum.
    let team_ttl = vulntrack_store::teams::get(&txn, scope).await?.session_ttl_seconds;
    let ttl = effective_ttl(state.config().session_ttl, team_ttl);
    let expires_at = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(24));
    users::record_login_success(&txn, scope, user.id, now, upgraded_hash.as_deref()).await?;
    let session =
        sessions::create(&txn, scope, user.id, expires_at, context.ip.as_deref(), context.user_agent.as_deref())
            .await?;
    let event = AuditEvent::new(
        user.scope(),
        Actor::User { id: user.id, email: user.email.clone() },
        AuditAction::Login,
        context,
    )
    .entity("session", session.id)
    .details(json!({ "password_hash_upgraded": upgraded_hash.is_some() }));
    audit::append(&txn, event).await?;
    txn.commit().await?;

    let token = state.session_keys().sign(session.id, user.id.as_uuid(), expires_at);
    let cookie = cookie::issue(token, state.config().is_production(), ttl);
    let user = users::get(db.conn(), scope, user.id).await?;
    Ok(SignedIn { user, cookie })
}

/// Records a refused sign-in (audit row, failure count, lock) and returns
/// the one answer every refusal gets. A wrong password is counted under
/// the row lock, and the lock is decided from the count just written.
async fn refuse(
    state: &AppState,
    context: &RequestContext,
    email: &str,
    user: &User,
    reason: FailureReason,
    now: chrono::DateTime<Utc>,
) -> ServiceError {
    let outcome = async {
        metrics::counter!(crate::metrics::LOGINS, "outcome" => "failure").increment(1);
        let scope = user.scope();
        let txn = state.db().begin().await?;
        audit::append(&txn, login_failed(Some(user.scope()), email, reason, context).entity("user", user.id)).await?;
        if let FailureReason::BadPassword = reason {
            let before = users::failures_for_update(&txn, scope, user.id).await?;
            let failures = before.after_failure(now);
            users::record_login_failures(&txn, scope, user.id, failures).await?;
            if failures.just_locked(&before, now) {
                metrics::counter!(crate::metrics::LOCKOUTS).increment(1);
                let locked = AuditEvent::new(user.scope(), Actor::System, AuditAction::AccountLocked, context)
                    .entity("user", user.id)
                    .details(json!({ "failed_attempts": failures.count, "locked_until": failures.locked_until }));
                audit::append(&txn, locked).await?;
            }
        }
        txn.commit().await?;
        Ok::<_, ServiceError>(())
    }
    .await;
    if let Err(error) = outcome {
        return error;
    }
    crate::alerts::on_login_failure(state, Some((user.scope(), user.id, &user.email)), context.ip.as_deref()).await;
    ServiceError::NotAuthenticated
}

/// Ends the principal's session (server-side, at once) and returns the
/// cookie that clears it in the browser.
pub async fn sign_out(
    state: &AppState,
    context: &RequestContext,
    principal: &Principal,
) -> Result<Cookie<'static>, ServiceError> {
    let Some(session_id) = principal.session_id() else {
        return Err(ServiceError::Malformed(
            "Logout ends a browser session; revoke an API token with DELETE /api/v1/tokens/{id}.".into(),
        ));
    };
    let txn = state.db().begin().await?;
    sessions::revoke(&txn, principal.scope(), principal.user.id, session_id, Utc::now()).await?;
    audit::append(
        &txn,
        AuditEvent::new(principal.scope(), principal.actor(), AuditAction::Logout, context)
            .entity("session", session_id),
    )
    .await?;
    txn.commit().await?;
    Ok(cookie::clear(state.config().is_production()))
}

/// What "sign out everywhere" ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedOutEverywhere {
    pub sessions: u64,
    pub tokens: u64,
}

/// Ends every session of the principal's account (this one included) and,
/// when asked, every API token too: after a suspected compromise, a token
/// minted from a stolen session would otherwise outlive it.
pub async fn sign_out_everywhere(
    state: &AppState,
    context: &RequestContext,
    principal: &Principal,
    revoke_tokens: bool,
) -> Result<SignedOutEverywhere, ServiceError> {
    let now = Utc::now();
    let txn = state.db().begin().await?;
    let sessions = sessions::revoke_all(&txn, principal.scope(), principal.user.id, None, now).await?;
    let tokens = if revoke_tokens {
        vulntrack_store::api_tokens::revoke_all(&txn, principal.scope(), principal.user.id, now).await?
    } else {
        0
    };
    audit::append(
        &txn,
        AuditEvent::new(principal.scope(), principal.actor(), AuditAction::LogoutAll, context)
            .entity("user", principal.user.id)
            .details(json!({ "sessions_revoked": sessions, "tokens_revoked": tokens })),
    )
    .await?;
    txn.commit().await?;
    Ok(SignedOutEverywhere { sessions, tokens })
}

/// The operator's session lifetime, shortened to the team's if it chose one.
pub fn effective_ttl(operator: std::time::Duration, team_seconds: Option<i64>) -> std::time::Duration {
    team_seconds
        .and_then(|s| u64::try_from(s).ok())
        .map(std::time::Duration::from_secs)
        .map_or(operator, |team| team.min(operator))
}

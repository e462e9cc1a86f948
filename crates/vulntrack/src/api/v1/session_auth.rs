//! Signing in and out.

use crate::ratelimit;
use axum::response::Response;
use vulntrack_domain::normalize_email;

use axum::{Json, extract::State, http::StatusCode};
use axum_extra::extract::CookieJar;
use chrono::Utc;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use vulntrack_domain::UserStatus;
use vulntrack_store::{
    audit::{self, Actor, AuditEvent, RequestContext},
    sessions, users,
};

use super::views::{UserEnvelope, UserView};
use crate::{
    app::AppState,
    auth::{Principal, cookie, password::Verification},
    http::{ApiError, ApiJson, ClientContext},
};

/// Longer than any password the policy accepts, with room for legacy ones;
/// past it nothing is hashed, so huge bodies cannot buy CPU time.
const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Deserialize)]
pub struct LoginRequest {
    email: String,
    password: String,
}

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
    team: Option<vulntrack_domain::TeamId>,
    email: &str,
    reason: FailureReason,
    context: &RequestContext,
) -> AuditEvent {
    AuditEvent::new(team, Actor::Anonymous, "LOGIN_FAILED", context)
        .details(json!({ "email": email.trim().chars().take(254).collect::<String>(), "reason": reason.as_str() }))
}

/// Sign-in is limited per (client, email) and per client, before any
/// password is checked.
pub async fn login(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    jar: CookieJar,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Response {
    let limits = state.config().rate_limits;
    let client = context.ip.clone().unwrap_or_default();
    let checks = [
        (format!("login:{client}:{}", normalize_email(&request.email)), limits.login),
        (format!("login-client:{client}"), limits.login_client),
    ];
    ratelimit::enforce(state.rate_limiter(), &checks, sign_in(state.clone(), context, jar, request)).await
}

async fn sign_in(
    state: AppState,
    context: RequestContext,
    jar: CookieJar,
    request: LoginRequest,
) -> Result<(CookieJar, Json<UserEnvelope>), ApiError> {
    let db = state.db();
    let password = SecretString::from(request.password);
    let record = users::find_for_sign_in(db.conn(), &request.email).await?;
    let too_long = secrecy::ExposeSecret::expose_secret(&password).len() > MAX_PASSWORD_BYTES;

    let Some(record) = record else {
        if !too_long {
            state.hasher().verify_decoy(password).await?;
        }
        let txn = db.begin().await?;
        audit::append(&txn, login_failed(None, &request.email, FailureReason::UnknownEmail, &context)).await?;
        metrics::counter!(crate::metrics::LOGINS, "outcome" => "failure").increment(1);
        txn.commit().await?;
        crate::alerts::on_login_failure(&state, None, context.ip.as_deref()).await;
        return Err(ApiError::Unauthorized);
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
        metrics::counter!(crate::metrics::LOGINS, "outcome" => "failure").increment(1);
        let txn = db.begin().await?;
        audit::append(&txn, login_failed(Some(user.team_id), &request.email, reason, &context).entity("user", user.id))
            .await?;
        if let FailureReason::BadPassword = reason {
            let failures = record.failures.after_failure(now);
            users::record_login_failures(&txn, scope, user.id, failures).await?;
            if failures.just_locked(&record.failures, now) {
                metrics::counter!(crate::metrics::LOCKOUTS).increment(1);
                let locked = AuditEvent::new(Some(user.team_id), Actor::System, "ACCOUNT_LOCKED", &context)
                    .entity("user", user.id)
                    .details(json!({ "failed_attempts": failures.count, "locked_until": failures.locked_until }));
                audit::append(&txn, locked).await?;
            }
        }
        txn.commit().await?;
        crate::alerts::on_login_failure(&state, Some((user.team_id, user.id, &user.email)), context.ip.as_deref())
            .await;
        return Err(ApiError::Unauthorized);
    }

    metrics::counter!(crate::metrics::LOGINS, "outcome" => "success").increment(1);
    let upgraded_hash = match verification {
        Verification::MatchNeedsUpgrade => Some(state.hasher().hash(password).await?),
        _ => None,
    };
    let ttl = state.config().session_ttl;
    let expires_at = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(24));
    let txn = db.begin().await?;
    users::record_login_success(&txn, scope, user.id, now, upgraded_hash.as_deref()).await?;
    let session =
        sessions::create(&txn, scope, user.id, expires_at, context.ip.as_deref(), context.user_agent.as_deref())
            .await?;
    let event =
        AuditEvent::new(Some(user.team_id), Actor::User { id: user.id, email: user.email.clone() }, "LOGIN", &context)
            .entity("session", session.id)
            .details(json!({ "password_hash_upgraded": upgraded_hash.is_some() }));
    audit::append(&txn, event).await?;
    txn.commit().await?;

    let token = state.session_keys().sign(session.id, user.id.as_uuid(), expires_at);
    let jar = jar.add(cookie::issue(token, state.config().is_production(), ttl));
    let user = users::get(db.conn(), scope, user.id).await?;
    Ok((jar, Json(UserEnvelope { user: UserView::load(db.conn(), user).await? })))
}

pub async fn logout(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    jar: CookieJar,
) -> Result<(StatusCode, CookieJar), ApiError> {
    let Some(session_id) = principal.session_id() else {
        return Err(ApiError::BadRequest(
            "Logout ends a browser session; revoke an API token with DELETE /api/v1/tokens/{id}.".into(),
        ));
    };
    let txn = state.db().begin().await?;
    sessions::revoke(&txn, principal.scope(), principal.user.id, session_id, Utc::now()).await?;
    audit::append(
        &txn,
        AuditEvent::new(Some(principal.user.team_id), principal.actor(), "LOGOUT", &context)
            .entity("session", session_id),
    )
    .await?;
    txn.commit().await?;
    Ok((StatusCode::NO_CONTENT, jar.add(cookie::clear(state.config().is_production()))))
}

pub async fn logout_all(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    jar: CookieJar,
) -> Result<(StatusCode, CookieJar), ApiError> {
    let txn = state.db().begin().await?;
    let revoked = sessions::revoke_all(&txn, principal.scope(), principal.user.id, None, Utc::now()).await?;
    audit::append(
        &txn,
        AuditEvent::new(Some(principal.user.team_id), principal.actor(), "LOGOUT_ALL", &context)
            .entity("user", principal.user.id)
            .details(json!({ "sessions_revoked": revoked })),
    )
    .await?;
    txn.commit().await?;
    Ok((StatusCode::NO_CONTENT, jar.add(cookie::clear(state.config().is_production()))))
}

//! Password reset: by emailed link, or by a link an administrator creates.

use crate::ratelimit;
use axum::response::Response;
use vulntrack_domain::AuditAction;
use vulntrack_domain::rate::RateRule;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use vulntrack_domain::{Action, PasswordPolicy, UserId, UserStatus, ValidationErrors};
use vulntrack_store::{
    TeamScope,
    audit::{self, Actor, AuditEvent, RequestContext},
    password_resets, users,
};

use super::views::path_id;
use crate::{
    app::AppState,
    auth::{Principal, secret_token},
    http::{ApiError, ApiJson, ClientContext},
    mail::Mail,
    services,
};

#[derive(Deserialize)]
pub struct ResetRequest {
    email: String,
}

#[derive(Deserialize)]
pub struct ResetConfirm {
    token: String,
    new_password: String,
}

#[derive(Serialize)]
pub struct ResetLink {
    reset_url: String,
    expires_at: DateTime<Utc>,
}

/// Stores a new reset for the user and returns the link to it.
async fn issue_reset(
    state: &AppState,
    scope: TeamScope,
    user_id: UserId,
    actor: Actor,
    context: &RequestContext,
) -> Result<ResetLink, ApiError> {
    let link = services::password_resets::issue(state.db(), &state.config().public_url, scope, user_id, actor, context)
        .await?;
    Ok(ResetLink { reset_url: link.url, expires_at: link.expires_at })
}

/// Always 202, whether or not the email belongs to anyone, so the answer
/// cannot be used to find out who has an account.
/// Registration and password reset share one budget per client.
pub fn reset_bucket(state: &AppState, context: &RequestContext) -> (String, RateRule) {
    (format!("reset:{}", context.ip.as_deref().unwrap_or_default()), state.config().rate_limits.reset)
}

pub async fn request(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    ApiJson(request): ApiJson<ResetRequest>,
) -> Response {
    let checks = [reset_bucket(&state, &context)];
    ratelimit::enforce(state.rate_limiter(), &checks, request_reset(state.clone(), context, request)).await
}

async fn request_reset(
    state: AppState,
    context: RequestContext,
    request: ResetRequest,
) -> Result<StatusCode, ApiError> {
    let found = users::find_for_sign_in(state.db().conn(), &request.email).await?;
    match found.map(|record| record.user).filter(|user| user.status == UserStatus::Active) {
        Some(user) => {
            let link = issue_reset(&state, user.scope(), user.id, Actor::Anonymous, &context).await?;
            state.mailer().send_in_background(Mail {
                to: user.email.clone(),
                subject: "Reset your VulnTrack password".into(),
                body: format!(
                    "Hello {},\n\nSomeone asked to reset your VulnTrack password. To choose a new one, open:\n\n{}\n\nThe link works once and expires at {} UTC. If it was not you, ignore this message.\n",
                    user.name,
                    link.reset_url,
                    link.expires_at.format("%Y-%m-%d %H:%M")
                ),
            });
        }
        None => {
            let txn = state.db().begin().await?;
            let event = AuditEvent::new(None, Actor::Anonymous, AuditAction::PasswordResetRequested, &context).details(
                json!({ "email": request.email.trim().chars().take(254).collect::<String>(), "account": "none" }),
            );
            audit::append(&txn, event).await?;
            txn.commit().await?;
        }
    }
    Ok(StatusCode::ACCEPTED)
}

/// An ADMIN creates a reset link for a member of the team.
pub async fn admin_link(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<ResetLink>), ApiError> {
    principal.require(&state, &context, Action::ManageUsers).await?;
    let user = users::get(state.db().conn(), principal.scope(), UserId::from_uuid(path_id(&id)?)).await?;
    let link = issue_reset(&state, principal.scope(), user.id, principal.actor(), &context).await?;
    Ok((StatusCode::CREATED, Json(link)))
}

fn invalid_token() -> ApiError {
    ApiError::field("token", "invalid", "is invalid, expired or already used")
}

pub async fn confirm(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    ApiJson(request): ApiJson<ResetConfirm>,
) -> Response {
    let checks = [reset_bucket(&state, &context)];
    ratelimit::enforce(state.rate_limiter(), &checks, confirm_reset(state.clone(), context, request)).await
}

async fn confirm_reset(
    state: AppState,
    context: RequestContext,
    request: ResetConfirm,
) -> Result<StatusCode, ApiError> {
    let db = state.db();
    let token_hash = secret_token::hash(request.token.trim());
    let reset = password_resets::find_valid(db.conn(), &token_hash, Utc::now()).await?.ok_or_else(invalid_token)?;
    let user = users::get(db.conn(), reset.scope(), reset.user_id).await.map_err(|_| invalid_token())?;
    let policy = PasswordPolicy { email: &user.email, name: &user.name };
    let errors = ValidationErrors(policy.field_errors("new_password", &request.new_password));
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let hash = state.hasher().hash(SecretString::from(request.new_password)).await?;
    let now = Utc::now();
    let txn = db.begin().await?;
    password_resets::claim(&txn, &token_hash, now).await?.ok_or_else(invalid_token)?;
    users::set_password_hash(&txn, reset.scope(), user.id, &hash).await?;
    let ended = crate::services::credentials::after_password_change(&txn, reset.scope(), user.id, None, now).await?;
    let event = AuditEvent::new(
        Some(user.team_id),
        Actor::User { id: user.id, email: user.email.clone() },
        AuditAction::PasswordReset,
        &context,
    )
    .entity("user", user.id)
    .details(json!({ "reset_id": reset.id, "sessions_revoked": ended.sessions_revoked,
                     "tokens_revoked": ended.tokens_revoked, "reset_links_voided": ended.reset_links_voided }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

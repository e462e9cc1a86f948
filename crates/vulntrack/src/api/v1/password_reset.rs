//! Password reset: by emailed link, or by a link an administrator creates.
//! Adapters over the password reset service.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vulntrack_domain::UserId;

use crate::{
    app::AppState,
    auth::Principal,
    http::{ApiError, ApiJson, ClientContext, path_id},
    ratelimit::{self, budgets},
    services::password_resets,
};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResetRequest {
    email: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResetConfirm {
    token: String,
    new_password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ResetLink {
    reset_url: String,
    expires_at: DateTime<Utc>,
}

/// Always 202, whether or not the email belongs to anyone, so the answer
/// cannot be used to find out who has an account.
#[utoipa::path(
    post, path = "/auth/password-reset", tag = "auth", security(()),
    request_body = ResetRequest,
    responses((status = 202, description = "Accepted, whether or not the address has an account"))
)]
pub async fn request(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    ApiJson(request): ApiJson<ResetRequest>,
) -> Response {
    let checks = [budgets::accounts_and_resets(&state, &context)];
    let work = async {
        password_resets::request_link(&state, &context, &request.email).await?;
        Ok::<_, ApiError>(StatusCode::ACCEPTED)
    };
    ratelimit::enforce(state.rate_limiter(), &checks, work).await
}

/// An ADMIN creates a reset link for a member of the team.
#[utoipa::path(
    post, path = "/users/{id}/password-reset", tag = "users",
    params(("id" = String, Path, description = "The member's id")),
    responses((status = 201, description = "A one-time reset link for the member", body = ResetLink))
)]
pub async fn admin_link(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<ResetLink>), ApiError> {
    let member = UserId::from_uuid(path_id(&id)?);
    let link = password_resets::issue_for_member(&state, &principal, &context, member).await?;
    Ok((StatusCode::CREATED, Json(ResetLink { reset_url: link.url, expires_at: link.expires_at })))
}

#[utoipa::path(
    post, path = "/auth/password-reset/confirm", tag = "auth", security(()),
    request_body = ResetConfirm,
    responses((status = 204, description = "Password set; every session, API token and reset link of the account ended"))
)]
pub async fn confirm(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    ApiJson(request): ApiJson<ResetConfirm>,
) -> Response {
    let checks = [budgets::accounts_and_resets(&state, &context)];
    let work = async {
        password_resets::confirm(&state, &context, &request.token, request.new_password).await?;
        Ok::<_, ApiError>(StatusCode::NO_CONTENT)
    };
    ratelimit::enforce(state.rate_limiter(), &checks, work).await
}

//! Signing in and out.

use axum::{Json, extract::State, http::StatusCode, response::Response};
use axum_extra::extract::CookieJar;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use vulntrack_store::{
    audit::{self, AuditEvent},
    sessions,
};

use super::views::{UserEnvelope, UserView};
use crate::{
    app::AppState,
    auth::{Principal, cookie},
    http::{ApiError, ApiJson, ClientContext},
    ratelimit,
    services::sessions as sign_in,
};

#[derive(Deserialize)]
pub struct LoginRequest {
    email: String,
    password: String,
}

/// Sign-in is limited per (client, email) and per client, before any
/// password is checked.
pub async fn login(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    jar: CookieJar,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Response {
    let checks = sign_in::limits(&state, &context, &request.email);
    let work = async {
        let signed_in = sign_in::sign_in(&state, &context, &request.email, request.password).await?;
        let user = UserView::load(state.db().conn(), signed_in.user).await?;
        Ok::<_, ApiError>((jar.add(signed_in.cookie), Json(UserEnvelope { user })))
    };
    ratelimit::enforce(state.rate_limiter(), &checks, work).await
}

pub async fn logout(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    jar: CookieJar,
) -> Result<(StatusCode, CookieJar), ApiError> {
    let cleared = sign_in::sign_out(&state, &context, &principal).await?;
    Ok((StatusCode::NO_CONTENT, jar.add(cleared)))
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

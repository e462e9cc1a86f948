//! Signing in and out.

use super::views::{UserEnvelope, UserView};
use crate::{
    app::AppState,
    auth::{Principal, cookie},
    http::{ApiError, ApiJson, ClientContext},
    ratelimit,
    services::sessions as sign_in,
};
use axum::{Json, body::Bytes, extract::State, http::StatusCode, response::Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use crate::http::error::Problem;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    email: String,
    password: String,
}

/// Sign-in is limited per (client, email) and per client, before any
/// password is checked.
#[utoipa::path(
    post, path = "/auth/login", tag = "auth", security(()),
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in; the session cookie is set", body = UserEnvelope),
              (status = 401, description = "Wrong email or password, or the account is locked or deactivated (one answer for all)",
               body = Problem, content_type = "application/problem+json"))
)]
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

#[utoipa::path(
    post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "This session ended"))
)]
pub async fn logout(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    jar: CookieJar,
) -> Result<(StatusCode, CookieJar), ApiError> {
    let cleared = sign_in::sign_out(&state, &context, &principal).await?;
    Ok((StatusCode::NO_CONTENT, jar.add(cleared)))
}

/// `{"revoke_tokens": true}` (optional) also revokes the account's API
/// tokens.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutAllRequest {
    #[serde(default)]
    revoke_tokens: bool,
}

#[utoipa::path(
    post, path = "/auth/logout-all", tag = "auth",
    request_body(content = Option<LogoutAllRequest>, description = "Optional; an empty body ends sessions only"),
    responses((status = 204, description = "Every session of the account ended (and its API tokens, if asked)"))
)]
pub async fn logout_all(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    jar: CookieJar,
    body: Bytes,
) -> Result<(StatusCode, CookieJar), ApiError> {
    let request: LogoutAllRequest = if body.iter().all(u8::is_ascii_whitespace) {
        LogoutAllRequest::default()
    } else {
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("The body is not valid JSON: {e}")))?;
        crate::http::json::read_shape(value)?
    };
    sign_in::sign_out_everywhere(&state, &context, &principal, request.revoke_tokens).await?;
    Ok((StatusCode::NO_CONTENT, jar.add(cookie::clear(state.config().is_production()))))
}

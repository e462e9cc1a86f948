//! Personal API tokens for scripts and CI pipelines.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vulntrack_domain::{ValidationErrors, validation::not_blank};
use vulntrack_store::api_tokens::{self, ApiToken};

use super::views::Listing;
use crate::http::path_id;
use crate::{
    app::AppState,
    auth::Principal,
    http::{ApiError, ApiJson, ClientContext},
};

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[garde(length(chars, min = 1, max = 100), custom(not_blank))]
    name: String,
    /// Default 90 days; at most the operator's
    /// `VULNTRACK_TOKEN_MAX_TTL`.
    #[garde(range(min = 1))]
    expires_in_days: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenView {
    id: Uuid,
    name: String,
    prefix: String,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    /// Only in the answer to the request that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl TokenView {
    /// A token as listed (its secret is never shown again).
    pub fn listed(token: ApiToken) -> Self {
        Self::new(token, None)
    }

    fn new(token: ApiToken, secret: Option<String>) -> Self {
        Self {
            id: token.id,
            name: token.name,
            prefix: token.prefix,
            expires_at: token.expires_at,
            last_used_at: token.last_used_at,
            created_at: token.created_at,
            token: secret,
        }
    }
}

#[utoipa::path(
    post, path = "/tokens", tag = "tokens",
    request_body = TokenRequest,
    responses((status = 201, description = "The token; its secret is shown this once", body = TokenView))
)]
pub async fn create(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<TokenView>), ApiError> {
    request.validate().map_err(|report| ApiError::Validation(ValidationErrors::from_garde(&report)))?;
    let created =
        crate::services::tokens::create_own(&state, &principal, &context, &request.name, request.expires_in_days)
            .await?;
    Ok((StatusCode::CREATED, Json(TokenView::new(created.token, Some(created.secret)))))
}

#[utoipa::path(
    get, path = "/tokens", tag = "tokens",
    responses((status = 200, description = "The account's live API tokens", body = Listing<TokenView>))
)]
pub async fn list(State(state): State<AppState>, principal: Principal) -> Result<Json<Listing<TokenView>>, ApiError> {
    let tokens = api_tokens::list_live(state.db().conn(), principal.scope(), principal.user.id, Utc::now()).await?;
    Ok(Json(Listing { items: tokens.into_iter().map(|t| TokenView::new(t, None)).collect() }))
}

#[utoipa::path(
    delete, path = "/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked"))
)]
pub async fn revoke(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::services::tokens::revoke_own(&state, &principal, &context, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

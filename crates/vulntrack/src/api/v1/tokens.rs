//! Personal API tokens for scripts and CI pipelines.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Duration, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;
use vulntrack_domain::AuditAction;
use vulntrack_domain::{ValidationErrors, validation::not_blank};
use vulntrack_store::{
    api_tokens::{self, ApiToken, NewApiToken},
    audit::{self, AuditEvent},
};

use super::views::{Listing, path_id};
use crate::{
    app::AppState,
    auth::{Principal, principal::Credential, secret_token},
    http::{ApiError, ApiJson, ClientContext},
};

pub const TOKEN_PREFIX: &str = "vt_";
/// Every token expires; this is its lifetime when none is asked for.
pub const DEFAULT_TOKEN_DAYS: i64 = 90;
/// How much of a token is kept in clear to tell tokens apart.
const SHOWN_PREFIX_CHARS: usize = 10;

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[garde(length(chars, min = 1, max = 100), custom(not_blank))]
    name: String,
    /// Default [`DEFAULT_TOKEN_DAYS`]; at most the operator's
    /// `VULNTRACK_TOKEN_MAX_TTL`.
    #[garde(range(min = 1))]
    expires_in_days: Option<i64>,
}

#[derive(Serialize)]
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

pub async fn create(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<TokenView>), ApiError> {
    // A stolen token must not be able to mint itself successors.
    if let Credential::ApiToken(_) = principal.credential {
        return Err(ApiError::Forbidden("API tokens are created from a signed-in session."));
    }
    request.validate().map_err(|report| ApiError::Validation(ValidationErrors::from_garde(&report)))?;
    let secret = secret_token::issue(TOKEN_PREFIX);
    let prefix: String = secret.plain.chars().take(SHOWN_PREFIX_CHARS).collect();
    let max_days = i64::try_from(state.config().token_max_ttl.as_secs() / 86_400).unwrap_or(i64::MAX);
    let days = request.expires_in_days.unwrap_or(DEFAULT_TOKEN_DAYS.min(max_days));
    if days > max_days {
        return Err(ApiError::field(
            "expires_in_days",
            "range",
            &format!("must be at most {max_days} days (the operator's maximum token lifetime)"),
        ));
    }
    let expires_at = Some(Utc::now() + Duration::days(days));
    let txn = state.db().begin().await?;
    let token = api_tokens::create(
        &txn,
        principal.scope(),
        NewApiToken {
            user_id: principal.user.id,
            name: request.name.trim(),
            token_hash: &secret.hash,
            prefix: &prefix,
            expires_at,
        },
    )
    .await?;
    let event = AuditEvent::new(Some(principal.user.team_id), principal.actor(), AuditAction::TokenCreated, &context)
        .entity("api_token", token.id)
        .details(json!({ "name": token.name, "expires_at": token.expires_at }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(TokenView::new(token, Some(secret.plain)))))
}

pub async fn list(State(state): State<AppState>, principal: Principal) -> Result<Json<Listing<TokenView>>, ApiError> {
    let tokens = api_tokens::list_live(state.db().conn(), principal.scope(), principal.user.id, Utc::now()).await?;
    Ok(Json(Listing { items: tokens.into_iter().map(|t| TokenView::new(t, None)).collect() }))
}

pub async fn revoke(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id)?;
    let txn = state.db().begin().await?;
    if !api_tokens::revoke(&txn, principal.scope(), principal.user.id, id, Utc::now()).await? {
        return Err(ApiError::NotFound);
    }
    let event = AuditEvent::new(Some(principal.user.team_id), principal.actor(), AuditAction::TokenRevoked, &context)
        .entity("api_token", id);
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Team administration of users (ADMIN): list, change role or status,
//! unlock.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use chrono::Utc;
use vulntrack_domain::{Action, UserId};
use vulntrack_store::{api_tokens, teams, users};

use super::tokens::TokenView;
use super::views::{Listing, UserView};
use crate::http::path_id;
use crate::services::members::{self, MemberChange};
use crate::{
    app::AppState,
    auth::Principal,
    http::{
        ApiError, ApiJson, ClientContext,
        versioning::{IfMatch, with_etag},
    },
};

#[utoipa::path(
    get, path = "/users", tag = "users",
    responses((status = 200, description = "The team's members", body = Listing<UserView>))
)]
pub async fn list(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
) -> Result<Json<Listing<UserView>>, ApiError> {
    principal.require(&state, &context, Action::ManageUsers).await?;
    let db = state.db().conn();
    let team = teams::get(db, principal.scope()).await?;
    let members = users::list(db, principal.scope()).await?;
    Ok(Json(Listing { items: members.into_iter().map(|u| UserView::new(u, team.name.clone())).collect() }))
}

#[utoipa::path(
    patch, path = "/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The member's id"),
           ("If-Match" = Option<String>, Header, description = "The ETag read; a newer version answers 412")),
    request_body = MemberChange,
    responses((status = 200, description = "The changed member", body = UserView))
)]
pub async fn update(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<MemberChange>,
) -> Result<Response, ApiError> {
    let id = UserId::from_uuid(path_id(&id)?);
    let after = members::update(&state, &principal, &context, id, change, &if_match).await?;
    let version = after.version;
    Ok(with_etag(Json(UserView::load(state.db().conn(), after).await?), version))
}

#[utoipa::path(
    post, path = "/users/{id}/unlock", tag = "users",
    params(("id" = String, Path, description = "The member's id")),
    responses((status = 204, description = "The lockout lifted"))
)]
pub async fn unlock(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    members::unlock(&state, &principal, &context, UserId::from_uuid(path_id(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete, path = "/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The member's id"),
           ("If-Match" = Option<String>, Header, description = "The ETag read; a newer version answers 412")),
    responses((status = 204, description = "Deleted; their records stay"))
)]
pub async fn delete(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    members::delete(&state, &principal, &context, UserId::from_uuid(path_id(&id)?), &if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A member's live API tokens (ADMIN): to see what a departing or
/// compromised account can still do.
#[utoipa::path(
    get, path = "/users/{id}/tokens", tag = "users",
    params(("id" = String, Path, description = "The member's id")),
    responses((status = 200, description = "The member's live API tokens", body = Listing<TokenView>))
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Listing<super::tokens::TokenView>>, ApiError> {
    principal.require(&state, &context, Action::ManageUsers).await?;
    let member = users::get(state.db().conn(), principal.scope(), UserId::from_uuid(path_id(&id)?)).await?;
    let tokens = api_tokens::list_live(state.db().conn(), principal.scope(), member.id, Utc::now()).await?;
    Ok(Json(Listing { items: tokens.into_iter().map(super::tokens::TokenView::listed).collect() }))
}

/// Revokes one of a member's API tokens (ADMIN).
#[utoipa::path(
    delete, path = "/users/{id}/tokens/{token_id}", tag = "users",
    params(("id" = String, Path, description = "The member's id"), ("token_id" = String, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked"))
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path((id, token_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    crate::services::tokens::revoke_member_token(
        &state,
        &principal,
        &context,
        UserId::from_uuid(path_id(&id)?),
        path_id(&token_id)?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Comments on a vulnerability.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vulntrack_domain::UserId;
use vulntrack_store::{
    comments::{self, Comment},
    vulnerabilities,
};

use super::views::Listing;
use crate::http::path_id;
use crate::{
    app::AppState,
    auth::Principal,
    http::{
        ApiError, ApiJson, ClientContext,
        versioning::{IfMatch, with_etag},
    },
    services,
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentView {
    id: Uuid,
    vulnerability_id: Uuid,
    author_id: UserId,
    /// Markdown, as written; renderers must sanitise it.
    body: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Bumped by every edit; also the `ETag`, for `If-Match`.
    version: i64,
}

impl From<Comment> for CommentView {
    fn from(c: Comment) -> Self {
        Self {
            id: c.id,
            vulnerability_id: c.vulnerability_id,
            author_id: c.author_id,
            body: c.body,
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    body: String,
}

#[utoipa::path(
    get, path = "/vulnerabilities/{id}/comments", tag = "comments",
    params(("id" = String, Path, description = "The record's id or key (VT-42)")),
    responses((status = 200, description = "The thread, oldest first", body = Listing<CommentView>))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Listing<CommentView>>, ApiError> {
    let db = state.db().conn();
    let target = vulnerabilities::find(db, principal.scope(), &id).await?;
    let items = comments::list_for(db, principal.scope(), target.id).await?;
    Ok(Json(Listing { items: items.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(
    post, path = "/vulnerabilities/{id}/comments", tag = "comments",
    params(("id" = String, Path, description = "The record's id or key (VT-42)")),
    request_body = CommentBody,
    responses((status = 201, description = "The comment", body = CommentView))
)]
pub async fn create(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CommentBody>,
) -> Result<Response, ApiError> {
    let comment = services::comments::add(&state, &principal, &context, &id, &request.body).await?;
    let version = comment.version;
    Ok(with_etag((StatusCode::CREATED, Json(CommentView::from(comment))), version))
}

#[utoipa::path(
    patch, path = "/comments/{id}", tag = "comments",
    params(("id" = String, Path, description = "The comment's id"),
           ("If-Match" = Option<String>, Header, description = "The ETag read; a newer version answers 412")),
    request_body = CommentBody,
    responses((status = 200, description = "The edited comment", body = CommentView))
)]
pub async fn update(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CommentBody>,
) -> Result<Response, ApiError> {
    let comment =
        services::comments::edit(&state, &principal, &context, path_id(&id)?, &request.body, &if_match).await?;
    let version = comment.version;
    Ok(with_etag(Json(CommentView::from(comment)), version))
}

#[utoipa::path(
    delete, path = "/comments/{id}", tag = "comments",
    params(("id" = String, Path, description = "The comment's id"),
           ("If-Match" = Option<String>, Header, description = "The ETag read; a newer version answers 412")),
    responses((status = 204, description = "Deleted"))
)]
pub async fn delete(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    services::comments::delete(&state, &principal, &context, path_id(&id)?, &if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

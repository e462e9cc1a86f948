//! Saved views of the vulnerability list: named filter sets, personal or
//! shared with the team.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vulntrack_store::saved_views::SavedView;

use super::views::Listing;
use crate::http::path_id;
use crate::{
    app::AppState,
    auth::Principal,
    http::{ApiError, ApiJson, ClientContext},
    services,
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedViewRequest {
    /// 1–80 characters, unique among your own views.
    name: String,
    /// The list's query string (`severity=HIGH&status=OPEN&sort=-cvss&col=key…`):
    /// the filters of `GET /vulnerabilities`, plus `col` for the page's columns.
    /// Stored in a canonical form, without any cursor.
    #[serde(default)]
    query: String,
    /// Listed for the whole team (ANALYST and ADMIN only).
    #[serde(default)]
    shared: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SavedViewView {
    id: Uuid,
    name: String,
    query: String,
    shared: bool,
    owner_id: Uuid,
    created_at: DateTime<Utc>,
}

impl From<SavedView> for SavedViewView {
    fn from(view: SavedView) -> Self {
        Self {
            id: view.id,
            name: view.name,
            query: view.query,
            shared: view.shared,
            owner_id: view.owner_id.as_uuid(),
            created_at: view.created_at,
        }
    }
}

#[utoipa::path(
    post, path = "/saved-views", tag = "vulnerabilities",
    request_body = SavedViewRequest,
    responses((status = 201, description = "The view, its query in canonical form", body = SavedViewView))
)]
pub async fn create(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiJson(request): ApiJson<SavedViewRequest>,
) -> Result<(StatusCode, Json<SavedViewView>), ApiError> {
    let view =
        services::saved_views::create(&state, &principal, &context, &request.name, &request.query, request.shared)
            .await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

#[utoipa::path(
    get, path = "/saved-views", tag = "vulnerabilities",
    responses((status = 200, description = "Your views and the team's shared ones, by name", body = Listing<SavedViewView>))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Listing<SavedViewView>>, ApiError> {
    let views = services::saved_views::visible(&state, &principal).await?;
    Ok(Json(Listing { items: views.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(
    delete, path = "/saved-views/{id}", tag = "vulnerabilities",
    params(("id" = String, Path, description = "The view's id")),
    responses((status = 204, description = "Deleted"))
)]
pub async fn delete(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    services::saved_views::delete(&state, &principal, &context, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

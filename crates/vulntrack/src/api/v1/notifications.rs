//! The signed-in user's notifications.

use crate::http::ApiQuery;
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vulntrack_store::notifications::{self, Notification};

use crate::http::path_id;
use crate::{app::AppState, auth::Principal, http::ApiError};

/// The newest this many are listed.
const LIST_LIMIT: u64 = 200;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    id: Uuid,
    kind: String,
    message: String,
    vulnerability_id: Option<Uuid>,
    read: bool,
    read_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            kind: n.kind,
            message: n.message,
            vulnerability_id: n.vulnerability_id,
            read: n.read_at.is_some(),
            read_at: n.read_at,
            created_at: n.created_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    unread: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationList {
    items: Vec<NotificationView>,
    unread_count: u64,
}

#[utoipa::path(
    get, path = "/notifications", tag = "notifications",
    params(ListParams),
    responses((status = 200, description = "The newest notifications", body = NotificationList))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<NotificationList>, ApiError> {
    let db = state.db().conn();
    let scope = principal.scope();
    let items = notifications::list(db, scope, principal.user.id, params.unread.unwrap_or(false), LIST_LIMIT).await?;
    let unread_count = notifications::unread_count(db, scope, principal.user.id).await?;
    Ok(Json(NotificationList { items: items.into_iter().map(Into::into).collect(), unread_count }))
}

#[utoipa::path(
    post, path = "/notifications/{id}/read", tag = "notifications",
    params(("id" = String, Path, description = "The notification's id")),
    responses((status = 204, description = "Marked read"))
)]
pub async fn mark_read(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !notifications::mark_read(state.db().conn(), principal.scope(), principal.user.id, path_id(&id)?).await? {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/notifications/read-all", tag = "notifications",
    responses((status = 204, description = "All marked read"))
)]
pub async fn mark_all_read(State(state): State<AppState>, principal: Principal) -> Result<StatusCode, ApiError> {
    notifications::mark_all_read(state.db().conn(), principal.scope(), principal.user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Inviting people into the team (ADMIN).

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vulntrack_domain::{Action, Role};
use vulntrack_store::invitations::{self, Invitation};

use super::views::Listing;
use crate::http::path_id;
use crate::{
    app::AppState,
    auth::Principal,
    http::{ApiError, ApiJson, ClientContext},
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InvitationRequest {
    email: String,
    role: Role,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InvitationView {
    id: Uuid,
    email: String,
    role: Role,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    expired: bool,
    /// Only in the answer to the request that created it: the token is
    /// stored hashed and cannot be shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    invite_url: Option<String>,
}

impl InvitationView {
    fn new(invitation: Invitation, invite_url: Option<String>) -> Self {
        Self {
            expired: invitation.expires_at <= Utc::now(),
            id: invitation.id,
            email: invitation.email,
            role: invitation.role,
            expires_at: invitation.expires_at,
            created_at: invitation.created_at,
            invite_url,
        }
    }
}

#[utoipa::path(
    post, path = "/invitations", tag = "users",
    request_body = InvitationRequest,
    responses((status = 201, description = "The invitation, with its one-time link", body = InvitationView))
)]
pub async fn create(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiJson(request): ApiJson<InvitationRequest>,
) -> Result<(StatusCode, Json<InvitationView>), ApiError> {
    let invited =
        crate::services::invitations::invite(&state, &principal, &context, &request.email, request.role).await?;
    Ok((StatusCode::CREATED, Json(InvitationView::new(invited.invitation, Some(invited.link)))))
}

#[utoipa::path(
    get, path = "/invitations", tag = "users",
    responses((status = 200, description = "Pending invitations", body = Listing<InvitationView>))
)]
pub async fn list(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
) -> Result<Json<Listing<InvitationView>>, ApiError> {
    principal.require(&state, &context, Action::ManageUsers).await?;
    let pending = invitations::list_pending(state.db().conn(), principal.scope()).await?;
    Ok(Json(Listing { items: pending.into_iter().map(|i| InvitationView::new(i, None)).collect() }))
}

#[utoipa::path(
    delete, path = "/invitations/{id}", tag = "users",
    params(("id" = String, Path, description = "The invitation's id")),
    responses((status = 204, description = "Withdrawn"))
)]
pub async fn delete(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::services::invitations::withdraw(&state, &principal, &context, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Inviting people into the team (ADMIN).

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
use vulntrack_domain::{Action, Role, ValidationErrors};
use vulntrack_store::{
    audit::{self, AuditEvent},
    invitations::{self, Invitation, NewInvitation},
    users,
};

use super::views::{Listing, path_id};
use crate::{
    app::AppState,
    auth::{Principal, secret_token},
    http::{ApiError, ApiJson, ClientContext},
};

#[derive(Debug, Deserialize, Validate)]
pub struct InvitationRequest {
    #[garde(email, length(max = 254))]
    email: String,
    #[garde(skip)]
    role: Role,
}

#[derive(Serialize)]
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

pub async fn create(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiJson(mut request): ApiJson<InvitationRequest>,
) -> Result<(StatusCode, Json<InvitationView>), ApiError> {
    principal.require(&state, &context, Action::ManageUsers).await?;
    request.email = request.email.trim().to_string();
    request.validate().map_err(|report| ApiError::Validation(ValidationErrors::from_garde(&report)))?;
    // Only a member of this very team is reported: an account in another
    // team must stay invisible, so its address is invited like a new one
    // (its owner, not the inviter, learns at sign-up that it is taken).
    if users::find_for_sign_in(state.db().conn(), &request.email)
        .await?
        .is_some_and(|found| found.user.team_id == principal.user.team_id)
    {
        return Err(ApiError::field("email", "taken", "is already a member of your team"));
    }
    let secret = secret_token::issue("");
    let ttl = Duration::from_std(state.config().invite_ttl).unwrap_or(Duration::hours(72));
    let txn = state.db().begin().await?;
    let invitation = invitations::create(
        &txn,
        principal.scope(),
        NewInvitation {
            email: &request.email,
            role: request.role,
            token_hash: &secret.hash,
            invited_by: principal.user.id,
            expires_at: Utc::now() + ttl,
        },
    )
    .await?;
    let event = AuditEvent::new(Some(principal.user.team_id), principal.actor(), AuditAction::UserInvited, &context)
        .entity("invitation", invitation.id)
        .details(json!({ "email": invitation.email, "role": invitation.role, "expires_at": invitation.expires_at }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    let invite_url = state.link(&format!("/invite?token={}", secret.plain));
    Ok((StatusCode::CREATED, Json(InvitationView::new(invitation, Some(invite_url)))))
}

pub async fn list(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
) -> Result<Json<Listing<InvitationView>>, ApiError> {
    principal.require(&state, &context, Action::ManageUsers).await?;
    let pending = invitations::list_pending(state.db().conn(), principal.scope()).await?;
    Ok(Json(Listing { items: pending.into_iter().map(|i| InvitationView::new(i, None)).collect() }))
}

pub async fn delete(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(&state, &context, Action::ManageUsers).await?;
    let id = path_id(&id)?;
    let txn = state.db().begin().await?;
    let removed = invitations::delete_pending(&txn, principal.scope(), id).await?.ok_or(ApiError::NotFound)?;
    let event =
        AuditEvent::new(Some(principal.user.team_id), principal.actor(), AuditAction::InvitationRevoked, &context)
            .entity("invitation", id)
            .details(json!({ "email": removed.email, "role": removed.role }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

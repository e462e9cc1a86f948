//! Inviting people into the team (ADMIN), and withdrawing an invitation.

use chrono::{Duration, Utc};
use serde_json::json;
use uuid::Uuid;
use vulntrack_domain::{Action, AuditAction, FieldError, Role};
use vulntrack_store::{
    audit::{self, AuditEvent, RequestContext},
    invitations::{self, Invitation, NewInvitation},
    users,
};

use crate::{
    app::AppState,
    auth::{Principal, secret_token},
    services::ServiceError,
};

/// A new invitation and the one link that accepts it (shown once).
#[derive(Debug)]
pub struct Invited {
    pub invitation: Invitation,
    pub link: String,
}

/// Invites `email` as `role`. Only a member of this very team is reported:
/// an account in another team must stay invisible, so its address is
/// invited like a new one (its owner, not the inviter, learns at sign-up
/// that it is taken).
pub async fn invite(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    email: &str,
    role: Role,
) -> Result<Invited, ServiceError> {
    principal.require(state, context, Action::ManageUsers).await?;
    let email = email.trim();
    let well_formed = email.len() <= 254 && garde::rules::email::parse_email(email).is_ok();
    if !well_formed {
        return Err(ServiceError::Invalid(FieldError::new("email", "email", "is not a valid email address").into()));
    }
    if users::find_for_sign_in(state.db().conn(), email)
        .await?
        .is_some_and(|found| found.user.team_id == principal.user.team_id)
    {
        return Err(ServiceError::field("email", "taken", "is already a member of your team"));
    }
    let secret = secret_token::issue("");
    let ttl = Duration::from_std(state.config().invite_ttl).unwrap_or(Duration::hours(72));
    let txn = state.db().begin().await?;
    let invitation = invitations::create(
        &txn,
        principal.scope(),
        NewInvitation {
            email,
            role,
            token_hash: &secret.hash,
            invited_by: principal.user.id,
            expires_at: Utc::now() + ttl,
        },
    )
    .await?;
    let event = AuditEvent::new(principal.scope(), principal.actor(), AuditAction::UserInvited, context)
        .entity("invitation", invitation.id)
        .details(json!({ "email": invitation.email, "role": invitation.role, "expires_at": invitation.expires_at }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    let link = state.link(&format!("/invite?token={}", secret.plain));
    Ok(Invited { invitation, link })
}

/// Withdraws a pending invitation of the team.
pub async fn withdraw(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id: Uuid,
) -> Result<(), ServiceError> {
    principal.require(state, context, Action::ManageUsers).await?;
    let txn = state.db().begin().await?;
    let removed = invitations::delete_pending(&txn, principal.scope(), id).await?.ok_or(ServiceError::NotFound)?;
    let event = AuditEvent::new(principal.scope(), principal.actor(), AuditAction::InvitationRevoked, context)
        .entity("invitation", id)
        .details(json!({ "email": removed.email, "role": removed.role }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

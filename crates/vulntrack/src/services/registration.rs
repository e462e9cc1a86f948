//! Creating an account: by invitation (the default), or, when the operator
//! opens registration, as the administrator of a new team.

use chrono::Utc;
use serde_json::json;
use vulntrack_domain::{AccountInput, AuditAction, Role};
use vulntrack_store::{
    audit::{self, Actor, AuditEvent, RequestContext},
    invitations,
    teams::{self, Team},
    users::User,
};

use super::{ServiceError, accounts};
use crate::{app::AppState, auth::secret_token, config::Registration};

/// What someone signing up sends.
#[derive(Debug, Clone, Default)]
pub struct Registering {
    /// The invitation's secret; without one, registration must be open.
    pub token: Option<String>,
    pub name: String,
    pub password: String,
    /// Open registration only: the invited email is used otherwise.
    pub email: Option<String>,
    /// Open registration only: the new team's name.
    pub team_name: Option<String>,
}

fn invalid_invitation() -> ServiceError {
    ServiceError::field("token", "invalid", "is invalid, expired or already used")
}

/// Creates the account the invitation (or open registration) allows.
pub async fn register(
    state: &AppState,
    context: &RequestContext,
    input: Registering,
) -> Result<(Team, User), ServiceError> {
    match input.token.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(token) => accept_invitation(state, context, token, input.name, input.password).await,
        None => register_open(state, context, input).await,
    }
}

/// Joins the inviting team with the invited email and role; the link works
/// once, even when two people race with it.
pub async fn accept_invitation(
    state: &AppState,
    context: &RequestContext,
    token: &str,
    name: String,
    password: String,
) -> Result<(Team, User), ServiceError> {
    let db = state.db();
    let token_hash = secret_token::hash(token.trim());
    let invitation =
        invitations::find_valid(db.conn(), &token_hash, Utc::now()).await?.ok_or_else(invalid_invitation)?;
    let team = teams::get(db.conn(), invitation.scope()).await?;
    let account = AccountInput {
        team_name: team.name.clone(),
        email: invitation.email.clone(),
        name,
        role: invitation.role,
        password,
    }
    .validate_all()?;
    let password_hash = accounts::hash_password(state.hasher(), &account).await?;

    let txn = db.begin().await?;
    let claimed = invitations::claim(&txn, &token_hash, Utc::now()).await?.ok_or_else(invalid_invitation)?;
    let user = accounts::insert_user(&txn, claimed.scope(), &account, &password_hash).await?;
    let event = AuditEvent::new(
        team.scope(),
        Actor::User { id: user.id, email: user.email.clone() },
        AuditAction::InvitationAccepted,
        context,
    )
    .entity("user", user.id)
    .details(json!({ "invitation_id": claimed.id, "role": user.role, "invited_by": claimed.invited_by }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok((team, user))
}

async fn register_open(
    state: &AppState,
    context: &RequestContext,
    input: Registering,
) -> Result<(Team, User), ServiceError> {
    if state.config().registration != Registration::Open {
        // Refusals are audited like any other (instance-wide: no team yet).
        let txn = state.db().begin().await?;
        let event = AuditEvent::new(audit::Tenancy::Instance, Actor::Anonymous, AuditAction::PermissionDenied, context)
            .details(json!({ "action": "REGISTER", "reason": "registration is by invitation" }));
        audit::append(&txn, event).await?;
        txn.commit().await?;
        return Err(ServiceError::NotAllowed(
            "Registration is by invitation only; ask an administrator for an invite.",
        ));
    }
    let account = AccountInput {
        team_name: input.team_name.unwrap_or_default(),
        email: input.email.unwrap_or_default(),
        name: input.name,
        role: Role::Admin,
        password: input.password,
    }
    .validate_all()?;
    let password_hash = accounts::hash_password(state.hasher(), &account).await?;
    let txn = state.db().begin().await?;
    let team = teams::create(&txn, &account.team_name).await?;
    let user = accounts::insert_user(&txn, team.scope(), &account, &password_hash).await?;
    let event = AuditEvent::new(
        team.scope(),
        Actor::User { id: user.id, email: user.email.clone() },
        AuditAction::UserRegistered,
        context,
    )
    .entity("user", user.id)
    .details(json!({ "team_name": team.name, "role": user.role }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok((team, user))
}

//! Creating an account: by invitation (the default), or, when the operator
//! opens registration, as the administrator of a new team.

use crate::ratelimit;
use axum::response::Response;
use vulntrack_domain::AuditAction;
use vulntrack_store::audit::RequestContext;

use axum::{Json, extract::State, http::StatusCode};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use vulntrack_domain::{AccountInput, Role};
use vulntrack_store::{
    audit::{self, Actor, AuditEvent},
    invitations, teams,
};

use super::views::{UserEnvelope, UserView};
use crate::{
    app::AppState,
    auth::secret_token,
    config::Registration,
    http::{ApiError, ApiJson, ClientContext},
    services::accounts,
};

#[derive(Deserialize)]
pub struct RegisterRequest {
    token: Option<String>,
    name: String,
    password: String,
    /// Open registration only: the invited email is used otherwise.
    email: Option<String>,
    /// Open registration only: the new team's name.
    team_name: Option<String>,
}

fn invalid_invitation() -> ApiError {
    ApiError::field("token", "invalid", "is invalid, expired or already used")
}

pub async fn register(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Response {
    let checks = [super::password_reset::reset_bucket(&state, &context)];
    ratelimit::enforce(state.rate_limiter(), &checks, create_account(state.clone(), context, request)).await
}

pub(crate) async fn create_account(
    state: AppState,
    context: RequestContext,
    request: RegisterRequest,
) -> Result<(StatusCode, Json<UserEnvelope>), ApiError> {
    let db = state.db();
    let Some(token) = request.token.filter(|t| !t.trim().is_empty()) else {
        return register_open(state.clone(), context, request.name, request.password, request.email, request.team_name)
            .await;
    };
    let token_hash = secret_token::hash(token.trim());
    let invitation =
        invitations::find_valid(db.conn(), &token_hash, Utc::now()).await?.ok_or_else(invalid_invitation)?;
    let team = teams::get(db.conn(), invitation.scope()).await?;
    let account = AccountInput {
        team_name: team.name.clone(),
        email: invitation.email.clone(),
        name: request.name,
        role: invitation.role,
        password: request.password,
    }
    .validate_all()
    .map_err(ApiError::Validation)?;
    let password_hash = accounts::hash_password(state.hasher(), &account).await?;

    let txn = db.begin().await?;
    // Claiming inside the transaction makes the link single-use even when
    // two people race with it.
    let claimed = invitations::claim(&txn, &token_hash, Utc::now()).await?.ok_or_else(invalid_invitation)?;
    let user = accounts::insert_user(&txn, claimed.scope(), &account, &password_hash).await?;
    let event = AuditEvent::new(
        Some(team.id),
        Actor::User { id: user.id, email: user.email.clone() },
        AuditAction::InvitationAccepted,
        &context,
    )
    .entity("user", user.id)
    .details(json!({ "invitation_id": claimed.id, "role": user.role, "invited_by": claimed.invited_by }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(UserEnvelope { user: UserView::new(user, team.name) })))
}

async fn register_open(
    state: AppState,
    context: vulntrack_store::audit::RequestContext,
    name: String,
    password: String,
    email: Option<String>,
    team_name: Option<String>,
) -> Result<(StatusCode, Json<UserEnvelope>), ApiError> {
    if state.config().registration != Registration::Open {
        return Err(ApiError::Forbidden("Registration is by invitation only; ask an administrator for an invite."));
    }
    let account = AccountInput {
        team_name: team_name.unwrap_or_default(),
        email: email.unwrap_or_default(),
        name,
        role: Role::Admin,
        password,
    }
    .validate_all()
    .map_err(ApiError::Validation)?;
    let password_hash = accounts::hash_password(state.hasher(), &account).await?;
    let txn = state.db().begin().await?;
    let team = teams::create(&txn, &account.team_name).await?;
    let user = accounts::insert_user(&txn, team.scope(), &account, &password_hash).await?;
    let event = AuditEvent::new(
        Some(team.id),
        Actor::User { id: user.id, email: user.email.clone() },
        AuditAction::UserRegistered,
        &context,
    )
    .entity("user", user.id)
    .details(json!({ "team_name": team.name, "role": user.role }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(UserEnvelope { user: UserView::new(user, team.name) })))
}

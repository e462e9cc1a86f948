//! Revoking API tokens on someone else's behalf: a team ADMIN containing a
//! departing or compromised member's access.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;
use vulntrack_domain::AuditAction;
use vulntrack_domain::{Action, UserId};
use vulntrack_store::{
    api_tokens,
    audit::{self, AuditEvent, RequestContext},
    users,
};

use crate::{app::AppState, auth::Principal, http::ApiError};

/// Revokes one live token of a member of the principal's team; another
/// team's member or token is `NotFound`.
pub async fn revoke_member_token(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    member: UserId,
    token: Uuid,
) -> Result<(), ApiError> {
    principal.require(state, context, Action::ManageUsers).await?;
    let scope = principal.scope();
    let member = users::get(state.db().conn(), scope, member).await?;
    let txn = state.db().begin().await?;
    if !api_tokens::revoke(&txn, scope, member.id, token, Utc::now()).await? {
        return Err(ApiError::NotFound);
    }
    let event = AuditEvent::new(Some(scope.team_id()), principal.actor(), AuditAction::TokenRevoked, context)
        .entity("api_token", token)
        .details(json!({ "owner_id": member.id, "owner_email": member.email }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

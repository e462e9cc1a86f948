//! Team administration of users (ADMIN): list, change role or status,
//! unlock.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use vulntrack_domain::AuditAction;
use vulntrack_domain::{Action, Role, UserId, UserStatus};
use vulntrack_store::{
    api_tokens,
    audit::{self, AuditEvent},
    sessions, teams, users,
};

use super::views::{Listing, UserView, path_id};
use crate::{
    app::AppState,
    auth::Principal,
    http::{
        ApiError, ApiJson, ClientContext,
        versioning::{IfMatch, with_etag},
    },
};

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    role: Option<Role>,
    status: Option<UserStatus>,
}

/// Changes a member's role or status. Member changes of one team are
/// decided one at a time under the team's row lock, so the last active
/// ADMIN cannot be demoted by two concurrent requests each seeing another.
pub async fn update(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<UserChange>,
) -> Result<Response, ApiError> {
    principal.require(&state, &context, Action::ManageUsers).await?;
    let id = UserId::from_uuid(path_id(&id)?);
    let scope = principal.scope();
    let txn = state.db().begin().await?;
    teams::get_for_update(&txn, scope).await?;
    let before = users::get_for_update(&txn, scope, id).await?;
    if_match.check(before.version)?;
    let loses_admin = before.role == Role::Admin
        && before.status == UserStatus::Active
        && (change.role.is_some_and(|r| r != Role::Admin) || change.status == Some(UserStatus::Inactive));
    if loses_admin && users::count_active_admins(&txn, scope).await? <= 1 {
        return Err(ApiError::Conflict("The team's last active administrator cannot be demoted or deactivated."));
    }
    let after = users::set_role_and_status(&txn, scope, id, change.role, change.status).await?;
    let mut fields = Map::new();
    if before.role != after.role {
        fields.insert("role".into(), json!({ "before": before.role, "after": after.role }));
        let event = AuditEvent::new(Some(scope.team_id()), principal.actor(), AuditAction::UserRoleChanged, &context)
            .entity("user", id)
            .details(json!({ "role": { "before": before.role, "after": after.role } }));
        audit::append(&txn, event).await?;
    }
    if before.status != after.status {
        fields.insert("status".into(), json!({ "before": before.status, "after": after.status }));
        let action = if after.status == UserStatus::Inactive {
            AuditAction::UserDeactivated
        } else {
            AuditAction::UserReactivated
        };
        // Deactivation ends the member's sessions and API tokens for good:
        // reactivating does not bring them back.
        if after.status == UserStatus::Inactive {
            let now = Utc::now();
            let sessions = sessions::revoke_all(&txn, scope, id, None, now).await?;
            let tokens = api_tokens::revoke_all(&txn, scope, id, now).await?;
            fields.insert("sessions_revoked".into(), json!(sessions));
            fields.insert("tokens_revoked".into(), json!(tokens));
        }
        let event = AuditEvent::new(Some(scope.team_id()), principal.actor(), action, &context)
            .entity("user", id)
            .details(Value::Object(fields.clone()));
        audit::append(&txn, event).await?;
    }
    txn.commit().await?;
    let version = after.version;
    Ok(with_etag(Json(UserView::load(state.db().conn(), after).await?), version))
}

pub async fn unlock(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(&state, &context, Action::ManageUsers).await?;
    let id = UserId::from_uuid(path_id(&id)?);
    let txn = state.db().begin().await?;
    if !users::unlock(&txn, principal.scope(), id).await? {
        return Err(ApiError::NotFound);
    }
    let event =
        AuditEvent::new(Some(principal.user.team_id), principal.actor(), AuditAction::AccountUnlocked, &context)
            .entity("user", id);
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(&state, &context, Action::ManageUsers).await?;
    let id = UserId::from_uuid(path_id(&id)?);
    let scope = principal.scope();
    let txn = state.db().begin().await?;
    teams::get_for_update(&txn, scope).await?;
    let target = users::get_for_update(&txn, scope, id).await?;
    if_match.check(target.version)?;
    let active_admin = target.role == Role::Admin && target.status == UserStatus::Active;
    if active_admin && users::count_active_admins(&txn, scope).await? <= 1 {
        return Err(ApiError::Conflict("The team's last active administrator cannot be deleted."));
    }
    users::soft_delete(&txn, scope, id).await?;
    let event = AuditEvent::new(Some(scope.team_id()), principal.actor(), AuditAction::UserDeleted, &context)
        .entity("user", id)
        .details(json!({ "email": target.email, "role": target.role }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A member's live API tokens (ADMIN): to see what a departing or
/// compromised account can still do.
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

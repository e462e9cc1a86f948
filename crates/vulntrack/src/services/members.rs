//! A team's members (ADMIN): role and status changes, unlocking, deletion.
//! Member changes of one team are decided one at a time under the team's
//! row lock (the last active ADMIN rule), each with its audit rows in one
//! transaction.

use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use vulntrack_domain::{Action, AuditAction, Role, UserId, UserStatus};
use vulntrack_store::{
    api_tokens,
    audit::{self, AuditEvent, RequestContext},
    sessions, teams,
    users::{self, User},
};

use crate::{app::AppState, auth::Principal, http::versioning::IfMatch, services::ServiceError};

/// A change to a member: a new role, a new status, or both.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberChange {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
}

/// Changes a member's role or status. Member changes of one team are
/// decided one at a time under the team's row lock, so the last active
/// ADMIN cannot be demoted by two concurrent requests each seeing another.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id: UserId,
    change: MemberChange,
    if_match: &IfMatch,
) -> Result<User, ServiceError> {
    principal.require(state, context, Action::ManageUsers).await?;
    let scope = principal.scope();
    let txn = state.db().begin().await?;
    teams::get_for_update(&txn, scope).await?;
    let before = users::get_for_update(&txn, scope, id).await?;
    if_match.check(before.version)?;
    let loses_admin = before.role == Role::Admin
        && before.status == UserStatus::Active
        && (change.role.is_some_and(|r| r != Role::Admin) || change.status == Some(UserStatus::Inactive));
    if loses_admin && users::count_active_admins(&txn, scope).await? <= 1 {
        return Err(ServiceError::Conflict("The team's last active administrator cannot be demoted or deactivated."));
    }
    let after = users::set_role_and_status(&txn, scope, id, change.role, change.status).await?;
    let mut fields = Map::new();
    if before.role != after.role {
        fields.insert("role".into(), json!({ "before": before.role, "after": after.role }));
        let event = AuditEvent::new(scope, principal.actor(), AuditAction::UserRoleChanged, context)
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
        // Deactivation ends the member's sessions, API tokens and reset
        // links for good: reactivating does not bring them back.
        if after.status == UserStatus::Inactive {
            let now = Utc::now();
            let sessions = sessions::revoke_all(&txn, scope, id, None, now).await?;
            let tokens = api_tokens::revoke_all(&txn, scope, id, now).await?;
            let resets = vulntrack_store::password_resets::void_all_for_user(&txn, scope, id, now).await?;
            fields.insert("sessions_revoked".into(), json!(sessions));
            fields.insert("tokens_revoked".into(), json!(tokens));
            fields.insert("reset_links_voided".into(), json!(resets));
        }
        let event = AuditEvent::new(scope, principal.actor(), action, context)
            .entity("user", id)
            .details(Value::Object(fields.clone()));
        audit::append(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(after)
}

/// Lifts a member's lock-out.
pub async fn unlock(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id: UserId,
) -> Result<(), ServiceError> {
    principal.require(state, context, Action::ManageUsers).await?;
    let txn = state.db().begin().await?;
    if !users::unlock(&txn, principal.scope(), id).await? {
        return Err(ServiceError::NotFound);
    }
    let event =
        AuditEvent::new(principal.scope(), principal.actor(), AuditAction::AccountUnlocked, context).entity("user", id);
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes a member (their records stay, shown as a deleted user); the
/// team's last active ADMIN cannot be deleted.
pub async fn delete(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id: UserId,
    if_match: &IfMatch,
) -> Result<(), ServiceError> {
    principal.require(state, context, Action::ManageUsers).await?;
    let scope = principal.scope();
    let txn = state.db().begin().await?;
    teams::get_for_update(&txn, scope).await?;
    let target = users::get_for_update(&txn, scope, id).await?;
    if_match.check(target.version)?;
    let active_admin = target.role == Role::Admin && target.status == UserStatus::Active;
    if active_admin && users::count_active_admins(&txn, scope).await? <= 1 {
        return Err(ServiceError::Conflict("The team's last active administrator cannot be deleted."));
    }
    erase_in(&txn, principal, context, &target).await?;
    txn.commit().await?;
    Ok(())
}

/// Erases `target`'s personal data and records the deletion (without any
/// of it: the row names the member by the label they now carry).
async fn erase_in(
    txn: &sea_orm::DatabaseTransaction,
    principal: &Principal,
    context: &RequestContext,
    target: &users::User,
) -> Result<(), ServiceError> {
    let scope = principal.scope();
    let number = vulntrack_store::personal_data::erased_count(txn, scope).await? + 1;
    let label = format!("Deleted user #{number}");
    let erased = vulntrack_store::personal_data::erase(txn, scope, target.id, &label).await?;
    // The deleting person's own address and browser are not recorded when
    // they delete themselves: the row would otherwise hold what was erased.
    let own = principal.user.id == target.id;
    let context = if own { RequestContext::default() } else { context.clone() };
    let actor = if own { vulntrack_store::audit::Actor::System } else { principal.actor() };
    let event = AuditEvent::new(scope, actor, AuditAction::UserDeleted, &context)
        .entity("user", target.id)
        .details(json!({ "name": label, "role": target.role, "by_themselves": own, "erased": erased }));
    audit::append(txn, event).await?;
    Ok(())
}

/// A member deletes their own account, re-entering their password; the
/// team's last active ADMIN cannot. Their personal data is erased as when
/// an ADMIN deletes them.
pub async fn delete_own_account(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    password: String,
) -> Result<(), ServiceError> {
    let scope = principal.scope();
    let record = users::sign_in_record_of(state.db().conn(), scope, principal.user.id).await?;
    let matched = password.len() <= 1024
        && state.hasher().verify(secrecy::SecretString::from(password), record.password_hash).await?.matched();
    if !matched {
        return Err(ServiceError::field("password", "incorrect", "is not your password"));
    }
    let txn = state.db().begin().await?;
    teams::get_for_update(&txn, scope).await?;
    let target = users::get_for_update(&txn, scope, principal.user.id).await?;
    let active_admin = target.role == Role::Admin && target.status == UserStatus::Active;
    if active_admin && users::count_active_admins(&txn, scope).await? <= 1 {
        return Err(ServiceError::Conflict(
            "You are the team's last active administrator: make another member an administrator first.",
        ));
    }
    erase_in(&txn, principal, context, &target).await?;
    txn.commit().await?;
    Ok(())
}

/// `Ok` when `user` is nobody or an active member of the team; otherwise
/// a field error on `field` (an assignee, an owner).
pub async fn require_active(
    db: &impl sea_orm::ConnectionTrait,
    scope: vulntrack_store::TeamScope,
    user: Option<UserId>,
    field: &str,
) -> Result<(), ServiceError> {
    let Some(id) = user else { return Ok(()) };
    match users::get(db, scope, id).await {
        Ok(member) if member.status == UserStatus::Active => Ok(()),
        Ok(_) | Err(vulntrack_store::StoreError::NotFound) => {
            Err(ServiceError::field(field, "not_member", "must be an active member of your team"))
        }
        Err(other) => Err(other.into()),
    }
}

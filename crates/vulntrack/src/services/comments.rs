//! Comments on vulnerabilities: written by ANALYSTs and ADMINs, edited by
//! their author, deleted by their author or an ADMIN.

use serde_json::json;
use uuid::Uuid;
use vulntrack_domain::AuditAction;
use vulntrack_domain::{Action, validation::FieldError};
use vulntrack_store::{
    audit::{self, AuditEvent, RequestContext},
    comments::{self, Comment},
    notifications, vulnerabilities,
};

use super::vulnerabilities::watchers;
use crate::{app::AppState, auth::Principal, http::versioning::IfMatch, services::ServiceError};

pub const BODY_MAX: usize = 10_000;

fn check_body(body: &str) -> Result<String, ServiceError> {
    let body = body.trim();
    let length = body.chars().count();
    if length == 0 || length > BODY_MAX {
        return Err(ServiceError::Invalid(
            FieldError::new("body", "length", format!("must be 1–{BODY_MAX} characters")).into(),
        ));
    }
    Ok(body.to_string())
}

pub async fn add(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    vulnerability: &str,
    body: &str,
) -> Result<Comment, ServiceError> {
    let scope = principal.scope();
    let target = vulnerabilities::find(state.db().conn(), scope, vulnerability).await?;
    principal.require(state, context, Action::Comment).await?;
    let body = check_body(body)?;
    let txn = state.db().begin().await?;
    let comment = comments::create(&txn, scope, target.id, principal.user.id, &body).await?;
    let event = AuditEvent::new(principal.scope(), principal.actor(), AuditAction::CommentAdded, context)
        .entity("comment", comment.id)
        .details(json!({ "vulnerability_id": target.id, "key": target.key() }));
    audit::append(&txn, event).await?;
    let message = format!("{} commented on {}: {}", principal.user.name, target.key(), target.record.title);
    notifications::notify(&txn, scope, &watchers(&target, principal.user.id), Some(target.id), "COMMENTED", &message)
        .await?;
    txn.commit().await?;
    Ok(comment)
}

/// Edits a comment's body: read under the row lock inside the write
/// transaction, so the audit diff starts from what was really there, and
/// only if it is still the version `if_match` names.
pub async fn edit(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id: Uuid,
    body: &str,
    if_match: &IfMatch,
) -> Result<Comment, ServiceError> {
    let scope = principal.scope();
    let comment = comments::get(state.db().conn(), scope, id).await?;
    principal.require(state, context, Action::Comment).await?;
    if comment.author_id != principal.user.id {
        return Err(principal.deny(state, context, "EDIT_OTHERS_COMMENT", "Only the author can edit a comment.").await);
    }
    let body = check_body(body)?;
    let txn = state.db().begin().await?;
    let comment = comments::get_for_update(&txn, scope, id).await?;
    if_match.check(comment.version)?;
    let updated = comments::update_body(&txn, scope, &comment, &body).await?;
    let event = AuditEvent::new(principal.scope(), principal.actor(), AuditAction::CommentUpdated, context)
        .entity("comment", id)
        .details(json!({ "body": { "before": comment.body, "after": updated.body } }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(updated)
}

pub async fn delete(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id: Uuid,
    if_match: &IfMatch,
) -> Result<(), ServiceError> {
    let scope = principal.scope();
    let comment = comments::get(state.db().conn(), scope, id).await?;
    let own = comment.author_id == principal.user.id;
    principal.require(state, context, if own { Action::Comment } else { Action::ModerateComments }).await?;
    let txn = state.db().begin().await?;
    let comment = comments::get_for_update(&txn, scope, id).await?;
    if_match.check(comment.version)?;
    comments::delete(&txn, scope, id).await?;
    let event = AuditEvent::new(principal.scope(), principal.actor(), AuditAction::CommentDeleted, context)
        .entity("comment", id)
        .details(json!({ "vulnerability_id": comment.vulnerability_id, "author_id": comment.author_id }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

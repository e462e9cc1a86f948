//! Comments on vulnerabilities: written by ANALYSTs and ADMINs, edited by
//! their author, deleted by their author or an ADMIN.

use serde_json::json;
use uuid::Uuid;
use vulntrack_domain::AuditAction;
use vulntrack_domain::{Action, UserId, validation::FieldError};
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
    let members = vulntrack_store::users::list(&txn, scope).await?;
    let mut mentioned: Vec<UserId> =
        mentions(&body, &members).iter().map(|m| m.member.id).filter(|id| *id != principal.user.id).collect();
    mentioned.sort();
    mentioned.dedup();
    if !mentioned.is_empty() {
        let message = format!("{} mentioned you on {}: {}", principal.user.name, target.key(), target.record.title);
        notifications::notify(&txn, scope, &mentioned, Some(target.id), "MENTIONED", &message).await?;
    }
    // Those mentioned have heard of it already.
    let watching: Vec<UserId> =
        watchers(&target, principal.user.id).into_iter().filter(|w| !mentioned.contains(w)).collect();
    let message = format!("{} commented on {}: {}", principal.user.name, target.key(), target.record.title);
    notifications::notify(&txn, scope, &watching, Some(target.id), "COMMENTED", &message).await?;
    super::webhooks::emit(
        &txn,
        scope,
        "comment.created",
        json!({ "comment_id": comment.id, "vulnerability": super::webhooks::record_data(&target), "author_id": principal.user.id, "body": body }),
    )
    .await?;
    txn.commit().await?;
    Ok(comment)
}

/// A mention of a member in a comment: where it is, and whom it names.
#[derive(Debug)]
pub struct Mention<'a> {
    /// Byte range of `@…` in the body.
    pub range: std::ops::Range<usize>,
    pub member: &'a vulntrack_store::users::User,
}

/// The `@name` and `@email` mentions in `body` that name an active member
/// of the team, every occurrence: `@ada@example.com` (an email, in any
/// case), `@AdaLovelace` (the name without spaces) or `@Ada` (a first
/// name only one member has).
pub fn mentions<'a>(body: &str, members: &'a [vulntrack_store::users::User]) -> Vec<Mention<'a>> {
    let active: Vec<&vulntrack_store::users::User> =
        members.iter().filter(|m| m.status == vulntrack_domain::UserStatus::Active).collect();
    let squash = |name: &str| name.split_whitespace().collect::<String>().to_lowercase();
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in body.char_indices() {
        let starts_word = previous.is_none_or(|p| !p.is_alphanumeric());
        previous = Some(c);
        if c != '@' || !starts_word {
            continue;
        }
        let rest = &body[at + 1..];
        let end = rest
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '@')))
            .map_or(rest.len(), |(i, _)| i);
        let token = rest[..end].trim_end_matches(['.', '-']);
        if token.is_empty() {
            continue;
        }
        let lower = token.to_lowercase();
        let by_email = active.iter().find(|m| m.email.to_lowercase() == lower);
        let by_name = active.iter().find(|m| squash(&m.name) == lower);
        let first_names: Vec<&&vulntrack_store::users::User> = active
            .iter()
            .filter(|m| m.name.split_whitespace().next().is_some_and(|f| f.to_lowercase() == lower))
            .collect();
        let by_first = (first_names.len() == 1).then(|| first_names[0]);
        if let Some(member) = by_email.or(by_name).or(by_first) {
            found.push(Mention { range: at..at + 1 + token.len(), member });
        }
    }
    found
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

//! Each person's choice of what they are told, and how.

use serde_json::{Value, json};
use vulntrack_domain::{
    AuditAction, FieldError, ValidationErrors,
    notification_prefs::{Delivery, KINDS, Preferences},
};
use vulntrack_store::{
    audit::{self, AuditEvent, RequestContext},
    users,
};

use crate::{app::AppState, auth::Principal, services::ServiceError};

pub async fn get(state: &AppState, principal: &Principal) -> Result<Preferences, ServiceError> {
    let stored = users::notification_settings(state.db().conn(), principal.scope(), principal.user.id).await?;
    Ok(Preferences::from_stored(stored.as_deref()))
}

/// Changes what `body` names: `kinds` (`{"ASSIGNED": "email" | "in_app" |
/// "off"}`) and `digest` (true or false); the rest stays.
pub async fn set(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    body: &Value,
) -> Result<Preferences, ServiceError> {
    let mut prefs = get(state, principal).await?;
    let mut errors = ValidationErrors::default();
    let Some(fields) = body.as_object() else {
        return Err(ServiceError::field("body", "type", "must be an object with `kinds` and/or `digest`"));
    };
    for (name, value) in fields {
        match (name.as_str(), value) {
            ("digest", Value::Bool(digest)) => prefs.digest = *digest,
            ("digest", _) => errors.push(FieldError::new("digest", "type", "must be true or false")),
            ("kinds", Value::Object(kinds)) => {
                for (kind, choice) in kinds {
                    let field = format!("kinds.{kind}");
                    if !KINDS.iter().any(|(k, ..)| k == kind) {
                        errors.push(FieldError::new(field, "unknown", "is not a kind of notification"));
                        continue;
                    }
                    match choice.as_str().and_then(Delivery::parse) {
                        Some(delivery) => {
                            prefs.kinds.insert(kind.clone(), delivery);
                        }
                        None => errors.push(FieldError::new(field, "invalid", "must be in_app, email or off")),
                    }
                }
            }
            ("kinds", _) => {
                errors.push(FieldError::new("kinds", "type", "must be an object of kind → in_app, email or off"))
            }
            (other, _) => {
                errors.push(FieldError::new(other, "unknown", "is not a notification preference (`kinds`, `digest`)"))
            }
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let scope = principal.scope();
    let txn = state.db().begin().await?;
    users::set_notification_settings(&txn, scope, principal.user.id, &prefs.to_stored()).await?;
    let event = AuditEvent::new(scope, principal.actor(), AuditAction::ProfileUpdated, context)
        .entity("user", principal.user.id)
        .details(json!({ "notification_preferences": view(&prefs) }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(prefs)
}

/// Every kind with where it goes, and the digest.
pub fn view(prefs: &Preferences) -> Value {
    let kinds: serde_json::Map<String, Value> =
        KINDS.iter().map(|(kind, ..)| ((*kind).to_owned(), json!(prefs.delivery(kind).as_str()))).collect();
    json!({ "kinds": kinds, "digest": prefs.digest })
}

/// The most notifications one digest lists.
const DIGEST_ITEMS: u64 = 50;

/// Queues a digest mail for each person who asked for one, whose last one
/// went a day or more before `now`, and who has unread notifications since
/// (any unread, the first time). Returns how many were queued.
pub async fn queue_digests(state: &AppState, now: chrono::DateTime<chrono::Utc>) -> Result<usize, ServiceError> {
    use vulntrack_store::{
        notifications,
        outbox::{self, Channel, NewMessage},
    };
    let day = chrono::Duration::days(1);
    let mut queued = 0;
    for choices in users::with_notification_settings(state.db().conn()).await? {
        let (scope, user, sent) = (choices.scope, choices.user, choices.digest_sent_at);
        if !Preferences::from_stored(Some(&choices.settings)).digest || sent.is_some_and(|at| now - at < day) {
            continue;
        }
        let since = sent.unwrap_or(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH);
        let txn = state.db().begin().await?;
        let unread = notifications::unread_since(&txn, scope, user, since, DIGEST_ITEMS).await?;
        if !unread.is_empty() {
            let items: Vec<Value> = unread
                .iter()
                .map(|n| json!({ "kind": n.kind, "message": n.message, "vulnerability_id": n.vulnerability_id }))
                .collect();
            let digest = NewMessage {
                channel: Channel::Email,
                target_id: user.as_uuid(),
                event: crate::notify_mail::DIGEST.to_owned(),
                payload: json!({ "items": items }),
            };
            outbox::enqueue(&txn, scope, vec![digest]).await?;
            queued += 1;
        }
        users::digest_sent(&txn, scope, user, now).await?;
        txn.commit().await?;
    }
    Ok(queued)
}

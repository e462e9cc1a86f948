//! Teams' outgoing webhooks (ADMIN-managed): which events go where, the
//! queueing of each event in the transaction of the change behind it, and
//! the rule that a webhook never points inside the network unless the
//! operator allows it (`VULNTRACK_WEBHOOK_ALLOW_PRIVATE`).

use std::net::IpAddr;

use serde_json::{Value, json};
use uuid::Uuid;
use vulntrack_domain::{Action, AuditAction, FieldError, ValidationErrors};
use vulntrack_store::{
    TeamScope,
    audit::{self, AuditEvent, RequestContext},
    outbox::{self, Channel, NewMessage},
    webhooks::{self, Delivery, Webhook},
};

use crate::{app::AppState, auth::Principal, services::ServiceError};

/// The events a webhook can ask for.
pub const EVENTS: &[&str] = &[
    "vulnerability.created",
    "vulnerability.updated",
    "vulnerability.status_changed",
    "comment.created",
    "sla.breached",
    "import.completed",
];

/// The most webhooks a team may have.
const MAX_PER_TEAM: usize = 20;

/// What an event says of a record.
pub fn record_data(v: &vulntrack_store::vulnerabilities::Vulnerability) -> Value {
    json!({
        "id": v.id,
        "key": v.key(),
        "title": v.record.title,
        "severity": v.record.severity,
        "status": v.record.status,
        "resolution": v.record.resolution,
        "assignee_id": v.record.assignee_id,
        "cve_id": v.record.cve_id,
        "due_at": v.deadlines.map(|d| d.due_at),
    })
}

/// Queues `event` with `data` for each of the team's webhooks that wants
/// it, in the caller's transaction.
pub async fn emit(
    db: &impl sea_orm::ConnectionTrait,
    scope: TeamScope,
    event: &str,
    data: Value,
) -> Result<(), ServiceError> {
    let hooks = webhooks::subscribed(db, scope, event).await?;
    let messages = hooks
        .into_iter()
        .map(|hook| NewMessage {
            channel: Channel::Webhook,
            target_id: hook.id,
            event: event.to_owned(),
            payload: data.clone(),
        })
        .collect();
    outbox::enqueue(db, scope, messages).await?;
    Ok(())
}

/// Whether an address is one a webhook may not call without the
/// operator's leave: loopback, private, link-local, shared (CGNAT),
/// unspecified, multicast, broadcast, and their IPv6 counterparts
/// (IPv4-mapped ones judged as IPv4).
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// The addresses `url`'s host resolves to, each allowed by the rule above;
/// an error names why not.
pub async fn resolve_allowed(url: &url::Url, allow_internal: bool) -> Result<Vec<std::net::SocketAddr>, String> {
    let host = url.host_str().ok_or("has no host")?;
    let port = url.port_or_known_default().ok_or("has no port")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| format!("names a host that does not resolve ({host})"))?
        .collect();
    if found.is_empty() {
        return Err(format!("names a host that does not resolve ({host})"));
    }
    if !allow_internal && let Some(inside) = found.iter().find(|a| is_internal(a.ip())) {
        return Err(format!(
            "points inside the network ({}); the operator may allow that with VULNTRACK_WEBHOOK_ALLOW_PRIVATE",
            inside.ip()
        ));
    }
    Ok(found)
}

/// Creates a webhook from `{url, events}`; answers it with its secret,
/// which is shown this once.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    body: &Value,
) -> Result<Webhook, ServiceError> {
    principal.require(state, context, Action::ManageTeam).await?;
    let mut errors = ValidationErrors::default();
    let Some(fields) = body.as_object() else {
        return Err(ServiceError::field("body", "type", "must be an object with `url` and `events`"));
    };
    for key in fields.keys().filter(|k| !matches!(k.as_str(), "url" | "events")) {
        errors.push(FieldError::new(key.clone(), "unknown", "is not a field of a webhook (`url`, `events`)"));
    }
    let url = match fields.get("url").and_then(Value::as_str).map(str::trim) {
        Some(text) if text.len() <= 2000 => match url::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
                if !url.username().is_empty() || url.password().is_some() {
                    errors.push(FieldError::new("url", "invalid", "must not carry a user name or password"));
                    None
                } else {
                    Some(url)
                }
            }
            _ => {
                errors.push(FieldError::new("url", "invalid", "must be an http:// or https:// URL"));
                None
            }
        },
        _ => {
            errors.push(FieldError::new(
                "url",
                "required",
                "must be an http:// or https:// URL (at most 2000 characters)",
            ));
            None
        }
    };
    let mut events: Vec<String> = Vec::new();
    match fields.get("events") {
        Some(Value::Array(items)) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                match item.as_str().filter(|e| EVENTS.contains(e)) {
                    Some(event) if !events.iter().any(|e| e == event) => events.push(event.to_owned()),
                    Some(_) => {}
                    None => errors.push(FieldError::new(
                        format!("events[{index}]"),
                        "invalid",
                        format!("must be one of: {}", EVENTS.join(", ")),
                    )),
                }
            }
        }
        _ => errors.push(FieldError::new(
            "events",
            "required",
            format!("must list at least one of: {}", EVENTS.join(", ")),
        )),
    }
    if let Some(url) = &url
        && let Err(reason) = resolve_allowed(url, state.config().webhook_allow_private).await
    {
        errors.push(FieldError::new("url", "not_allowed", reason));
    }
    let url = match (errors.is_empty(), url) {
        (true, Some(url)) => url,
        _ => return Err(ServiceError::Invalid(errors)),
    };
    let scope = principal.scope();
    let txn = state.db().begin().await?;
    if webhooks::list(&txn, scope).await?.len() >= MAX_PER_TEAM {
        return Err(ServiceError::Conflict("The team has as many webhooks as it may (20); delete one first."));
    }
    let mut secret = [0u8; 32];
    rand::fill(&mut secret);
    let secret = hex::encode(secret);
    let hook = webhooks::create(&txn, scope, url.as_str(), &secret, &events, principal.user.id).await?;
    let event = AuditEvent::new(scope, principal.actor(), AuditAction::WebhookCreated, context)
        .entity("webhook", hook.id)
        .details(json!({ "url": hook.url, "events": hook.events }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(hook)
}

pub async fn list(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
) -> Result<Vec<Webhook>, ServiceError> {
    principal.require(state, context, Action::ManageTeam).await?;
    Ok(webhooks::list(state.db().conn(), principal.scope()).await?)
}

pub async fn delete(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id: Uuid,
) -> Result<(), ServiceError> {
    principal.require(state, context, Action::ManageTeam).await?;
    let scope = principal.scope();
    let txn = state.db().begin().await?;
    let hook = webhooks::get(&txn, scope, id).await?;
    webhooks::delete(&txn, scope, id).await?;
    let event = AuditEvent::new(scope, principal.actor(), AuditAction::WebhookDeleted, context)
        .entity("webhook", hook.id)
        .details(json!({ "url": hook.url }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

/// A webhook's latest deliveries (at most 100), newest first.
pub async fn deliveries(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id: Uuid,
) -> Result<Vec<Delivery>, ServiceError> {
    principal.require(state, context, Action::ManageTeam).await?;
    let scope = principal.scope();
    webhooks::get(state.db().conn(), scope, id).await?;
    Ok(webhooks::deliveries(state.db().conn(), scope, id, 100).await?)
}

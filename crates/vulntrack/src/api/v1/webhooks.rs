//! The team's outgoing webhooks (ADMIN), and their delivery log.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;
use vulntrack_store::webhooks::{Delivery, Webhook};

use super::views::Listing;
use crate::{
    app::AppState,
    auth::Principal,
    http::{ApiError, ApiJson, ClientContext, path_id},
    services,
};

/// A new webhook.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `http://` or `https://`; a private, loopback or link-local address is
    /// refused unless the operator allows it (`VULNTRACK_WEBHOOK_ALLOW_PRIVATE`).
    url: String,
    /// Any of `vulnerability.created`, `vulnerability.updated`,
    /// `vulnerability.status_changed`, `comment.created`, `sla.breached`,
    /// `import.completed`.
    events: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    id: Uuid,
    url: String,
    events: Vec<String>,
    active: bool,
    created_at: DateTime<Utc>,
    /// Only in the answer to its creation: the key of the
    /// `X-VulnTrack-Signature-256` header (`sha256=` and the hex
    /// HMAC-SHA256 of the body). Keep it; it is not shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl WebhookView {
    fn of(hook: Webhook, with_secret: bool) -> Self {
        Self {
            id: hook.id,
            url: hook.url,
            events: hook.events,
            active: hook.active,
            created_at: hook.created_at,
            secret: with_secret.then_some(hook.secret),
        }
    }
}

/// Creates a webhook; its signing secret is in this answer only.
#[utoipa::path(
    post, path = "/webhooks", tag = "team",
    request_body = NewWebhook,
    responses((status = 201, description = "The webhook, with its secret", body = WebhookView))
)]
pub async fn create(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let hook = services::webhooks::create(&state, &principal, &context, &body).await?;
    Ok((StatusCode::CREATED, Json(WebhookView::of(hook, true))))
}

/// The team's webhooks.
#[utoipa::path(
    get, path = "/webhooks", tag = "team",
    responses((status = 200, description = "The webhooks (without their secrets)", body = Listing<WebhookView>))
)]
pub async fn list(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
) -> Result<Json<Listing<WebhookView>>, ApiError> {
    let hooks = services::webhooks::list(&state, &principal, &context).await?;
    Ok(Json(Listing { items: hooks.into_iter().map(|h| WebhookView::of(h, false)).collect() }))
}

#[utoipa::path(
    delete, path = "/webhooks/{id}", tag = "team",
    params(("id" = String, Path, description = "The webhook's id")),
    responses((status = 204, description = "Deleted, with its delivery log"))
)]
pub async fn delete(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    services::webhooks::delete(&state, &principal, &context, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    id: Uuid,
    /// The outbox message, also the `X-VulnTrack-Delivery` header: the same
    /// on every attempt, so a receiver can drop a repeat.
    delivery_id: Uuid,
    event: String,
    attempt: i32,
    /// The receiver's answer; `null` when it could not be reached.
    status_code: Option<u16>,
    error: Option<String>,
    duration_ms: i64,
    attempted_at: DateTime<Utc>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            delivery_id: d.outbox_id,
            event: d.event,
            attempt: d.attempt,
            status_code: d.status_code,
            error: d.error,
            duration_ms: d.duration_ms,
            attempted_at: d.attempted_at,
        }
    }
}

/// The webhook's latest 100 delivery attempts, newest first.
#[utoipa::path(
    get, path = "/webhooks/{id}/deliveries", tag = "team",
    params(("id" = String, Path, description = "The webhook's id")),
    responses((status = 200, description = "Attempts, newest first", body = Listing<DeliveryView>))
)]
pub async fn deliveries(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Listing<DeliveryView>>, ApiError> {
    let found = services::webhooks::deliveries(&state, &principal, &context, path_id(&id)?).await?;
    Ok(Json(Listing { items: found.into_iter().map(Into::into).collect() }))
}

//! The outbox's worker: takes the mail and webhook calls that are due
//! (a claim, so workers of several processes never take the same one),
//! sends each, and records the outcome: delivered, or tried again later
//! with a growing delay, or given up after the last attempt. Each webhook
//! attempt is logged with the receiver's answer.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use vulntrack_store::{
    outbox::{self, Channel, Message},
    users,
    webhooks::{self, Delivery},
};

use crate::{app::AppState, mail::Mail, services::ServiceError};

/// Messages one pass takes at most.
const BATCH: u64 = 50;
/// How long a pass holds what it took.
const LEASE: Duration = Duration::from_secs(120);
/// The delay before each retry (the last one given, the message is given up).
const RETRY_AFTER: [Duration; 5] = [
    Duration::from_secs(30),
    Duration::from_secs(120),
    Duration::from_secs(600),
    Duration::from_secs(3600),
    Duration::from_secs(6 * 3600),
];
/// The longest a webhook receiver may take to answer.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// The header with the HMAC-SHA256 of the body under the webhook's secret.
pub const SIGNATURE_HEADER: &str = "X-VulnTrack-Signature-256";

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub delivered: usize,
    pub retried: usize,
    pub given_up: usize,
}

/// Why an attempt failed, and whether another may succeed.
struct Failure {
    reason: String,
    retry: bool,
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Sends, as `node`, what is due at `now`.
pub async fn deliver_due(state: &AppState, node: &str, now: DateTime<Utc>) -> Result<Pass, ServiceError> {
    let db = state.db().conn();
    let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::minutes(2));
    let messages = outbox::claim(db, node, now, lease_until, BATCH).await?;
    let mut pass = Pass::default();
    for message in messages {
        let outcome = match message.channel {
            Channel::Webhook => send_webhook(state, &message).await,
            Channel::Email => send_email(state, &message).await,
        };
        match outcome {
            Ok(()) => {
                outbox::delivered(db, message.id, node, Utc::now().max(now)).await?;
                pass.delivered += 1;
            }
            Err(failure) => {
                let attempt = usize::try_from(message.attempts).unwrap_or(0);
                let retry_at = RETRY_AFTER
                    .get(attempt)
                    .filter(|_| failure.retry)
                    .map(|d| now + chrono::Duration::from_std(*d).unwrap_or(chrono::Duration::hours(1)));
                if retry_at.is_some() {
                    pass.retried += 1;
                } else {
                    pass.given_up += 1;
                }
                tracing::warn!(id = %message.id, event = %message.event, channel = message.channel.as_str(),
                    reason = %failure.reason, retry = retry_at.is_some(), "outbox delivery failed");
                outbox::attempt_failed(db, message.id, node, now, retry_at, &failure.reason).await?;
            }
        }
    }
    Ok(pass)
}

/// The body a webhook receives.
fn webhook_body(message: &Message) -> Value {
    json!({
        "id": message.id,
        "event": message.event,
        "team_id": message.scope.team_id(),
        "created_at": message.created_at,
        "data": message.payload,
    })
}

async fn send_webhook(state: &AppState, message: &Message) -> Result<(), Failure> {
    let db = state.db().conn();
    let hook = match webhooks::get(db, message.scope, message.target_id).await {
        Ok(hook) if hook.active => hook,
        // Deleted or switched off since: nothing to send to.
        Ok(_) | Err(vulntrack_store::StoreError::NotFound) => {
            return Err(Failure { reason: "the webhook no longer exists".into(), retry: false });
        }
        Err(error) => return Err(Failure { reason: error.to_string(), retry: true }),
    };
    let started = Instant::now();
    let attempted_at = Utc::now();
    let result = post(state, &hook.url, &hook.secret, message).await;
    let (status_code, error) = match &result {
        Ok(status) => (Some(*status), None),
        Err(failure) => (None, Some(failure.reason.clone())),
    };
    let delivery = Delivery {
        id: uuid::Uuid::now_v7(),
        webhook_id: hook.id,
        outbox_id: message.id,
        event: message.event.clone(),
        attempt: message.attempts + 1,
        status_code,
        error,
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        attempted_at,
    };
    if let Err(error) = webhooks::record_delivery(db, message.scope, &delivery).await {
        tracing::warn!(%error, "could not log a webhook delivery");
    }
    match result {
        Ok(status) if (200..300).contains(&status) => Ok(()),
        Ok(status) => Err(Failure {
            reason: format!("the receiver answered {status}"),
            // A refusal other than "later" will not change by itself.
            retry: status >= 500 || status == 408 || status == 429,
        }),
        Err(failure) => Err(failure),
    }
}

/// POSTs the signed body to `url` at an address its host resolves to now
/// (checked against the internal-address rule, and pinned, so a second
/// lookup cannot point the call elsewhere); never follows a redirect.
async fn post(state: &AppState, url: &str, secret: &str, message: &Message) -> Result<u16, Failure> {
    let url =
        url::Url::parse(url).map_err(|_| Failure { reason: "the URL is no longer valid".into(), retry: false })?;
    let addresses = super::services::webhooks::resolve_allowed(&url, state.config().webhook_allow_private)
        .await
        .map_err(|reason| Failure { reason: format!("the URL {reason}"), retry: true })?;
    let host = url.host_str().unwrap_or_default().to_owned();
    // reqwest's rustls has no built-in provider: one per process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(WEBHOOK_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&host, addresses[0])
        .build()
        .map_err(|e| Failure { reason: format!("no HTTP client: {e}"), retry: true })?;
    let body = serde_json::to_vec(&webhook_body(message)).unwrap_or_default();
    let response = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "VulnTrack-Webhook/1")
        .header("X-VulnTrack-Event", &message.event)
        .header("X-VulnTrack-Delivery", message.id.to_string())
        .header(SIGNATURE_HEADER, signature(secret, &body))
        .body(body)
        .send()
        .await
        .map_err(|e| Failure { reason: format!("could not reach the receiver: {e}"), retry: true })?;
    Ok(response.status().as_u16())
}

async fn send_email(state: &AppState, message: &Message) -> Result<(), Failure> {
    let user = match users::get(
        state.db().conn(),
        message.scope,
        vulntrack_domain::UserId::from_uuid(message.target_id),
    )
    .await
    {
        Ok(user) => user,
        Err(vulntrack_store::StoreError::NotFound) => {
            return Err(Failure { reason: "the recipient no longer exists".into(), retry: false });
        }
        Err(error) => return Err(Failure { reason: error.to_string(), retry: true }),
    };
    let mail = crate::notify_mail::render(state, &user, &message.event, &message.payload);
    state
        .mailer()
        .send(&Mail { to: user.email.clone(), ..mail })
        .await
        .map_err(|e| Failure { reason: e.to_string(), retry: true })
}

/// Sends what is due every `tick`, until the process ends.
pub async fn run_periodically(state: AppState, tick: Duration) {
    let node = crate::jobs::node_name();
    let mut ticker = tokio::time::interval(tick);
    loop {
        ticker.tick().await;
        if let Err(error) = deliver_due(&state, &node, Utc::now()).await {
            tracing::warn!(%error, "could not deliver the outbox");
        }
    }
}

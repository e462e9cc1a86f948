//! Security monitoring: rules evaluated as events happen, alerts stored
//! once per window, announced in the log, in metrics and — when
//! `VULNTRACK_ALERT_WEBHOOK_URL` is set — POSTed as JSON in the background
//! with retries, never holding up the request that triggered them.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};
use vulntrack_domain::AuditAction;

use chrono::{DateTime, DurationRound, Utc};
use serde_json::json;
use url::Url;
use vulntrack_domain::{UserId, rate::RateRule};
use vulntrack_store::{
    Outage, StorageCheck, StorageFault, TeamScope,
    audit::Tenancy,
    security_alerts::{self, EventCount, NewAlert, SecurityAlert},
};

use crate::app::AppState;

pub const FAILED_LOGINS_ACCOUNT: &str = vulntrack_domain::AlertRule::FailedLoginsAccount.as_str();
pub const PASSWORD_SPRAYING: &str = vulntrack_domain::AlertRule::PasswordSpraying.as_str();
pub const PRIVILEGE_ESCALATION: &str = vulntrack_domain::AlertRule::PrivilegeEscalationAttempts.as_str();
pub const INVALID_API_TOKENS: &str = vulntrack_domain::AlertRule::InvalidApiTokens.as_str();
pub const DATABASE_UNREACHABLE: &str = vulntrack_domain::AlertRule::DatabaseUnreachable.as_str();
/// The database answers but cannot store (disk full, I/O errors).
pub const STORAGE_FAULT: &str = vulntrack_domain::AlertRule::StorageFault.as_str();
pub const HIGH_ERROR_RATE: &str = vulntrack_domain::AlertRule::HighErrorRate.as_str();

const FIFTEEN_MINUTES: Duration = Duration::from_secs(15 * 60);
const TEN_MINUTES: Duration = Duration::from_secs(10 * 60);
const FIVE_MINUTES: Duration = Duration::from_secs(5 * 60);
/// The 5xx ratio is judged over this many requests at least, so one error
/// among three requests is not an incident.
const ERROR_RATE_MIN_REQUESTS: u64 = 20;
const ERROR_RATE_THRESHOLD: f64 = 0.05;
/// Alerts kept in memory while they cannot be stored; past this the
/// oldest are dropped (they were announced already).
const PENDING_MAX: usize = 1_000;
/// Webhook attempts, waiting 1, 2, 4, 8 s between them.
const WEBHOOK_ATTEMPTS: u32 = 5;

/// The start of the fixed window `now` falls in: an alert is stored at
/// most once per rule, subject and window.
pub fn window_start(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(window).ok().and_then(|w| now.duration_trunc(w).ok()).unwrap_or(now)
}

/// Counts of requests and server errors in 10-second slots over 5 minutes.
#[derive(Debug)]
struct ErrorWindow {
    slots: Vec<(u64, u64, u64)>,
}

const SLOT_SECONDS: u64 = 10;

impl ErrorWindow {
    fn new() -> Self {
        Self { slots: vec![(0, 0, 0); (FIVE_MINUTES.as_secs() / SLOT_SECONDS) as usize] }
    }

    fn record(&mut self, now_secs: u64, server_error: bool) {
        let epoch = now_secs / SLOT_SECONDS;
        let index = (epoch % self.slots.len() as u64) as usize;
        let slot = &mut self.slots[index];
        if slot.0 != epoch {
            *slot = (epoch, 0, 0);
        }
        slot.1 += 1;
        slot.2 += u64::from(server_error);
    }

    fn totals(&self, now_secs: u64) -> (u64, u64) {
        let oldest = (now_secs / SLOT_SECONDS).saturating_sub(self.slots.len() as u64 - 1);
        self.slots.iter().filter(|s| s.0 >= oldest).fold((0, 0), |(t, e), s| (t + s.1, e + s.2))
    }
}

/// Monitoring state shared by the app.
#[derive(Debug)]
pub struct AlertHub {
    webhook: Option<Url>,
    client: reqwest::Client,
    errors: Mutex<ErrorWindow>,
    /// Alerts announced during a storage outage, stored when it ends.
    pending: Mutex<Vec<PendingAlert>>,
    started: Instant,
}

/// An alert that could not be stored yet.
#[derive(Debug, Clone)]
struct PendingAlert {
    team: Tenancy,
    rule: String,
    severity: String,
    subject: String,
    window_start: DateTime<Utc>,
    evidence: serde_json::Value,
}

impl PendingAlert {
    fn of(new: &NewAlert<'_>) -> Self {
        Self {
            team: new.team,
            rule: new.rule.to_string(),
            severity: new.severity.to_string(),
            subject: new.subject.to_string(),
            window_start: new.window_start,
            evidence: new.evidence.clone(),
        }
    }

    fn as_new(&self) -> NewAlert<'_> {
        NewAlert {
            team: self.team,
            rule: &self.rule,
            severity: &self.severity,
            subject: &self.subject,
            window_start: self.window_start,
            evidence: self.evidence.clone(),
        }
    }
}

impl AlertHub {
    pub fn new(webhook: Option<Url>) -> anyhow::Result<Self> {
        // reqwest's rustls needs a process-wide crypto provider; ring is the
        // one the rest of VulnTrack uses. Installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
        Ok(Self {
            webhook,
            client,
            errors: Mutex::new(ErrorWindow::new()),
            pending: Mutex::new(Vec::new()),
            started: Instant::now(),
        })
    }

    fn now_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}

async fn deliver(client: reqwest::Client, url: Url, payload: serde_json::Value) {
    let mut delay = Duration::from_secs(1);
    for attempt in 1..=WEBHOOK_ATTEMPTS {
        match client.post(url.clone()).json(&payload).send().await {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => tracing::warn!(attempt, status = %response.status(), "alert webhook refused the alert"),
            Err(error) => tracing::warn!(attempt, %error, "alert webhook unreachable"),
        }
        if attempt < WEBHOOK_ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    tracing::error!(rule = %payload["rule"], "alert webhook gave up after {WEBHOOK_ATTEMPTS} attempts");
}

fn announce(state: &AppState, payload: serde_json::Value) {
    let hub = state.alerts();
    if let Some(url) = hub.webhook.clone() {
        tokio::spawn(deliver(hub.client.clone(), url, payload));
    }
}

fn payload_of(alert: &SecurityAlert) -> serde_json::Value {
    json!({
        "id": alert.id,
        "rule": alert.rule,
        "severity": alert.severity,
        "subject": alert.subject,
        "team_id": alert.team_id,
        "window_start": alert.window_start,
        "evidence": alert.evidence,
        "created_at": alert.created_at,
    })
}

/// Stores the alert (once per window) and announces it when it is new.
/// An alert that cannot be stored because storage is out is announced at
/// once (log, metrics, webhook) and stored when storage returns.
pub async fn raise(state: &AppState, new: NewAlert<'_>) {
    match security_alerts::raise(state.db().conn(), new.clone()).await {
        Ok(Some(alert)) => {
            metrics::counter!(crate::metrics::ALERTS, "rule" => alert.rule.clone()).increment(1);
            tracing::warn!(rule = %alert.rule, severity = %alert.severity, subject = %alert.subject, "security alert");
            announce(state, payload_of(&alert));
        }
        Ok(None) => {}
        Err(error) if error.outage().is_some() => {
            metrics::counter!(crate::metrics::ALERTS, "rule" => new.rule.to_string()).increment(1);
            tracing::warn!(rule = %new.rule, severity = %new.severity, subject = %new.subject, %error,
                "security alert (cannot be stored now; kept until storage returns)");
            announce(
                state,
                json!({ "rule": new.rule, "severity": new.severity, "subject": new.subject, "team_id": new.team.team_id(),
                        "window_start": new.window_start, "evidence": new.evidence, "created_at": Utc::now(),
                        "stored": false }),
            );
            let mut pending = state.alerts().pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if pending.len() >= PENDING_MAX {
                pending.remove(0);
            }
            pending.push(PendingAlert::of(&new));
        }
        Err(error) => tracing::error!(%error, "could not store a security alert"),
    }
}

/// Stores the alerts kept during an outage; those that still cannot be
/// stored stay pending.
async fn store_pending(state: &AppState) {
    let waiting = std::mem::take(&mut *state.alerts().pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
    let mut still = Vec::new();
    for alert in waiting {
        if let Err(error) = security_alerts::raise(state.db().conn(), alert.as_new()).await {
            tracing::warn!(%error, rule = %alert.rule, "a kept alert still cannot be stored");
            still.push(alert);
        }
    }
    if !still.is_empty() {
        state.alerts().pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend(still);
    }
}

/// How many alerts wait to be stored (for tests and `/readyz`).
pub fn pending_count(state: &AppState) -> usize {
    state.alerts().pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
}

async fn count(state: &AppState, query: EventCount<'_>) -> u64 {
    security_alerts::count_events(state.db().conn(), query).await.unwrap_or_else(|error| {
        tracing::error!(%error, "alert rule could not count events");
        0
    })
}

/// After a failed sign-in: five for one account in 15 minutes, or twenty
/// from one client (password spraying, across accounts and teams).
pub async fn on_login_failure(state: &AppState, account: Option<(TeamScope, UserId, &str)>, client: Option<&str>) {
    let now = Utc::now();
    let since = now - chrono::Duration::minutes(15);
    if let Some((team, user, email)) = account {
        let user_id = user.to_string();
        let failures = count(
            state,
            EventCount {
                team: Some(team.team_id()),
                action: AuditAction::LoginFailed.as_str(),
                since,
                entity_id: Some(&user_id),
                ..Default::default()
            },
        )
        .await;
        if failures >= 5 {
            let new = NewAlert {
                team: team.into(),
                rule: FAILED_LOGINS_ACCOUNT,
                severity: "HIGH",
                subject: email,
                window_start: window_start(now, FIFTEEN_MINUTES),
                evidence: json!({ "failed_logins": failures, "window_minutes": 15, "user_id": user }),
            };
            raise(state, new).await;
        }
    }
    if let Some(ip) = client {
        let failures = count(
            state,
            EventCount { action: AuditAction::LoginFailed.as_str(), since, ip: Some(ip), ..Default::default() },
        )
        .await;
        if failures >= 20 {
            let new = NewAlert {
                team: Tenancy::Instance,
                rule: PASSWORD_SPRAYING,
                severity: "CRITICAL",
                subject: ip,
                window_start: window_start(now, FIFTEEN_MINUTES),
                evidence: json!({ "failed_logins": failures, "window_minutes": 15, "client": ip }),
            };
            raise(state, new).await;
        }
    }
}

/// After a permission denial: three by one user in 10 minutes.
pub async fn on_permission_denied(state: &AppState, team: TeamScope, user: UserId, email: &str) {
    let now = Utc::now();
    let since = now - chrono::Duration::minutes(10);
    let denials = count(
        state,
        EventCount {
            team: Some(team.team_id()),
            action: AuditAction::PermissionDenied.as_str(),
            since,
            actor_id: Some(user.as_uuid()),
            ..Default::default()
        },
    )
    .await;
    if denials >= 3 {
        let new = NewAlert {
            team: team.into(),
            rule: PRIVILEGE_ESCALATION,
            severity: "HIGH",
            subject: email,
            window_start: window_start(now, TEN_MINUTES),
            evidence: json!({ "permission_denied": denials, "window_minutes": 10, "user_id": user }),
        };
        raise(state, new).await;
    }
}

/// After an unknown, revoked or expired API token: ten from one client in
/// 10 minutes. Counted in the rate limiter's windows (shared through Redis
/// when configured), since these requests leave no audit row.
pub async fn on_bad_token(state: &AppState, client: &str) {
    let rule = RateRule::new(10, TEN_MINUTES);
    let decision = state.rate_limiter().check(&format!("bad-token:{client}"), rule).await;
    if decision.remaining == 0 {
        let now = Utc::now();
        let new = NewAlert {
            team: Tenancy::Instance,
            rule: INVALID_API_TOKENS,
            severity: "HIGH",
            subject: client,
            window_start: window_start(now, TEN_MINUTES),
            evidence: json!({ "invalid_tokens": rule.limit, "window_minutes": 10, "client": client }),
        };
        raise(state, new).await;
    }
}

/// Records one response for the error-rate rule, and checks the rule when
/// it was a server error.
pub async fn on_response(state: &AppState, status: u16) {
    let server_error = status >= 500;
    let hub = state.alerts();
    let now_secs = hub.now_secs();
    let (total, errors) = {
        let mut window = hub.errors.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        window.record(now_secs, server_error);
        window.totals(now_secs)
    };
    #[allow(clippy::cast_precision_loss)] // request counts far below 2^52
    let ratio = errors as f64 / total.max(1) as f64;
    if server_error && total >= ERROR_RATE_MIN_REQUESTS && ratio > ERROR_RATE_THRESHOLD {
        let now = Utc::now();
        let new = NewAlert {
            team: Tenancy::Instance,
            rule: HIGH_ERROR_RATE,
            severity: "HIGH",
            subject: "http",
            window_start: window_start(now, FIVE_MINUTES),
            evidence: json!({ "requests": total, "server_errors": errors, "ratio": (ratio * 1000.0).round() / 1000.0, "window_minutes": 5 }),
        };
        raise(state, new).await;
    }
}

fn outage_rule(outage: Outage) -> &'static str {
    match outage {
        Outage::Unreachable => DATABASE_UNREACHABLE,
        Outage::Full | Outage::Io => STORAGE_FAULT,
    }
}

/// Announces an outage (log, metrics, webhook) the moment it begins; it
/// cannot be stored while it lasts.
fn announce_outage(state: &AppState, fault: StorageFault) {
    let rule = outage_rule(fault.outage);
    metrics::counter!(crate::metrics::ALERTS, "rule" => rule).increment(1);
    tracing::error!(rule, severity = "CRITICAL", outage = fault.outage.as_str(), since = %fault.since,
        "security alert: storage is unavailable");
    announce(
        state,
        json!({ "rule": rule, "severity": "CRITICAL", "subject": "database", "team_id": null,
                "evidence": { "outage": fault.outage.as_str(), "down_since": fault.since }, "created_at": Utc::now() }),
    );
}

/// A request ran into a storage outage: the first one starts the outage's
/// window and announces it at once, without waiting for the next poll.
pub async fn on_storage_outage(state: &AppState, outage: Outage) {
    if state.db().note_outage(outage)
        && let Some(fault) = state.db().storage_fault()
    {
        announce_outage(state, fault);
    }
}

/// Checks the storage (a round trip; a test write while a full disk is on
/// record). Going down is announced at once; when storage works again the
/// outage alert is stored with its real window, then the alerts kept
/// meanwhile.
pub async fn check_database(state: &AppState) {
    let known = state.db().storage_fault();
    match state.db().check_storage(Duration::from_secs(2)).await {
        StorageCheck::Faulty(fault) if known.is_none() => announce_outage(state, fault),
        StorageCheck::Faulty(_) => {}
        StorageCheck::Healthy { recovered: Some(fault) } => {
            let now = Utc::now();
            let new = NewAlert {
                team: Tenancy::Instance,
                rule: outage_rule(fault.outage),
                severity: "CRITICAL",
                subject: "database",
                window_start: window_start(fault.since, FIVE_MINUTES),
                evidence: json!({ "outage": fault.outage.as_str(), "down_since": fault.since, "back_at": now,
                                  "seconds_down": (now - fault.since).num_seconds() }),
            };
            tracing::info!(seconds_down = (now - fault.since).num_seconds(), "storage works again");
            if let Err(error) = security_alerts::raise(state.db().conn(), new).await {
                tracing::error!(%error, "could not store the outage alert");
            }
            store_pending(state).await;
        }
        StorageCheck::Healthy { recovered: None } => {
            if pending_count(state) > 0 {
                store_pending(state).await;
            }
        }
    }
}

/// Runs the periodic checks until the process ends.
pub async fn monitor(state: AppState, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        check_database(&state).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_fixed_and_aligned() {
        let at = DateTime::parse_from_rfc3339("2026-11-29T10:37:12Z").expect("time").with_timezone(&Utc);
        assert_eq!(window_start(at, FIFTEEN_MINUTES).to_rfc3339(), "2026-11-29T10:30:00+00:00");
        assert_eq!(window_start(at, TEN_MINUTES).to_rfc3339(), "2026-11-29T10:30:00+00:00");
        assert_eq!(window_start(at, FIVE_MINUTES).to_rfc3339(), "2026-11-29T10:35:00+00:00");
    }

    #[test]
    fn the_error_window_forgets_old_slots() {
        let mut window = ErrorWindow::new();
        for _ in 0..10 {
            window.record(5, true);
        }
        window.record(100, false);
        assert_eq!(window.totals(100), (11, 10));
        assert_eq!(window.totals(5 + 300), (1, 0), "five minutes later only the newer slot counts");
    }
}

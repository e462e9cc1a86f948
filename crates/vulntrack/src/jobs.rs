//! The background jobs: periodic work that one node of the cluster does
//! for all (risk acceptances that expired, digests, SLA notices, the CVE
//! catalogue's sync). Each job's row in the
//! `jobs` table is claimed before it runs (see `vulntrack_store::jobs`),
//! so nodes sharing a database run each job once per period; a node that
//! dies mid-run loses its claim when the lease ends.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{app::AppState, services};

/// A periodic job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Reopens records whose risk acceptance ended.
    RiskAcceptanceExpiry,
    /// Queues the daily digest mails of unread notifications.
    Digest,
    /// Tells people of records due soon or overdue.
    SlaNotices,
    /// Syncs the CVE catalogue from the URLs configured (none: it never runs).
    IntelSync,
    /// Deletes what each team's retention policy no longer keeps.
    RetentionPurge,
}

impl Job {
    pub const ALL: [Job; 5] =
        [Job::RiskAcceptanceExpiry, Job::Digest, Job::SlaNotices, Job::IntelSync, Job::RetentionPurge];

    pub const fn name(self) -> &'static str {
        match self {
            Job::RiskAcceptanceExpiry => "risk_acceptance_expiry",
            Job::Digest => "notification_digest",
            Job::SlaNotices => "sla_notices",
            Job::IntelSync => "cve_catalogue_sync",
            Job::RetentionPurge => "retention_purge",
        }
    }

    /// How long after a run the next one is due.
    pub fn every(self, state: &AppState) -> Duration {
        match self {
            // Acceptances end by the day; hourly notices one soon after
            // midnight in any time zone.
            Job::RiskAcceptanceExpiry => Duration::from_secs(3600),
            // Each person's digest goes a day after their last; hourly
            // finds them within the hour.
            Job::Digest => Duration::from_secs(3600),
            Job::SlaNotices => Duration::from_secs(900),
            Job::IntelSync => state.config().intel_sync,
            Job::RetentionPurge => Duration::from_secs(24 * 3600),
        }
    }

    /// The longest a run may hold its claim.
    const fn lease(self) -> Duration {
        match self {
            // A first NVD sync reads ~130 pages, 6 s apart without a key.
            Job::IntelSync => Duration::from_secs(2 * 3600),
            _ => Duration::from_secs(600),
        }
    }

    /// Whether this instance runs the job at all.
    fn enabled(self, state: &AppState) -> bool {
        self != Job::IntelSync || !services::cve_sync::configured(state).is_empty()
    }

    /// Runs the job as of `now`; a line for the log saying what it did.
    async fn run(self, state: &AppState, now: DateTime<Utc>) -> Result<String, services::ServiceError> {
        match self {
            Job::RiskAcceptanceExpiry => {
                let reopened = services::risk_acceptances::reopen_expired(state, now.date_naive()).await?;
                Ok(format!("{reopened} records reopened"))
            }
            Job::Digest => {
                let queued = services::notification_prefs::queue_digests(state, now).await?;
                Ok(format!("{queued} digests queued"))
            }
            Job::SlaNotices => {
                let sent = services::sla_notices::send_due(state, now).await?;
                Ok(format!("{sent} SLA notices sent"))
            }
            Job::IntelSync => services::cve_sync::sync(state, now).await,
            Job::RetentionPurge => services::retention::purge(state, now).await,
        }
    }
}

fn later(now: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(by).unwrap_or(chrono::Duration::hours(1))
}

/// Runs, as `node`, every job due at `now` that this node can claim;
/// returns the jobs it ran. `now` is a parameter so that tests move time
/// instead of waiting.
pub async fn run_due(state: &AppState, node: &str, now: DateTime<Utc>) -> Result<Vec<Job>, services::ServiceError> {
    let db = state.db().conn();
    let mut ran = Vec::new();
    for job in Job::ALL {
        if !job.enabled(state) {
            continue;
        }
        if !vulntrack_store::jobs::claim(db, job.name(), node, now, later(now, job.lease())).await? {
            continue;
        }
        let outcome = job.run(state, now).await;
        let error = match &outcome {
            Ok(summary) => {
                tracing::info!(job = job.name(), node, %summary, "background job done");
                None
            }
            Err(error) => {
                tracing::error!(job = job.name(), node, %error, "background job failed");
                Some(error.to_string())
            }
        };
        vulntrack_store::jobs::finish(db, job.name(), node, Utc::now().max(now), later(now, job.every(state)), error)
            .await?;
        ran.push(job);
    }
    Ok(ran)
}

/// This process's name among the nodes: host, process id and a random
/// suffix (two processes on one host differ).
pub fn node_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &suffix[..8])
}

/// Looks for due jobs every `tick`, until the process ends.
pub async fn run_periodically(state: AppState, tick: Duration) {
    let node = node_name();
    let mut ticker = tokio::time::interval(tick);
    loop {
        ticker.tick().await;
        if let Err(error) = run_due(&state, &node, Utc::now()).await {
            tracing::warn!(%error, "could not run the background jobs");
        }
    }
}

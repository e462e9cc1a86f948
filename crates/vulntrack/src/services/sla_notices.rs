//! Telling people when a record they are on comes due: once when it is
//! due soon, once when it is overdue (and the team's webhooks of the
//! latter), for each due time the record has had.

use vulntrack_store::{notifications, vulnerabilities};

use crate::{app::AppState, services::ServiceError};

/// Notices looked at per run (the next run takes the rest).
const BATCH: u64 = 500;

/// Sends the notices due at `now`; how many were sent.
pub async fn send_due(state: &AppState, now: chrono::DateTime<chrono::Utc>) -> Result<usize, ServiceError> {
    let due = vulnerabilities::sla_notices_due(state.db().conn(), now, BATCH).await?;
    let mut sent = 0;
    for notice in due {
        let txn = state.db().begin().await?;
        let record = match vulnerabilities::find_for_update(&txn, notice.scope, &notice.id.to_string()).await {
            Ok(record) => record,
            Err(vulntrack_store::StoreError::NotFound) => continue,
            Err(other) => return Err(other.into()),
        };
        let Some(deadlines) = record.deadlines.filter(|_| !record.record.is_resolved()) else {
            continue;
        };
        let due_at = deadlines.due_at.format("%Y-%m-%d %H:%M UTC");
        let (kind, message) = if notice.level >= 2 {
            ("SLA_BREACHED", format!("{} is overdue (it was due {due_at}): {}", record.key(), record.record.title))
        } else {
            ("SLA_DUE_SOON", format!("{} is due soon (by {due_at}): {}", record.key(), record.record.title))
        };
        // Whoever is on it; the reporter while nobody is.
        let concerned: Vec<_> = record.record.assignee_id.or(record.reporter_id).into_iter().collect();
        notifications::notify(&txn, notice.scope, &concerned, Some(record.id), kind, &message).await?;
        if notice.level >= 2 {
            let data = serde_json::json!({ "vulnerability": super::webhooks::record_data(&record) });
            super::webhooks::emit(&txn, notice.scope, "sla.breached", data).await?;
        }
        vulnerabilities::mark_sla_notice(&txn, notice.scope, record.id, notice.level).await?;
        txn.commit().await?;
        sent += 1;
    }
    Ok(sent)
}

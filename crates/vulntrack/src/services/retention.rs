//! Retention: the team's policy (ADMIN), over the instance's defaults, and
//! the daily purge (a background job) that deletes what a policy no
//! longer keeps, audited per team as `RETENTION_PURGED`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use vulntrack_domain::{Action, AuditAction, FieldError, ValidationErrors};
use vulntrack_store::{
    audit::{self, Actor, AuditEvent, RequestContext},
    retention::{self, Retention, TeamRetention},
    teams,
};

use super::ServiceError;
use crate::{app::AppState, auth::Principal, config::Config, http::versioning::IfMatch};

/// The instance's defaults, from its configuration.
pub fn defaults(config: &Config) -> Retention {
    let days = |d: usize| u32::try_from(d).unwrap_or(u32::MAX);
    Retention {
        audit_days: config.retention_audit_days.map(days),
        sessions_days: days(config.retention_sessions_days),
        notifications_days: days(config.retention_notifications_days),
        alerts_days: days(config.retention_alerts_days),
        closed_findings_days: config.retention_closed_findings_days.map(days),
    }
}

/// The team's own choices, the policy in effect, and the team's version.
pub async fn policy(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
) -> Result<(TeamRetention, Retention, i64), ServiceError> {
    principal.require(state, context, Action::ManageTeam).await?;
    let team = teams::get(state.db().conn(), principal.scope()).await?;
    Ok((team.retention, team.retention.effective(&defaults(state.config())), team.version))
}

/// The fields a client may set: each a number of days or `null` for the
/// instance's default; `audit_days` and `closed_findings_days` also take 0
/// (keep for ever); `audit_days` is at least 365.
const FIELDS: [(&str, u32); 5] = [
    ("audit_days", 365),
    ("sessions_days", 1),
    ("notifications_days", 1),
    ("alerts_days", 1),
    ("closed_findings_days", 1),
];

fn choices_of(body: &Value, current: TeamRetention) -> Result<TeamRetention, ServiceError> {
    let Value::Object(fields) = body else {
        return Err(ServiceError::Invalid(FieldError::new("body", "type", "must be a JSON object").into()));
    };
    let mut errors = ValidationErrors::default();
    let mut next = current;
    for (name, value) in fields {
        let Some((field, minimum)) = FIELDS.iter().find(|(f, _)| f == name) else {
            errors.push(FieldError::new(name, "unknown", "is not a retention setting"));
            continue;
        };
        let forever_allowed = matches!(*field, "audit_days" | "closed_findings_days");
        let parsed = match value {
            Value::Null => Ok(None),
            Value::Number(n) => match n.as_u64().and_then(|d| u32::try_from(d).ok()) {
                Some(0) if forever_allowed => Ok(Some(0)),
                Some(days) if (*minimum..=36_500).contains(&days) => Ok(Some(days)),
                _ => Err(()),
            },
            _ => Err(()),
        };
        let Ok(days) = parsed else {
            let forever = if forever_allowed { ", 0 to keep for ever" } else { "" };
            errors.push(FieldError::new(
                name,
                "range",
                format!("must be whole days from {minimum} to 36500{forever}, or null for the instance's default"),
            ));
            continue;
        };
        match *field {
            "audit_days" => next.audit_days = days,
            "sessions_days" => next.sessions_days = days,
            "notifications_days" => next.notifications_days = days,
            "alerts_days" => next.alerts_days = days,
            _ => next.closed_findings_days = days,
        }
    }
    Ok(errors.into_result(next)?)
}

/// An ADMIN changes the team's retention (the fields sent; `If-Match`
/// honoured), audited as `SETTINGS_CHANGED` with before and after.
pub async fn set_policy(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    body: &Value,
    if_match: &IfMatch,
) -> Result<(TeamRetention, Retention, i64), ServiceError> {
    principal.require(state, context, Action::ManageTeam).await?;
    let scope = principal.scope();
    let txn = state.db().begin().await?;
    let before = teams::get_for_update(&txn, scope).await?;
    if_match.check(before.version)?;
    let next = choices_of(body, before.retention)?;
    if next != before.retention {
        retention::set(&txn, scope, next).await?;
        let event = AuditEvent::new(scope, principal.actor(), AuditAction::SettingsChanged, context)
            .entity("team", scope.team_id())
            .details(json!({ "retention": { "before": before.retention, "after": next } }));
        audit::append(&txn, event).await?;
    }
    let after = teams::get(&txn, scope).await?;
    txn.commit().await?;
    Ok((after.retention, after.retention.effective(&defaults(state.config())), after.version))
}

/// Purges every team by its policy as of `now` (one transaction per team,
/// audited when it removed anything), then the instance's own audit
/// chain by the instance's default. A line for the job's log.
pub async fn purge(state: &AppState, now: DateTime<Utc>) -> Result<String, ServiceError> {
    let defaults = defaults(state.config());
    let mut total = retention::Purged::default();
    for (scope, choices) in retention::teams(state.db().conn()).await? {
        let policy = choices.effective(&defaults);
        let txn = state.db().begin().await?;
        let purged = retention::purge(&txn, scope, &policy, now).await?;
        if !purged.is_empty() {
            let event = AuditEvent::new(scope, Actor::System, AuditAction::RetentionPurged, &RequestContext::default())
                .entity("team", scope.team_id())
                .details(json!({ "purged": purged, "policy": policy, "as_of": now }));
            audit::append(&txn, event).await?;
        }
        txn.commit().await?;
        total.audit_rows += purged.audit_rows;
        total.sessions += purged.sessions;
        total.links += purged.links;
        total.notifications += purged.notifications;
        total.alerts += purged.alerts;
        total.closed_findings += purged.closed_findings;
    }
    let txn = state.db().begin().await?;
    let instance_rows = retention::purge_instance_audit(&txn, &defaults, now).await?;
    if instance_rows > 0 {
        let instance = vulntrack_store::audit::Tenancy::Instance;
        let event = AuditEvent::new(instance, Actor::System, AuditAction::RetentionPurged, &RequestContext::default())
            .details(json!({ "purged": { "audit_rows": instance_rows }, "as_of": now }));
        audit::append(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(format!(
        "purged {} audit rows, {} sessions, {} links, {} notifications, {} alerts, {} closed findings",
        total.audit_rows + instance_rows,
        total.sessions,
        total.links,
        total.notifications,
        total.alerts,
        total.closed_findings
    ))
}

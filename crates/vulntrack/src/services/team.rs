//! The team's own settings (ADMIN): its name and its session lifetime.
//! Each change checks the permission, is decided under the team's row lock
//! and is written with its audit row in one transaction.

use chrono::Utc;
use serde_json::{Value, json};
use vulntrack_domain::{
    Action, AuditAction, FieldError, ValidationErrors,
    vulnerability::{
        Severity,
        sla::{DAYS_LIMIT, SlaPolicy},
    },
};
use vulntrack_store::{
    audit::{self, AuditEvent, RequestContext},
    sessions,
    teams::{self, Team},
};

use crate::{app::AppState, auth::Principal, http::versioning::IfMatch, services::ServiceError};

/// Renames the team (names are labels; another team's name is allowed).
pub async fn rename(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    name: &str,
    if_match: &IfMatch,
) -> Result<Team, ServiceError> {
    principal.require(state, context, Action::ManageTeam).await?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServiceError::Invalid(FieldError::new("name", "length", "must be 1–100 characters").into()));
    }
    let scope = principal.scope();
    let txn = state.db().begin().await?;
    let before = teams::get_for_update(&txn, scope).await?;
    if_match.check(before.version)?;
    let after = teams::rename(&txn, scope, name).await?;
    if before.name != after.name {
        let event = AuditEvent::new(scope, principal.actor(), AuditAction::TeamUpdated, context)
            .entity("team", after.id)
            .details(json!({ "name": { "before": before.name, "after": after.name } }));
        audit::append(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(after)
}

/// Sets how long a sign-in lasts in the team, within the operator's
/// maximum (`VULNTRACK_SESSION_TTL`); the maximum itself clears the team's
/// own choice. Sessions already open end by the new lifetime too.
pub async fn set_session_lifetime(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    seconds: u64,
) -> Result<Team, ServiceError> {
    principal.require(state, context, Action::ManageTeam).await?;
    let maximum = state.config().session_ttl.as_secs();
    if !(60..=maximum).contains(&seconds) {
        let mut errors = ValidationErrors::default();
        errors.push(FieldError::new(
            "session_ttl",
            "range",
            format!("must be between 60 and {maximum} seconds (the operator's maximum)"),
        ));
        return Err(ServiceError::Invalid(errors));
    }
    let chosen = (seconds < maximum).then(|| i64::try_from(seconds).unwrap_or(i64::MAX));
    let scope = principal.scope();
    let txn = state.db().begin().await?;
    let before = teams::get_for_update(&txn, scope).await?;
    if before.session_ttl_seconds == chosen {
        txn.commit().await?;
        return Ok(before);
    }
    let after = teams::set_session_ttl(&txn, scope, chosen).await?;
    let lifetime = chrono::Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX));
    let shortened = sessions::cap_lifetime(&txn, scope, lifetime, Utc::now()).await?;
    let event = AuditEvent::new(scope, principal.actor(), AuditAction::SettingsChanged, context)
        .entity("team", scope.team_id())
        .details(json!({
            "session_ttl_seconds": { "before": before.session_ttl_seconds, "after": chosen },
            "sessions_shortened": shortened,
        }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(after)
}

/// Changes the team's triage policy: the fields of `body` that it names
/// (`risk_acceptance_max_days`, `sla_days` by severity with `null` for no
/// due time, `due_soon_percent`, `due_soon_days`), every bad one reported
/// at once. A new SLA recomputes the due times of the team's records.
pub async fn set_triage_policy(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    body: &Value,
    if_match: &IfMatch,
) -> Result<Team, ServiceError> {
    principal.require(state, context, Action::ManageTeam).await?;
    let scope = principal.scope();
    let txn = state.db().begin().await?;
    let before = teams::get_for_update(&txn, scope).await?;
    if_match.check(before.version)?;
    let (max_days, approval, sla) =
        policy_of(body, before.risk_acceptance_max_days, before.risk_acceptance_approval, before.sla)?;
    if (max_days, approval, sla) == (before.risk_acceptance_max_days, before.risk_acceptance_approval, before.sla) {
        txn.commit().await?;
        return Ok(before);
    }
    let after = teams::set_triage_policy(&txn, scope, max_days, approval, sla).await?;
    let event = AuditEvent::new(scope, principal.actor(), AuditAction::SettingsChanged, context)
        .entity("team", scope.team_id())
        .details(json!({
            "risk_acceptance_max_days": { "before": before.risk_acceptance_max_days, "after": max_days },
            "risk_acceptance_approval": { "before": before.risk_acceptance_approval, "after": approval },
            "sla": { "before": sla_json(&before.sla), "after": sla_json(&sla) },
        }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(after)
}

/// The policy as the API shows it.
pub fn sla_json(sla: &SlaPolicy) -> Value {
    let days: serde_json::Map<String, Value> =
        Severity::ALL.iter().map(|s| (s.as_str().to_owned(), json!(sla.days_for(*s)))).collect();
    json!({ "sla_days": days, "due_soon_percent": sla.due_soon_percent, "due_soon_days": sla.due_soon_days })
}

/// A whole number from `low` to `high`, or that field's error.
fn in_range(errors: &mut ValidationErrors, field: &str, value: &Value, low: u16, high: u16) -> Option<u16> {
    let number = value.as_u64().and_then(|n| u16::try_from(n).ok()).filter(|n| (low..=high).contains(n));
    if number.is_none() {
        errors.push(FieldError::new(field, "range", format!("must be a whole number from {low} to {high}")));
    }
    number
}

/// `body` over the current policy, or every field error in it.
fn policy_of(
    body: &Value,
    max_days: u16,
    approval: bool,
    sla: SlaPolicy,
) -> Result<(u16, bool, SlaPolicy), ServiceError> {
    let mut errors = ValidationErrors::default();
    let Value::Object(fields) = body else {
        return Err(ServiceError::Invalid(FieldError::new("body", "type", "must be a JSON object").into()));
    };
    let (mut max_days, mut approval, mut sla) = (max_days, approval, sla);
    let mut unknown = Vec::new();
    for (name, value) in fields {
        match name.as_str() {
            "risk_acceptance_max_days" => {
                max_days = in_range(&mut errors, name, value, 1, teams::RISK_ACCEPTANCE_DAYS_LIMIT).unwrap_or(max_days);
            }
            "risk_acceptance_approval" => match value {
                Value::Bool(required) => approval = *required,
                _ => errors.push(FieldError::new(name, "type", "must be true or false")),
            },
            "due_soon_percent" => {
                sla.due_soon_percent = in_range(&mut errors, name, value, 0, 100)
                    .and_then(|n| u8::try_from(n).ok())
                    .unwrap_or(sla.due_soon_percent);
            }
            "due_soon_days" => {
                sla.due_soon_days = in_range(&mut errors, name, value, 0, 365).unwrap_or(sla.due_soon_days)
            }
            "sla_days" => match value {
                Value::Object(days) => {
                    for (severity, value) in days {
                        let field = format!("sla_days.{severity}");
                        let Some(slot) = Severity::ALL.iter().position(|s| s.as_str() == severity) else {
                            unknown.push(field);
                            continue;
                        };
                        sla.days[slot] =
                            if value.is_null() { None } else { in_range(&mut errors, &field, value, 1, DAYS_LIMIT) };
                    }
                }
                _ => errors.push(FieldError::new(name, "type", "must be an object of days by severity")),
            },
            _ => unknown.push(name.clone()),
        }
    }
    for field in unknown {
        errors.push(FieldError::new(field, "unknown", "is not part of the triage policy"));
    }
    Ok(errors.into_result((max_days, approval, sla))?)
}

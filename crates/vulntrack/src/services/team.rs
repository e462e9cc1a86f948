//! The team's own settings (ADMIN): its name and its session lifetime.
//! Each change checks the permission, is decided under the team's row lock
//! and is written with its audit row in one transaction.

use chrono::Utc;
use serde_json::json;
use vulntrack_domain::{Action, AuditAction, FieldError, ValidationErrors};
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

/// Sets how many days ahead a risk may be accepted in the team (1 to
/// 3650). Acceptances already recorded keep their dates.
pub async fn set_risk_acceptance_max_days(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    days: i64,
    if_match: &IfMatch,
) -> Result<Team, ServiceError> {
    principal.require(state, context, Action::ManageTeam).await?;
    let limit = teams::RISK_ACCEPTANCE_DAYS_LIMIT;
    let Some(days) = u16::try_from(days).ok().filter(|d| (1..=limit).contains(d)) else {
        return Err(ServiceError::Invalid(
            FieldError::new(
                "risk_acceptance_max_days",
                "range",
                format!("must be a whole number of days from 1 to {limit}"),
            )
            .into(),
        ));
    };
    let scope = principal.scope();
    let txn = state.db().begin().await?;
    let before = teams::get_for_update(&txn, scope).await?;
    if_match.check(before.version)?;
    if before.risk_acceptance_max_days == days {
        txn.commit().await?;
        return Ok(before);
    }
    let after = teams::set_risk_acceptance_max_days(&txn, scope, days).await?;
    let event = AuditEvent::new(scope, principal.actor(), AuditAction::SettingsChanged, context)
        .entity("team", scope.team_id())
        .details(json!({
            "risk_acceptance_max_days": { "before": before.risk_acceptance_max_days, "after": days },
        }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(after)
}

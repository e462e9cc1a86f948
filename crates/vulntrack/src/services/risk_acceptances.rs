//! Risk acceptance with approval. Where a team requires it, an ANALYST's
//! RISK_ACCEPTED is a request: the record keeps its state, the team's
//! ADMINs are told, and one of them approves (the record is then resolved
//! as asked, by the approver) or rejects it (with a reason the requester
//! is told).

use serde_json::{Value, json};
use uuid::Uuid;
use vulntrack_domain::{
    Action, AuditAction,
    vulnerability::{Resolution, record::VulnerabilityRecord},
};
use vulntrack_store::{
    audit::{self, AuditEvent, RequestContext},
    notifications,
    risk_acceptances::{self, AcceptanceRequest, NewRequest, RequestState},
    teams, users,
    vulnerabilities::{self, Vulnerability},
};

use crate::{app::AppState, auth::Principal, services::ServiceError};

/// Whether `next` accepts a risk that `current` did not accept, or until
/// another day.
fn accepts_anew(current: &VulnerabilityRecord, next: &VulnerabilityRecord) -> bool {
    let accepted = |r: &VulnerabilityRecord| r.is_resolved() && r.resolution == Some(Resolution::RiskAccepted);
    accepted(next) && (!accepted(current) || current.risk_accepted_until != next.risk_accepted_until)
}

/// When the team requires approval and `principal` may not decide, turns
/// the acceptance in `next` into a request: `next` keeps `current`'s
/// status and resolution, and the request is recorded, audited and sent
/// to the team's ADMINs. `next` is otherwise left as it is (its other
/// changes apply).
pub(crate) async fn hold_for_approval(
    txn: &impl sea_orm::ConnectionTrait,
    principal: &Principal,
    context: &RequestContext,
    current: &Vulnerability,
    next: &mut VulnerabilityRecord,
) -> Result<Option<AcceptanceRequest>, ServiceError> {
    if !accepts_anew(&current.record, next) || principal.may(Action::DecideRiskAcceptance) {
        return Ok(None);
    }
    let scope = principal.scope();
    if !teams::get(txn, scope).await?.risk_acceptance_approval {
        return Ok(None);
    }
    let (Some(until), Some(note)) = (next.risk_accepted_until, next.resolution_note.clone()) else {
        // The record's own rules require both with RISK_ACCEPTED.
        return Ok(None);
    };
    let request = risk_acceptances::request(
        txn,
        scope,
        NewRequest {
            vulnerability_id: current.id,
            requested_by: principal.user.id,
            status: next.status,
            note,
            accepted_until: until,
        },
    )
    .await?;
    next.status = current.record.status;
    next.resolution = current.record.resolution;
    next.resolution_note = current.record.resolution_note.clone();
    next.duplicate_of = current.record.duplicate_of;
    next.risk_accepted_until = current.record.risk_accepted_until;
    let event = AuditEvent::new(scope, principal.actor(), AuditAction::RiskAcceptanceRequested, context)
        .entity("vulnerability", current.id)
        .details(json!({
            "request_id": request.id,
            "status": request.status,
            "accepted_until": request.accepted_until,
            "note": request.note,
        }));
    audit::append(txn, event).await?;
    let admins = users::active_admins(txn, scope).await?;
    let message = format!(
        "{} asks to accept the risk of {} until {until}: {}",
        principal.user.name,
        current.key(),
        current.record.title
    );
    notifications::notify(txn, scope, &admins, Some(current.id), "RISK_ACCEPTANCE_REQUESTED", &message).await?;
    Ok(Some(request))
}

/// What an ADMIN decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// The most a decision's note may hold.
const NOTE_MAX: usize = 2000;

/// Approves or rejects a waiting request. Approving resolves the record
/// as requested (checked against the team's rules as they are now, by
/// the approver); rejecting needs a reason. Either way the requester is
/// told. A request already decided is a conflict.
pub async fn decide(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id: Uuid,
    decision: Decision,
    note: Option<&str>,
) -> Result<(AcceptanceRequest, Vulnerability), ServiceError> {
    let scope = principal.scope();
    principal.require(state, context, Action::DecideRiskAcceptance).await?;
    let note = note.map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    if decision == Decision::Reject && note.is_none() {
        return Err(ServiceError::field("note", "required", "say why the risk is not accepted"));
    }
    if note.as_ref().is_some_and(|n| n.chars().count() > NOTE_MAX) {
        return Err(ServiceError::field("note", "too_long", &format!("must be at most {NOTE_MAX} characters")));
    }
    let txn = state.db().begin().await?;
    let request = risk_acceptances::get_for_update(&txn, scope, id).await?;
    if request.state != RequestState::Pending {
        return Err(ServiceError::Conflict("This request has already been decided or withdrawn."));
    }
    let current = vulnerabilities::find_for_update(&txn, scope, &request.vulnerability_id.to_string()).await?;
    let (state_after, action, kind, verdict) = match decision {
        Decision::Approve => {
            (RequestState::Approved, AuditAction::RiskAcceptanceApproved, "RISK_ACCEPTANCE_APPROVED", "approved")
        }
        Decision::Reject => {
            (RequestState::Rejected, AuditAction::RiskAcceptanceRejected, "RISK_ACCEPTANCE_REJECTED", "rejected")
        }
    };
    // Decided first, so the record's own status change below finds no
    // waiting request to withdraw.
    risk_acceptances::decide(&txn, scope, request.id, state_after, principal.user.id, note.clone()).await?;
    let event = AuditEvent::new(scope, principal.actor(), action, context)
        .entity("vulnerability", current.id)
        .details(json!({ "request_id": request.id, "accepted_until": request.accepted_until, "note": note }));
    audit::append(&txn, event).await?;
    let record = match decision {
        Decision::Approve => {
            let body = json!({
                "status": request.status,
                "resolution": Resolution::RiskAccepted,
                "resolution_note": request.note,
                "risk_accepted_until": request.accepted_until,
            });
            super::vulnerabilities::change_held(&txn, principal, context, &current, &body).await?.vulnerability
        }
        Decision::Reject => current.clone(),
    };
    if let Some(requester) = request.requested_by.filter(|r| *r != principal.user.id) {
        let reason = note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
        let message = format!(
            "{} {verdict} accepting the risk of {} until {}{reason}: {}",
            principal.user.name,
            current.key(),
            request.accepted_until,
            current.record.title
        );
        notifications::notify(&txn, scope, &[requester], Some(current.id), kind, &message).await?;
    }
    let decided = AcceptanceRequest {
        state: state_after,
        decided_by: Some(principal.user.id),
        decided_at: Some(chrono::Utc::now()),
        decision_note: note,
        ..request
    };
    txn.commit().await?;
    Ok((decided, record))
}

/// Records looked at per run of the expiry job (the next run takes the rest).
const EXPIRY_BATCH: u64 = 500;

/// Reopens every record whose risk acceptance ended before `today`: each
/// in its own transaction, audited as the system's change (the acceptance
/// that ended, and the status change), its reporter and assignee told.
/// Returns how many were reopened.
pub async fn reopen_expired(state: &AppState, today: chrono::NaiveDate) -> Result<usize, ServiceError> {
    use vulntrack_domain::vulnerability::VulnStatus;
    use vulntrack_store::audit::Actor;
    let due = vulnerabilities::expired_acceptances(state.db().conn(), today, EXPIRY_BATCH).await?;
    let context = RequestContext::default();
    let mut reopened = 0;
    for (scope, id) in due {
        let txn = state.db().begin().await?;
        let current = match vulnerabilities::find_for_update(&txn, scope, &id.to_string()).await {
            Ok(current) => current,
            Err(vulntrack_store::StoreError::NotFound) => continue,
            Err(other) => return Err(other.into()),
        };
        // A person may have settled it since it was listed.
        if !current.record.is_resolved() || !current.record.acceptance_expired(today) {
            continue;
        }
        let mut next = current.record.clone();
        next.status = VulnStatus::Open;
        next.resolution = None;
        next.resolution_note = None;
        next.duplicate_of = None;
        next.risk_accepted_until = None;
        let updated = vulnerabilities::update(&txn, scope, &current, &next).await?;
        let until = current.record.risk_accepted_until;
        let expired = AuditEvent::new(scope, Actor::System, AuditAction::RiskAcceptanceExpired, &context)
            .entity("vulnerability", current.id)
            .details(json!({ "key": current.key(), "accepted_until": until, "note": current.record.resolution_note }));
        audit::append(&txn, expired).await?;
        let status = AuditEvent::new(scope, Actor::System, AuditAction::VulnerabilityStatusChanged, &context)
            .entity("vulnerability", current.id)
            .details(json!({
                "key": current.key(),
                "status": { "before": current.record.status, "after": updated.record.status },
                "resolution": { "before": current.record.resolution, "after": Value::Null },
                "reason": "the risk acceptance expired",
            }));
        audit::append(&txn, status).await?;
        let concerned: Vec<_> = [current.reporter_id, current.record.assignee_id].into_iter().flatten().collect();
        let message = format!(
            "{} reopened: accepting its risk ended on {}: {}",
            current.key(),
            until.map(|d| d.to_string()).unwrap_or_default(),
            current.record.title
        );
        notifications::notify(&txn, scope, &concerned, Some(current.id), "RISK_ACCEPTANCE_EXPIRED", &message).await?;
        txn.commit().await?;
        reopened += 1;
    }
    Ok(reopened)
}

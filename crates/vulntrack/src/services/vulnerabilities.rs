//! Creating, changing and deleting vulnerabilities, with their audit rows
//! and the notifications they cause.

use serde_json::{Map, Value, json};
use vulntrack_domain::AuditAction;
use vulntrack_domain::{
    Action, UserId,
    vulnerability::{
        input::{self, Mode},
        record::VulnerabilityRecord,
        scanner::{self, ScannerFields},
    },
};
use vulntrack_store::{
    assets,
    audit::{self, AuditEvent, RequestContext},
    notifications,
    vulnerabilities::{self, Vulnerability},
};

use crate::{app::AppState, auth::Principal, http::versioning::IfMatch, services::ServiceError};

/// The fields that differ, as `{field: {before, after}}`.
fn changes(before: &VulnerabilityRecord, after: &VulnerabilityRecord) -> Map<String, Value> {
    let (Ok(Value::Object(old)), Ok(Value::Object(new))) = (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Map::new();
    };
    new.into_iter()
        .filter(|(field, value)| old.get(field) != Some(value))
        .map(|(field, value)| {
            let previous = old.get(&field).cloned().unwrap_or(Value::Null);
            (field, json!({ "before": previous, "after": value }))
        })
        .collect()
}

/// The record's fields and the scanner fields a person may set, read from
/// one body: every bad field of either reported at once.
fn parse(
    body: &Value,
    mode: Mode,
    scan: &ScannerFields,
) -> Result<(input::VulnerabilityFields, ScannerFields), ServiceError> {
    match (input::parse(body, mode), scan.with_input(body)) {
        (Ok(fields), Ok(scan)) => Ok((fields, scan)),
        (fields, scan) => {
            let mut errors = fields.err().unwrap_or_default();
            for error in scan.err().unwrap_or_default().0 {
                errors.push(error);
            }
            Err(ServiceError::Invalid(errors))
        }
    }
}

/// The scanner fields a person set, as `{field: {before, after}}`.
fn scan_changes(before: &ScannerFields, after: &ScannerFields) -> Map<String, Value> {
    let (Ok(Value::Object(old)), Ok(Value::Object(new))) = (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Map::new();
    };
    scanner::INPUT_FIELDS
        .iter()
        .filter(|field| old.get(**field) != new.get(**field))
        .map(|field| (field.to_string(), json!({ "before": old.get(*field), "after": new.get(*field) })))
        .collect()
}

fn event(
    principal: &Principal,
    context: &RequestContext,
    action: AuditAction,
    vulnerability: &Vulnerability,
) -> AuditEvent {
    AuditEvent::new(principal.scope(), principal.actor(), action, context).entity("vulnerability", vulnerability.id)
}

/// Resolves the record's asset names to the team's asset records, creating
/// (and auditing) those not known yet, and links the record to them.
async fn attach_assets(
    txn: &impl sea_orm::ConnectionTrait,
    principal: &Principal,
    context: &RequestContext,
    vulnerability: &mut Vulnerability,
) -> Result<(), ServiceError> {
    let scope = principal.scope();
    let resolved = assets::ensure_named(txn, scope, &vulnerability.record.assets).await?;
    for (asset, created) in &resolved {
        if *created {
            let event = AuditEvent::new(scope, principal.actor(), AuditAction::AssetCreated, context)
                .entity("asset", asset.id)
                .details(json!({ "name": asset.name, "named_by": vulnerability.key() }));
            audit::append(txn, event).await?;
        }
    }
    let mut ids: Vec<uuid::Uuid> = resolved.iter().map(|(asset, _)| asset.id).collect();
    assets::link(txn, scope, vulnerability.id, &ids).await?;
    ids.sort_unstable();
    vulnerability.asset_ids = ids;
    Ok(())
}

/// Recomputes the record's catalogue fields and priority (its severity,
/// CVSS, CVE or assets changed) and shows them on `vulnerability`.
async fn refresh_priority(
    txn: &impl sea_orm::ConnectionTrait,
    scope: vulntrack_store::TeamScope,
    vulnerability: &mut Vulnerability,
) -> Result<(), ServiceError> {
    let target =
        vulntrack_store::vulnerabilities::priority::Target::Records(scope, std::slice::from_ref(&vulnerability.id));
    let mut refreshed = vulntrack_store::vulnerabilities::priority::refresh(txn, target).await?;
    if let Some(intel) = refreshed.remove(&vulnerability.id) {
        vulnerability.intel = intel;
    }
    Ok(())
}

/// A DUPLICATE names another record of the same team: one of another team
/// is "not found", as it would be anywhere else.
async fn check_duplicate_of(
    db: &impl sea_orm::ConnectionTrait,
    scope: vulntrack_store::TeamScope,
    record: &VulnerabilityRecord,
    this: Option<uuid::Uuid>,
) -> Result<(), ServiceError> {
    let Some(original) = record.duplicate_of else { return Ok(()) };
    let refuse = |code: &str, message: &str| {
        ServiceError::Invalid(vulntrack_domain::validation::FieldError::new("duplicate_of", code, message).into())
    };
    if Some(original) == this {
        return Err(refuse("self", "must be another record: a record cannot duplicate itself"));
    }
    match vulnerabilities::get(db, scope, original).await {
        Ok(_) => Ok(()),
        Err(vulntrack_store::StoreError::NotFound) => Err(refuse("not_found", "is not a record of your team")),
        Err(other) => Err(other.into()),
    }
}

/// A risk is accepted until a day after today and at most the team's
/// `risk_acceptance_max_days` ahead (checked when the date is set).
async fn check_acceptance_end(
    db: &impl sea_orm::ConnectionTrait,
    scope: vulntrack_store::TeamScope,
    record: &VulnerabilityRecord,
) -> Result<(), ServiceError> {
    let Some(until) = record.risk_accepted_until else { return Ok(()) };
    let maximum = vulntrack_store::teams::get(db, scope).await?.risk_acceptance_max_days;
    let today = chrono::Utc::now().date_naive();
    let latest = today + chrono::Days::new(u64::from(maximum));
    if until <= today || until > latest {
        return Err(ServiceError::Invalid(
            vulntrack_domain::validation::FieldError::new(
                "risk_accepted_until",
                "range",
                format!("must be after today and at most {maximum} days ahead (by {latest}), the team's limit"),
            )
            .into(),
        ));
    }
    Ok(())
}

/// Whom a change to `vulnerability` concerns, other than whoever made it.
pub fn watchers(vulnerability: &Vulnerability, actor: UserId) -> Vec<UserId> {
    [vulnerability.reporter_id, vulnerability.record.assignee_id]
        .into_iter()
        .flatten()
        .filter(|id| *id != actor)
        .collect()
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    body: &Value,
) -> Result<Vulnerability, ServiceError> {
    principal.require(state, context, Action::WriteVulnerabilities).await?;
    let (fields, scan) = parse(body, Mode::Create, &ScannerFields::default())?;
    let record = VulnerabilityRecord::create(fields).map_err(ServiceError::Invalid)?;
    let scope = principal.scope();
    super::members::require_active(state.db().conn(), scope, record.assignee_id, "assignee_id").await?;
    check_duplicate_of(state.db().conn(), scope, &record, None).await?;
    check_acceptance_end(state.db().conn(), scope, &record).await?;
    let txn = state.db().begin().await?;
    let mut created = vulnerabilities::create(&txn, scope, &record, Some(principal.user.id)).await?;
    if scan != created.scan {
        vulnerabilities::set_scan_input(&txn, scope, created.id, &scan).await?;
        created.scan = scan;
    }
    attach_assets(&txn, principal, context, &mut created).await?;
    refresh_priority(&txn, scope, &mut created).await?;
    let summary = json!({ "key": created.key(), "title": created.record.title, "severity": created.record.severity, "status": created.record.status });
    audit::append(&txn, event(principal, context, AuditAction::VulnerabilityCreated, &created).details(summary))
        .await?;
    if let Some(assignee) = created.record.assignee_id {
        audit::append(
            &txn,
            event(principal, context, AuditAction::VulnerabilityAssigned, &created)
                .details(json!({ "assignee_id": assignee })),
        )
        .await?;
        if assignee != principal.user.id {
            let message = format!("{} assigned you {}: {}", principal.user.name, created.key(), created.record.title);
            notifications::notify(&txn, scope, &[assignee], Some(created.id), "ASSIGNED", &message).await?;
        }
    }
    super::webhooks::emit(&txn, scope, "vulnerability.created", super::webhooks::record_data(&created)).await?;
    txn.commit().await?;
    Ok(created)
}

/// Changes the fields `body` names, and only those. The record is read
/// inside the write transaction with its row held (so two concurrent
/// changes apply one after the other, and each audit diff starts where the
/// previous one ended) and must still be the version `if_match` names.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id_or_key: &str,
    body: &Value,
    if_match: &IfMatch,
) -> Result<Changed, ServiceError> {
    let scope = principal.scope();
    // Not found before forbidden, so a role without the right learns
    // nothing about which records exist.
    let found = vulnerabilities::find(state.db().conn(), scope, id_or_key).await?;
    principal.require(state, context, Action::WriteVulnerabilities).await?;
    parse(body, Mode::Update, &found.scan)?;
    let txn = state.db().begin().await?;
    let current = vulnerabilities::find_for_update(&txn, scope, id_or_key).await?;
    if_match.check(current.version)?;
    let updated = change_held(&txn, principal, context, &current, body).await?;
    txn.commit().await?;
    Ok(updated)
}

/// A change as made: the record, and the request to accept its risk when
/// the change asked for an acceptance that waits for an ADMIN's approval.
#[derive(Debug)]
pub struct Changed {
    pub vulnerability: Vulnerability,
    pub acceptance_requested: Option<vulntrack_store::risk_acceptances::AcceptanceRequest>,
}

/// Changes the fields `body` names on `current`, a record read inside
/// `txn` with its row held: the change, its audit rows and notifications,
/// all inside `txn` (which the caller commits).
pub(crate) async fn change_held(
    txn: &impl sea_orm::ConnectionTrait,
    principal: &Principal,
    context: &RequestContext,
    current: &Vulnerability,
    body: &Value,
) -> Result<Changed, ServiceError> {
    let scope = principal.scope();
    let (fields, _) = parse(body, Mode::Update, &current.scan)?;
    let mut next = current.record.apply(fields).map_err(ServiceError::Invalid)?;
    if next.assignee_id != current.record.assignee_id {
        super::members::require_active(txn, scope, next.assignee_id, "assignee_id").await?;
    }
    if next.duplicate_of != current.record.duplicate_of {
        check_duplicate_of(txn, scope, &next, Some(current.id)).await?;
    }
    if next.risk_accepted_until != current.record.risk_accepted_until {
        check_acceptance_end(txn, scope, &next).await?;
    }
    let acceptance_requested =
        super::risk_acceptances::hold_for_approval(txn, principal, context, current, &mut next).await?;
    // Valid (checked above): the same values over the record as it is now.
    let next_scan = current.scan.with_input(body).map_err(ServiceError::Invalid)?;
    if next == current.record && next_scan == current.scan {
        // Nothing but a request to accept the risk.
        return Ok(Changed { vulnerability: current.clone(), acceptance_requested });
    }
    let mut updated = vulnerabilities::update(txn, scope, current, &next).await?;
    if next_scan != current.scan {
        vulnerabilities::set_scan_input(txn, scope, current.id, &next_scan).await?;
        updated.scan = next_scan.clone();
    }
    if next.assets != current.record.assets {
        attach_assets(txn, principal, context, &mut updated).await?;
    }
    let prioritised = (next.severity, next.cvss_score, &next.cve_id, &next.assets);
    if prioritised
        != (current.record.severity, current.record.cvss_score, &current.record.cve_id, &current.record.assets)
    {
        refresh_priority(txn, scope, &mut updated).await?;
    }
    let mut diff = changes(&current.record, &next);
    diff.extend(scan_changes(&current.scan, &next_scan));
    let status_change = diff.remove("status");
    // A resolution is part of the status change it comes with.
    let resolution_change = if status_change.is_some() { diff.remove("resolution") } else { None };
    let assignee_change = diff.remove("assignee_id");
    if !diff.is_empty() {
        let data = json!({ "vulnerability": super::webhooks::record_data(&updated), "changes": diff });
        audit::append(
            txn,
            event(principal, context, AuditAction::VulnerabilityUpdated, &updated).details(Value::Object(diff)),
        )
        .await?;
        super::webhooks::emit(txn, scope, "vulnerability.updated", data).await?;
    }
    if let Some(change) = status_change {
        // Settled otherwise: a waiting request to accept the risk is moot.
        vulntrack_store::risk_acceptances::withdraw_pending(txn, scope, updated.id).await?;
        let data = json!({ "vulnerability": super::webhooks::record_data(&updated), "status": change, "resolution": resolution_change });
        super::webhooks::emit(txn, scope, "vulnerability.status_changed", data).await?;
        audit::append(
            txn,
            event(principal, context, AuditAction::VulnerabilityStatusChanged, &updated)
                .details(json!({ "status": change, "resolution": resolution_change })),
        )
        .await?;
        let status = match updated.record.resolution {
            Some(resolution) => format!("{} ({})", updated.record.status, resolution.label()),
            None => updated.record.status.to_string(),
        };
        let message = format!("{} moved {} to {status}: {}", principal.user.name, updated.key(), updated.record.title);
        notifications::notify(
            txn,
            scope,
            &watchers(&updated, principal.user.id),
            Some(updated.id),
            "STATUS_CHANGED",
            &message,
        )
        .await?;
    }
    if let Some(change) = assignee_change {
        audit::append(
            txn,
            event(principal, context, AuditAction::VulnerabilityAssigned, &updated)
                .details(json!({ "assignee_id": change })),
        )
        .await?;
        if let Some(assignee) = updated.record.assignee_id.filter(|a| *a != principal.user.id) {
            let message = format!("{} assigned you {}: {}", principal.user.name, updated.key(), updated.record.title);
            notifications::notify(txn, scope, &[assignee], Some(updated.id), "ASSIGNED", &message).await?;
        }
    }
    Ok(Changed { vulnerability: updated, acceptance_requested })
}

pub async fn delete(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id_or_key: &str,
    if_match: &IfMatch,
) -> Result<(), ServiceError> {
    let scope = principal.scope();
    vulnerabilities::find(state.db().conn(), scope, id_or_key).await?;
    principal.require(state, context, Action::WriteVulnerabilities).await?;
    let txn = state.db().begin().await?;
    let current = vulnerabilities::find_for_update(&txn, scope, id_or_key).await?;
    if_match.check(current.version)?;
    // Records that named it as their original keep their resolution.
    vulnerabilities::forget_duplicate_of(&txn, scope, current.id).await?;
    if !vulnerabilities::delete(&txn, scope, current.id).await? {
        return Err(ServiceError::NotFound);
    }
    let details = json!({ "key": current.key(), "title": current.record.title, "severity": current.record.severity });
    audit::append(&txn, event(principal, context, AuditAction::VulnerabilityDeleted, &current).details(details))
        .await?;
    txn.commit().await?;
    Ok(())
}

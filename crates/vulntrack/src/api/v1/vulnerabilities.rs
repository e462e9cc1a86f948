//! `/vulnerabilities`: the register.

use crate::ratelimit;
use axum::response::Response;

use std::collections::BTreeMap;

use crate::http::ApiQuery;
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;
use vulntrack_domain::vulnerability::scanner::{Component, Location};
use vulntrack_domain::{
    UserId,
    vulnerability::{
        Resolution, Severity, VulnKind, VulnStatus, cvss_score,
        risk::{Dread, Stride},
        sla::SlaState,
    },
};
use vulntrack_store::{
    risk_acceptances,
    vulnerabilities::{self, Vulnerability},
};

use crate::{
    app::AppState,
    auth::Principal,
    http::{
        ApiError, ApiJson, ClientContext,
        versioning::{IfMatch, with_etag},
    },
    services::{
        self,
        vulnerability_list::{ListParams, list_query},
    },
};

/// A new record, as `POST /vulnerabilities` reads it (the body is read field
/// by field, so every bad field gets its own error).
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct NewVulnerability {
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    /// Markdown.
    #[schema(min_length = 10, max_length = 10000)]
    description: String,
    /// Required unless `cvss_vector` gives it.
    severity: Option<Severity>,
    /// OPEN when absent.
    status: Option<VulnStatus>,
    kind: Option<VulnKind>,
    #[schema(pattern = r"^CVE-\d{4}-\d{4,}$")]
    cve_id: Option<String>,
    /// A CVSS v3.0, v3.1 or v4.0 vector; the score is computed from it.
    #[schema(max_length = 255)]
    cvss_vector: Option<String>,
    /// Must match the vector's own score when both are sent.
    #[schema(minimum = 0.0, maximum = 10.0)]
    cvss_score: Option<f64>,
    dread: Option<Dread>,
    stride: Option<Stride>,
    /// Names of the assets it affects.
    #[schema(max_items = 100)]
    assets: Option<Vec<String>>,
    /// http(s) URLs.
    #[schema(max_items = 50)]
    references: Option<Vec<String>>,
    #[schema(max_length = 10000)]
    remediation: Option<String>,
    /// A member of the team.
    assignee_id: Option<UserId>,
    #[schema(max_items = 20)]
    tags: Option<Vec<String>>,
    /// Required with status RESOLVED or CLOSED: why.
    resolution: Option<Resolution>,
    /// The person's words on the resolution; required for RISK_ACCEPTED.
    #[schema(max_length = 2000)]
    resolution_note: Option<String>,
    /// With resolution DUPLICATE: the id of the team's record this one repeats.
    duplicate_of: Option<Uuid>,
    /// With resolution RISK_ACCEPTED: the last day the acceptance holds
    /// (after today, at most the team's `risk_acceptance_max_days` ahead).
    risk_accepted_until: Option<chrono::NaiveDate>,
    /// The rule, check or advisory id (as a scanner would give it).
    #[schema(nullable, max_length = 500)]
    rule_id: Option<String>,
    /// CWE numbers (`[89]` for CWE-89).
    #[schema(nullable, max_items = 20)]
    cwe_ids: Option<Vec<u32>>,
    /// The package it is in: `name` required, `version`, `purl` (`pkg:…`), `ecosystem`.
    #[schema(nullable)]
    component: Option<Component>,
    #[schema(nullable, max_length = 500)]
    fixed_version: Option<String>,
    /// Where it is: `file`, `line`, `url` (http/https), `host`, `port`, `protocol`.
    #[schema(nullable)]
    location: Option<Location>,
}

/// A change to a record: only the fields sent change; `null` clears an
/// optional field.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct VulnerabilityChange {
    #[schema(min_length = 1, max_length = 200)]
    title: Option<String>,
    #[schema(min_length = 10, max_length = 10000)]
    description: Option<String>,
    severity: Option<Severity>,
    status: Option<VulnStatus>,
    kind: Option<VulnKind>,
    #[schema(nullable, pattern = r"^CVE-\d{4}-\d{4,}$")]
    cve_id: Option<String>,
    #[schema(nullable, max_length = 255)]
    cvss_vector: Option<String>,
    #[schema(nullable, minimum = 0.0, maximum = 10.0)]
    cvss_score: Option<f64>,
    #[schema(nullable)]
    dread: Option<Dread>,
    stride: Option<Stride>,
    #[schema(max_items = 100)]
    assets: Option<Vec<String>>,
    #[schema(max_items = 50)]
    references: Option<Vec<String>>,
    #[schema(nullable, max_length = 10000)]
    remediation: Option<String>,
    #[schema(nullable)]
    assignee_id: Option<UserId>,
    #[schema(max_items = 20)]
    tags: Option<Vec<String>>,
    /// Required once status is RESOLVED or CLOSED: why. Reopening clears it.
    #[schema(nullable)]
    resolution: Option<Resolution>,
    /// The person's words on the resolution; required for RISK_ACCEPTED.
    #[schema(nullable, max_length = 2000)]
    resolution_note: Option<String>,
    /// With resolution DUPLICATE: the id of the team's record this one repeats.
    #[schema(nullable)]
    duplicate_of: Option<Uuid>,
    /// With resolution RISK_ACCEPTED: the last day the acceptance holds
    /// (after today, at most the team's `risk_acceptance_max_days` ahead).
    #[schema(nullable)]
    risk_accepted_until: Option<chrono::NaiveDate>,
    /// The rule, check or advisory id (as a scanner would give it).
    #[schema(nullable, max_length = 500)]
    rule_id: Option<String>,
    /// CWE numbers (`[89]` for CWE-89).
    #[schema(nullable, max_items = 20)]
    cwe_ids: Option<Vec<u32>>,
    /// The package it is in: `name` required, `version`, `purl` (`pkg:…`), `ecosystem`.
    #[schema(nullable)]
    component: Option<Component>,
    #[schema(nullable, max_length = 500)]
    fixed_version: Option<String>,
    /// Where it is: `file`, `line`, `url` (http/https), `host`, `port`, `protocol`.
    #[schema(nullable)]
    location: Option<Location>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DreadView {
    #[serde(flatten)]
    factors: Dread,
    total: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VulnerabilityView {
    id: Uuid,
    key: String,
    title: String,
    description: String,
    severity: Severity,
    status: VulnStatus,
    kind: VulnKind,
    cve_id: Option<String>,
    cvss_vector: Option<String>,
    cvss_version: Option<String>,
    cvss_score: Option<f64>,
    /// The CVSS qualitative rating of the score (NONE … CRITICAL).
    cvss_severity: Option<&'static str>,
    dread: Option<DreadView>,
    stride: Stride,
    assets: Vec<String>,
    /// The team's asset records the `assets` names resolve to
    /// (`/api/v1/assets/{id}`); a new name creates its record.
    asset_ids: Vec<uuid::Uuid>,
    references: Vec<String>,
    remediation: Option<String>,
    assignee_id: Option<UserId>,
    reporter_id: Option<UserId>,
    tags: Vec<String>,
    /// Why it is RESOLVED or CLOSED (`null` while open).
    resolution: Option<Resolution>,
    resolution_note: Option<String>,
    /// For a DUPLICATE: the record it repeats (`null` once that is deleted).
    duplicate_of: Option<Uuid>,
    /// For RISK_ACCEPTED: the last day the acceptance holds; after it an
    /// import that finds it again reopens it.
    risk_accepted_until: Option<chrono::NaiveDate>,
    /// When the team's SLA wants it remediated (from first seen or created,
    /// by its severity; `null` for a severity without one).
    due_at: Option<DateTime<Utc>>,
    /// For an open record with a due time: `on_track`, `due_soon` or `breached`.
    sla_state: Option<SlaState>,
    /// For a resolved record with a due time: whether it was resolved by then.
    resolved_in_time: Option<bool>,
    resolved_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Bumped by every change; also the `ETag`, for `If-Match`.
    version: i64,
    /// `manual` for a record typed by a person, else the import format.
    source: String,
    /// The scanner and its version, as its report names them.
    scanner: Option<String>,
    /// The scanner's rule, check, plugin or advisory id.
    rule_id: Option<String>,
    cwe_ids: Vec<u32>,
    component: Option<Component>,
    fixed_version: Option<String>,
    /// Where the scanner found it; `null` when the report does not say.
    location: Option<Location>,
    /// Identifies an imported finding across reports of its asset.
    fingerprint: Option<String>,
    first_seen_at: Option<DateTime<Utc>>,
    last_seen_at: Option<DateTime<Utc>>,
    /// How many times the last report listed it.
    occurrences: Option<u32>,
    /// Its CVE is on CISA's Known Exploited Vulnerabilities list (from the CVE catalogue).
    known_exploited: bool,
    /// Its CVE's EPSS probability of exploitation in the next 30 days, 0–1 (from the CVE catalogue).
    epss: Option<f64>,
    /// 0–100: severity (or CVSS), known exploitation, EPSS and the asset's
    /// criticality and environment combined (the README, "Priority").
    priority: i16,
    /// On a single record's answer: the CVE catalogue's record of its CVE,
    /// when the catalogue holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    cve: Option<super::cves::CveView>,
    /// On a single record's answer: the request to accept its risk that
    /// waits for an ADMIN's approval, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    risk_acceptance_request: Option<super::risk_acceptances::RequestView>,
}

impl VulnerabilityView {
    /// The view with the record's waiting acceptance request.
    pub(crate) fn with_request(
        mut self,
        request: Option<vulntrack_store::risk_acceptances::AcceptanceRequest>,
    ) -> Self {
        self.risk_acceptance_request = request.map(Into::into);
        self
    }
}

impl From<services::vulnerabilities::Changed> for VulnerabilityView {
    fn from(changed: services::vulnerabilities::Changed) -> Self {
        VulnerabilityView::from(changed.vulnerability).with_request(changed.acceptance_requested)
    }
}

impl From<Vulnerability> for VulnerabilityView {
    fn from(v: Vulnerability) -> Self {
        let key = v.key();
        let r = v.record;
        let resolved = r.is_resolved();
        Self {
            id: v.id,
            key,
            cvss_severity: r.cvss_score.map(cvss_score::rating),
            dread: r.dread.map(|factors| DreadView { total: factors.total(), factors }),
            title: r.title,
            description: r.description,
            severity: r.severity,
            status: r.status,
            kind: r.kind,
            cve_id: r.cve_id,
            cvss_vector: r.cvss_vector,
            cvss_version: r.cvss_version,
            cvss_score: r.cvss_score,
            stride: r.stride,
            assets: r.assets,
            asset_ids: v.asset_ids,
            references: r.references,
            remediation: r.remediation,
            assignee_id: r.assignee_id,
            reporter_id: v.reporter_id,
            tags: r.tags,
            resolution: r.resolution,
            resolution_note: r.resolution_note,
            duplicate_of: r.duplicate_of,
            risk_accepted_until: r.risk_accepted_until,
            due_at: v.deadlines.map(|d| d.due_at),
            sla_state: v.deadlines.filter(|_| !resolved).map(|d| d.state(Utc::now())),
            resolved_in_time: v.deadlines.zip(v.resolved_at).filter(|_| resolved).map(|(d, at)| at <= d.due_at),
            resolved_at: v.resolved_at,
            created_at: v.created_at,
            updated_at: v.updated_at,
            version: v.version,
            location: (!v.scan.location.is_empty()).then_some(v.scan.location),
            source: v.scan.source,
            scanner: v.scan.scanner,
            rule_id: v.scan.rule_id,
            cwe_ids: v.scan.cwe_ids,
            component: v.scan.component,
            fixed_version: v.scan.fixed_version,
            fingerprint: v.scan.fingerprint,
            first_seen_at: v.scan.first_seen_at,
            last_seen_at: v.scan.last_seen_at,
            occurrences: v.scan.occurrences,
            known_exploited: v.intel.known_exploited,
            epss: v.intel.epss,
            priority: v.intel.priority,
            cve: None,
            risk_acceptance_request: None,
        }
    }
}

/// Creation has its own per-user limit on top of the API limit.
#[utoipa::path(
    post, path = "/vulnerabilities", tag = "vulnerabilities",
    request_body = NewVulnerability,
    responses((status = 201, description = "The record", body = VulnerabilityView,
               headers(("ETag" = String, description = "The record's version, for If-Match"))))
)]
pub async fn create(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Response {
    let checks = [crate::ratelimit::budgets::creates(&state, principal.user.id)];
    let work = async {
        let created = services::vulnerabilities::create(&state, &principal, &context, &body).await?;
        let version = created.version;
        Ok::<_, ApiError>(with_etag((StatusCode::CREATED, Json(VulnerabilityView::from(created))), version))
    };
    ratelimit::enforce(state.rate_limiter(), &checks, work).await
}

#[utoipa::path(
    get, path = "/vulnerabilities/{id}", tag = "vulnerabilities",
    params(("id" = String, Path, description = "The record's id or key (VT-42)")),
    responses((status = 200, description = "The record", body = VulnerabilityView,
               headers(("ETag" = String, description = "The record's version, for If-Match"))))
)]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let found = vulnerabilities::find(state.db().conn(), principal.scope(), &id).await?;
    let version = found.version;
    let waiting = risk_acceptances::pending_for(state.db().conn(), principal.scope(), found.id).await?;
    let cve = match found.record.cve_id.as_deref() {
        Some(id) => vulntrack_store::cves::find(state.db().conn(), id).await?.map(Into::into),
        None => None,
    };
    let mut view = VulnerabilityView::from(found).with_request(waiting);
    view.cve = cve;
    Ok(with_etag(Json(view), version))
}

#[utoipa::path(
    patch, path = "/vulnerabilities/{id}", tag = "vulnerabilities",
    params(("id" = String, Path, description = "The record's id or key (VT-42)"),
           ("If-Match" = Option<String>, Header, description = "The ETag read; a newer version answers 412")),
    request_body = VulnerabilityChange,
    responses((status = 200, description = "The changed record", body = VulnerabilityView),
              (status = 202, description = "Changed, except that accepting its risk waits for an ADMIN's approval (the team requires it): `risk_acceptance_request` is the request", body = VulnerabilityView))
)]
pub async fn update(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let changed = services::vulnerabilities::update(&state, &principal, &context, &id, &body, &if_match).await?;
    let version = changed.vulnerability.version;
    // An acceptance that waits for approval is accepted for processing, not done.
    let status = if changed.acceptance_requested.is_some() { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok(with_etag((status, Json(VulnerabilityView::from(changed))), version))
}

#[utoipa::path(
    delete, path = "/vulnerabilities/{id}", tag = "vulnerabilities",
    params(("id" = String, Path, description = "The record's id or key (VT-42)"),
           ("If-Match" = Option<String>, Header, description = "The ETag read; a newer version answers 412")),
    responses((status = 204, description = "Deleted"))
)]
pub async fn delete(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    services::vulnerabilities::delete(&state, &principal, &context, &id, &if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One change for many records (`tags_add`/`tags_remove` edit each
/// record's tags; the other fields are set as a single edit would).
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct BulkChange {
    /// Ids or keys (VT-42), at most 500, each once.
    #[schema(min_items = 1, max_items = 500)]
    ids: Vec<String>,
    change: BulkFields,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct BulkFields {
    status: Option<VulnStatus>,
    /// Required with status RESOLVED or CLOSED.
    resolution: Option<Resolution>,
    resolution_note: Option<String>,
    /// With DUPLICATE: the original's id or key.
    duplicate_of: Option<String>,
    /// With RISK_ACCEPTED: the last day of the acceptance.
    risk_accepted_until: Option<chrono::NaiveDate>,
    /// A member's id, or null to unassign.
    assignee_id: Option<Uuid>,
    severity: Option<Severity>,
    tags_add: Option<Vec<String>>,
    tags_remove: Option<Vec<String>>,
}

/// What became of one record of a bulk change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    /// The id or key as the request gave it.
    id: String,
    changed: bool,
    /// The record as it now is (when changed).
    #[serde(skip_serializing_if = "Option::is_none")]
    vulnerability: Option<VulnerabilityView>,
    /// Why not (when not changed): `not_found`, `invalid`, `conflict`, `forbidden`.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    /// With `invalid`: each broken rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    errors: Vec<vulntrack_domain::FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkResponse {
    changed: usize,
    refused: usize,
    /// One per id, in the order given.
    results: Vec<BulkResult>,
}

impl From<services::bulk_changes::Outcome> for BulkResult {
    fn from(outcome: services::bulk_changes::Outcome) -> Self {
        let detail = outcome.refusal();
        let mut result = BulkResult {
            id: outcome.requested,
            changed: false,
            vulnerability: None,
            error: None,
            errors: Vec::new(),
            detail,
        };
        match outcome.result {
            Ok(vulnerability) => {
                result.changed = true;
                result.vulnerability = Some(vulnerability.into());
            }
            Err(services::ServiceError::NotFound) => result.error = Some("not_found"),
            Err(services::ServiceError::Invalid(errors)) => {
                result.error = Some("invalid");
                result.errors = errors.0;
            }
            Err(services::ServiceError::NotAllowed(_)) => result.error = Some("forbidden"),
            Err(_) => result.error = Some("conflict"),
        }
        result
    }
}

/// One change to many records in one transaction: each record is changed
/// as a single edit would change it (its audit rows, its notifications),
/// or left as it was with the reason; the request is refused as a whole
/// (422, nothing written) when it is malformed. Counts as one API request
/// per record against the caller's budget.
#[utoipa::path(
    post, path = "/vulnerabilities/bulk", tag = "vulnerabilities",
    request_body = BulkChange,
    responses((status = 200, description = "Each record's outcome; a malformed request is a 422 and changes nothing", body = BulkResponse))
)]
pub async fn bulk(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<BulkResponse>, ApiError> {
    let outcomes = services::bulk_changes::apply(&state, &principal, &context, &body).await?;
    let results: Vec<BulkResult> = outcomes.into_iter().map(Into::into).collect();
    let changed = results.iter().filter(|r| r.changed).count();
    Ok(Json(BulkResponse { changed, refused: results.len() - changed, results }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListResponse {
    items: Vec<VulnerabilityView>,
    next_cursor: Option<String>,
    /// Send as `before` for the page that precedes this one; null on the first page.
    prev_cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/vulnerabilities", tag = "vulnerabilities",
    params(ListParams),
    responses((status = 200, description = "One page, in keyset order; `next_cursor` fetches the next", body = ListResponse))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ListResponse>, ApiError> {
    let (query, sort_name) = list_query(&state, &principal, &params)?;
    let page = vulnerabilities::list(state.db().conn(), principal.scope(), &query).await?;
    let cursor = |position| state.cursors().encode(principal.user.team_id, &sort_name, &position);
    let next_cursor = page.next.map(cursor);
    let prev_cursor = page.prev.map(cursor);
    Ok(Json(ListResponse { items: page.items.into_iter().map(Into::into).collect(), next_cursor, prev_cursor }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatsResponse {
    total: u64,
    open: u64,
    by_severity_and_status: Vec<vulnerabilities::SeverityStatusCount>,
    /// Severity → mean seconds from creation to resolution (null if none).
    mean_time_to_resolve_seconds: BTreeMap<&'static str, Option<f64>>,
    /// Open records past their SLA due time.
    overdue: u64,
    /// Open records due within the next seven days.
    due_this_week: u64,
    /// Open records whose CVE is on CISA's Known Exploited Vulnerabilities list.
    known_exploited_open: u64,
    /// Per severity, the records resolved in the last 90 days that had a due
    /// time, and how many of them were resolved by it.
    sla_compliance: Vec<vulnerabilities::SlaCompliance>,
}

#[utoipa::path(
    get, path = "/vulnerabilities/stats", tag = "vulnerabilities",
    responses((status = 200, description = "The team's figures", body = StatsResponse))
)]
pub async fn stats(State(state): State<AppState>, principal: Principal) -> Result<Json<StatsResponse>, ApiError> {
    let stats = vulnerabilities::stats(state.db().conn(), principal.scope()).await?;
    Ok(Json(StatsResponse {
        total: stats.total,
        open: stats.open,
        by_severity_and_status: stats.by_severity_and_status,
        mean_time_to_resolve_seconds: stats
            .mean_time_to_resolve_seconds
            .into_iter()
            .map(|(severity, mean)| (severity.as_str(), mean))
            .collect(),
        overdue: stats.overdue,
        due_this_week: stats.due_this_week,
        known_exploited_open: stats.known_exploited_open,
        sla_compliance: stats.sla_compliance,
    }))
}

//! `/vulnerabilities`: the register.

use crate::ratelimit;
use axum::response::Response;

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use axum_extra::extract::Query;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;
use vulntrack_domain::{
    UserId, ValidationErrors,
    validation::FieldError,
    vulnerability::{
        Severity, VulnKind, VulnStatus, cvss_score,
        risk::{Dread, Stride},
    },
};
use vulntrack_store::vulnerabilities::{self, Direction, ListQuery, Position, Sort, Vulnerability};

use super::params;
use crate::{
    app::AppState,
    auth::Principal,
    http::{
        ApiError, ApiJson, ClientContext,
        versioning::{IfMatch, with_etag},
    },
    services,
};

pub const LIMIT_MAX: u64 = 200;
pub const LIMIT_DEFAULT: u64 = 50;

#[derive(Debug, Serialize)]
pub struct DreadView {
    #[serde(flatten)]
    factors: Dread,
    total: f64,
}

#[derive(Debug, Serialize)]
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
    references: Vec<String>,
    remediation: Option<String>,
    assignee_id: Option<UserId>,
    reporter_id: Option<UserId>,
    tags: Vec<String>,
    resolved_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Bumped by every change; also the `ETag`, for `If-Match`.
    version: i64,
}

impl From<Vulnerability> for VulnerabilityView {
    fn from(v: Vulnerability) -> Self {
        let key = v.key();
        let r = v.record;
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
            references: r.references,
            remediation: r.remediation,
            assignee_id: r.assignee_id,
            reporter_id: v.reporter_id,
            tags: r.tags,
            resolved_at: v.resolved_at,
            created_at: v.created_at,
            updated_at: v.updated_at,
            version: v.version,
        }
    }
}

/// Creation has its own per-user limit on top of the API limit.
pub async fn create(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Response {
    let checks = [(format!("create:{}", principal.user.id), state.config().rate_limits.create)];
    let work = async {
        let created = services::vulnerabilities::create(&state, &principal, &context, &body).await?;
        let version = created.version;
        Ok::<_, ApiError>(with_etag((StatusCode::CREATED, Json(VulnerabilityView::from(created))), version))
    };
    ratelimit::enforce(state.rate_limiter(), &checks, work).await
}

pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let found = vulnerabilities::find(state.db().conn(), principal.scope(), &id).await?;
    let version = found.version;
    Ok(with_etag(Json(VulnerabilityView::from(found)), version))
}

pub async fn update(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let updated = services::vulnerabilities::update(&state, &principal, &context, &id, &body, &if_match).await?;
    let version = updated.version;
    Ok(with_etag(Json(VulnerabilityView::from(updated)), version))
}

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

/// Query parameters of the list, as sent; validated into a [`ListQuery`].
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListParams {
    pub(crate) severity: Vec<String>,
    pub(crate) status: Vec<String>,
    pub(crate) kind: Option<String>,
    pub(crate) assignee_id: Option<String>,
    pub(crate) cve_id: Option<String>,
    pub(crate) tag: Option<String>,
    pub(crate) q: Option<String>,
    pub(crate) created_after: Option<String>,
    pub(crate) created_before: Option<String>,
    pub(crate) sort: Option<String>,
    pub(crate) limit: Option<String>,
    pub(crate) cursor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ListResponse {
    items: Vec<VulnerabilityView>,
    next_cursor: Option<String>,
}

fn parse_each<T: std::str::FromStr>(field: &str, values: &[String], errors: &mut ValidationErrors) -> Vec<T>
where
    T::Err: std::fmt::Display,
{
    let mut out = Vec::new();
    for value in values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|v| !v.is_empty()) {
        match value.to_uppercase().parse() {
            Ok(parsed) => out.push(parsed),
            Err(e) => errors.push(FieldError::new(field, "invalid", format!("{value:?}: {e}"))),
        }
    }
    out
}

/// The validated list query, and the sort's name (the cursor context).
pub fn list_query(
    state: &AppState,
    principal: &Principal,
    params: &ListParams,
) -> Result<(ListQuery, String), ApiError> {
    let mut errors = ValidationErrors::default();
    let severities = parse_each::<Severity>("severity", &params.severity, &mut errors);
    let statuses = parse_each::<VulnStatus>("status", &params.status, &mut errors);
    let kind = params
        .kind
        .as_deref()
        .filter(|k| !k.is_empty())
        .and_then(|k| parse_each::<VulnKind>("kind", &[k.to_string()], &mut errors).pop());
    let assignee = match params.assignee_id.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some("me") => Some(principal.user.id),
        Some(other) => match Uuid::parse_str(other) {
            Ok(id) => Some(UserId::from_uuid(id)),
            Err(_) => {
                errors.push(FieldError::new("assignee_id", "invalid", "must be a user id or \"me\""));
                None
            }
        },
    };
    let sort_name = params.sort.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "-created".into());
    let sort = Sort::parse(&sort_name).unwrap_or_else(|| {
        errors.push(FieldError::new(
            "sort",
            "invalid",
            "must be created, updated, severity or cvss, with a leading - for descending",
        ));
        Sort::Created(Direction::Desc)
    });
    let limit = params::limit(params.limit.as_deref(), LIMIT_DEFAULT, LIMIT_MAX, &mut errors);
    let after = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(cursor) => {
            let position = state.cursors().decode::<Position>(principal.user.team_id, &sort_name, cursor);
            if position.is_none() {
                errors.push(FieldError::new("cursor", "invalid", "is not a cursor this list issued for this sort"));
            }
            position
        }
    };
    let query = ListQuery {
        severities,
        statuses,
        kind,
        assignee,
        cve_id: params.cve_id.clone().filter(|c| !c.trim().is_empty()).map(|c| c.trim().to_string()),
        tag: params.tag.clone().filter(|t| !t.trim().is_empty()).map(|t| t.trim().to_string()),
        text: params.q.clone().filter(|q| !q.trim().is_empty()),
        created_after: params::time("created_after", params.created_after.as_deref(), &mut errors),
        created_before: params::time("created_before", params.created_before.as_deref(), &mut errors),
        sort,
        limit,
        after,
    };
    errors.into_result((query, sort_name)).map_err(ApiError::Validation)
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<Json<ListResponse>, ApiError> {
    let (query, sort_name) = list_query(&state, &principal, &params)?;
    let page = vulnerabilities::list(state.db().conn(), principal.scope(), &query).await?;
    let next_cursor = page.next.map(|position| state.cursors().encode(principal.user.team_id, &sort_name, &position));
    Ok(Json(ListResponse { items: page.items.into_iter().map(Into::into).collect(), next_cursor }))
}

#[derive(Debug, Serialize)]
pub struct StatsResponse {
    total: u64,
    open: u64,
    by_severity_and_status: Vec<vulnerabilities::SeverityStatusCount>,
    /// Severity → mean seconds from creation to resolution (null if none).
    mean_time_to_resolve_seconds: BTreeMap<&'static str, Option<f64>>,
}

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
    }))
}

//! The team itself (ADMIN).

use axum::{Json, extract::State, response::Response};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use vulntrack_domain::{Action, TeamId, ValidationErrors, validation::not_blank};
use vulntrack_store::teams::{self, Team};

use crate::{
    app::AppState,
    auth::Principal,
    http::{
        ApiError, ApiJson, ClientContext,
        versioning::{IfMatch, with_etag},
    },
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TeamView {
    id: TeamId,
    name: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Bumped by every settings change; also the `ETag`, for `If-Match`.
    version: i64,
}

impl From<Team> for TeamView {
    fn from(t: Team) -> Self {
        Self { id: t.id, name: t.name, created_at: t.created_at, updated_at: t.updated_at, version: t.version }
    }
}

#[utoipa::path(
    get, path = "/team", tag = "team",
    responses((status = 200, description = "The team", body = TeamView,
               headers(("ETag" = String, description = "The team's version, for If-Match"))))
)]
pub async fn show(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
) -> Result<Response, ApiError> {
    principal.require(&state, &context, Action::ManageTeam).await?;
    let team = teams::get(state.db().conn(), principal.scope()).await?;
    let version = team.version;
    Ok(with_etag(Json(TeamView::from(team)), version))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamChange {
    #[garde(length(chars, min = 1, max = 100), custom(not_blank))]
    name: String,
}

#[utoipa::path(
    patch, path = "/team", tag = "team",
    params(("If-Match" = Option<String>, Header, description = "The ETag read; a newer version answers 412")),
    request_body = TeamChange,
    responses((status = 200, description = "The renamed team", body = TeamView))
)]
pub async fn update(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    ApiJson(change): ApiJson<TeamChange>,
) -> Result<Response, ApiError> {
    change.validate().map_err(|report| ApiError::Validation(ValidationErrors::from_garde(&report)))?;
    let after = crate::services::team::rename(&state, &principal, &context, &change.name, &if_match).await?;
    let version = after.version;
    Ok(with_etag(Json(TeamView::from(after)), version))
}

/// How the team triages: how long a risk may be accepted, and its SLA.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TriagePolicyView {
    /// How many days ahead a RISK_ACCEPTED record's `risk_accepted_until`
    /// may be (default 365).
    risk_acceptance_max_days: u16,
    /// An ANALYST's RISK_ACCEPTED is a request that an ADMIN approves or
    /// rejects (default false).
    risk_acceptance_approval: bool,
    /// Days to remediate by severity (`CRITICAL` … `INFO`), `null` for no
    /// due time; defaults 7, 30, 90, 180 and none.
    #[schema(value_type = Object)]
    sla_days: serde_json::Value,
    /// A record is due soon in the last this-many percent of its window…
    due_soon_percent: u8,
    /// …or in its last this-many days, whichever is longer.
    due_soon_days: u16,
    /// The team's version (the `ETag`), for `If-Match`.
    version: i64,
}

impl From<&Team> for TriagePolicyView {
    fn from(t: &Team) -> Self {
        Self {
            risk_acceptance_max_days: t.risk_acceptance_max_days,
            risk_acceptance_approval: t.risk_acceptance_approval,
            sla_days: crate::services::team::sla_json(&t.sla)["sla_days"].clone(),
            due_soon_percent: t.sla.due_soon_percent,
            due_soon_days: t.sla.due_soon_days,
            version: t.version,
        }
    }
}

#[utoipa::path(
    get, path = "/team/triage-policy", tag = "team",
    responses((status = 200, description = "The team's triage policy", body = TriagePolicyView,
               headers(("ETag" = String, description = "The team's version, for If-Match"))))
)]
pub async fn triage_policy(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
) -> Result<Response, ApiError> {
    principal.require(&state, &context, Action::ManageTeam).await?;
    let team = teams::get(state.db().conn(), principal.scope()).await?;
    Ok(with_etag(Json(TriagePolicyView::from(&team)), team.version))
}

/// The fields to change; the others stay.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct TriagePolicyChange {
    #[schema(minimum = 1, maximum = 3650)]
    risk_acceptance_max_days: Option<u16>,
    risk_acceptance_approval: Option<bool>,
    /// Days by severity, 1 to 3650, or `null` for no due time: `{"CRITICAL": 3}`.
    #[schema(value_type = Option<Object>)]
    sla_days: Option<serde_json::Value>,
    #[schema(minimum = 0, maximum = 100)]
    due_soon_percent: Option<u8>,
    #[schema(minimum = 0, maximum = 365)]
    due_soon_days: Option<u16>,
}

#[utoipa::path(
    patch, path = "/team/triage-policy", tag = "team",
    params(("If-Match" = Option<String>, Header, description = "The ETag read; a newer version answers 412")),
    request_body = TriagePolicyChange,
    responses((status = 200, description = "The policy as changed; a new SLA has recomputed the records' due times", body = TriagePolicyView))
)]
pub async fn change_triage_policy(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    let after = crate::services::team::set_triage_policy(&state, &principal, &context, &body, &if_match).await?;
    Ok(with_etag(Json(TriagePolicyView::from(&after)), after.version))
}

/// Days to keep each kind of row.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RetentionDays {
    /// `null`: kept for ever.
    audit_days: Option<u32>,
    sessions_days: Option<u32>,
    notifications_days: Option<u32>,
    alerts_days: Option<u32>,
    /// `null`: kept for ever.
    closed_findings_days: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RetentionView {
    /// The team's own choices: `null` takes the instance's default; 0 keeps
    /// the audit log or closed findings for ever.
    team: RetentionDays,
    /// What the daily purge applies.
    effective: RetentionDays,
    version: i64,
}

fn retention_view(
    (team, effective, version): (vulntrack_store::retention::TeamRetention, vulntrack_store::retention::Retention, i64),
) -> Response {
    let view = RetentionView {
        team: RetentionDays {
            audit_days: team.audit_days,
            sessions_days: team.sessions_days,
            notifications_days: team.notifications_days,
            alerts_days: team.alerts_days,
            closed_findings_days: team.closed_findings_days,
        },
        effective: RetentionDays {
            audit_days: effective.audit_days,
            sessions_days: Some(effective.sessions_days),
            notifications_days: Some(effective.notifications_days),
            alerts_days: Some(effective.alerts_days),
            closed_findings_days: effective.closed_findings_days,
        },
        version,
    };
    with_etag(Json(view), version)
}

#[utoipa::path(
    get, path = "/team/retention", tag = "team",
    responses((status = 200, description = "How long the team keeps audit rows, ended sessions and used links, read notifications, acknowledged alerts and closed findings", body = RetentionView))
)]
pub async fn retention(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
) -> Result<Response, ApiError> {
    Ok(retention_view(crate::services::retention::policy(&state, &principal, &context).await?))
}

/// The fields to change, each whole days or `null` for the instance's
/// default; the others stay.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct RetentionChange {
    /// At least 365, or 0 to keep for ever.
    #[schema(nullable)]
    audit_days: Option<u32>,
    #[schema(nullable, minimum = 1, maximum = 36500)]
    sessions_days: Option<u32>,
    #[schema(nullable, minimum = 1, maximum = 36500)]
    notifications_days: Option<u32>,
    #[schema(nullable, minimum = 1, maximum = 36500)]
    alerts_days: Option<u32>,
    /// 0 keeps them for ever.
    #[schema(nullable, maximum = 36500)]
    closed_findings_days: Option<u32>,
}

#[utoipa::path(
    patch, path = "/team/retention", tag = "team",
    params(("If-Match" = Option<String>, Header, description = "The ETag read; a newer version answers 412")),
    request_body = RetentionChange,
    responses((status = 200, description = "The changed retention", body = RetentionView))
)]
pub async fn change_retention(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    Ok(retention_view(crate::services::retention::set_policy(&state, &principal, &context, &body, &if_match).await?))
}

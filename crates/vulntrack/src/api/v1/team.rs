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

/// How the team triages: what its records' resolutions may be.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TriagePolicyView {
    /// How many days ahead a RISK_ACCEPTED record's `risk_accepted_until`
    /// may be (default 365).
    risk_acceptance_max_days: u16,
    /// The team's version (the `ETag`), for `If-Match`.
    version: i64,
}

impl From<&Team> for TriagePolicyView {
    fn from(t: &Team) -> Self {
        Self { risk_acceptance_max_days: t.risk_acceptance_max_days, version: t.version }
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriagePolicyChange {
    /// 1 to 3650.
    #[schema(minimum = 1, maximum = 3650)]
    risk_acceptance_max_days: i64,
}

#[utoipa::path(
    patch, path = "/team/triage-policy", tag = "team",
    params(("If-Match" = Option<String>, Header, description = "The ETag read; a newer version answers 412")),
    request_body = TriagePolicyChange,
    responses((status = 200, description = "The policy as changed", body = TriagePolicyView))
)]
pub async fn change_triage_policy(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    ApiJson(change): ApiJson<TriagePolicyChange>,
) -> Result<Response, ApiError> {
    let after = crate::services::team::set_risk_acceptance_max_days(
        &state,
        &principal,
        &context,
        change.risk_acceptance_max_days,
        &if_match,
    )
    .await?;
    Ok(with_etag(Json(TriagePolicyView::from(&after)), after.version))
}

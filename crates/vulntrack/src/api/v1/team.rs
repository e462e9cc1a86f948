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

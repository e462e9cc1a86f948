//! Security alerts for the team's administrators.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use vulntrack_domain::Action;
use vulntrack_store::security_alerts::{self, SecurityAlert};

use super::views::Listing;
use crate::http::path_id;
use crate::{
    app::AppState,
    auth::Principal,
    http::{ApiError, ClientContext},
};

const LIST_LIMIT: u64 = 200;

/// The team's own alerts, newest first (instance-wide ones are the
/// operator's: `vulntrack alerts list`).
#[utoipa::path(
    get, path = "/security/alerts", tag = "alerts",
    responses((status = 200, description = "The team's security alerts, newest first", body = Listing<SecurityAlert>))
)]
pub async fn list(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
) -> Result<Json<Listing<SecurityAlert>>, ApiError> {
    principal.require(&state, &context, Action::ViewAudit).await?;
    let items = security_alerts::list(state.db().conn(), principal.scope(), LIST_LIMIT).await?;
    Ok(Json(Listing { items }))
}

#[utoipa::path(
    post, path = "/security/alerts/{id}/ack", tag = "alerts",
    params(("id" = String, Path, description = "The alert's id")),
    responses((status = 204, description = "Acknowledged"))
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::services::alerts::acknowledge(&state, &principal, &context, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

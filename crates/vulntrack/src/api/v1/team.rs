//! The team itself (ADMIN).

use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use vulntrack_domain::{Action, TeamId, ValidationErrors, validation::not_blank};
use vulntrack_store::{
    StoreError,
    audit::{self, AuditEvent},
    teams::{self, Team},
};

use crate::{
    app::AppState,
    auth::Principal,
    http::{ApiError, ApiJson, ClientContext},
};

#[derive(Debug, Serialize)]
pub struct TeamView {
    id: TeamId,
    name: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Team> for TeamView {
    fn from(t: Team) -> Self {
        Self { id: t.id, name: t.name, created_at: t.created_at, updated_at: t.updated_at }
    }
}

pub async fn show(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
) -> Result<Json<TeamView>, ApiError> {
    principal.require(&state, &context, Action::ManageTeam).await?;
    Ok(Json(teams::get(state.db().conn(), principal.scope()).await?.into()))
}

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct TeamChange {
    #[garde(length(chars, min = 1, max = 100), custom(not_blank))]
    name: String,
}

pub async fn update(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiJson(mut change): ApiJson<TeamChange>,
) -> Result<Json<TeamView>, ApiError> {
    principal.require(&state, &context, Action::ManageTeam).await?;
    change.name = change.name.trim().to_string();
    change.validate().map_err(|report| ApiError::Validation(ValidationErrors::from_garde(&report)))?;
    let scope = principal.scope();
    let txn = state.db().begin().await?;
    let before = teams::get(&txn, scope).await?;
    let after = match teams::rename(&txn, scope, &change.name).await {
        Err(StoreError::Conflict { .. }) => {
            return Err(ApiError::field("name", "taken", "is already used by another team"));
        }
        other => other?,
    };
    if before.name != after.name {
        let event = AuditEvent::new(Some(after.id), principal.actor(), "TEAM_UPDATED", &context)
            .entity("team", after.id)
            .details(json!({ "name": { "before": before.name, "after": after.name } }));
        audit::append(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(Json(after.into()))
}

//! First-run setup: the first team and its administrator, once.

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use serde_json::json;
use vulntrack_domain::{AccountInput, Role};
use vulntrack_store::{
    StoreError,
    audit::{self, Actor, AuditEvent},
    instance, teams, users,
};

use super::views::UserView;
use crate::{
    app::AppState,
    http::{ApiError, ApiJson, ClientContext},
    services::accounts,
};

#[derive(Debug, Deserialize)]
pub struct SetupRequest {
    team_name: String,
    name: String,
    email: String,
    password: String,
}

const ALREADY_SET_UP: &str = "VulnTrack is already set up; sign in instead.";

pub async fn setup(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    ApiJson(request): ApiJson<SetupRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    if users::count_all(state.db().conn()).await? > 0 {
        return Err(ApiError::Conflict(ALREADY_SET_UP));
    }
    let account = AccountInput {
        team_name: request.team_name,
        email: request.email,
        name: request.name,
        role: Role::Admin,
        password: request.password,
    }
    .validate_all()
    .map_err(ApiError::Validation)?;
    let password_hash = accounts::hash_password(state.hasher(), &account).await?;

    let txn = state.db().begin().await?;
    // The marker row makes a concurrent second setup fail here; the count
    // inside the transaction also catches users made by the CLI meanwhile.
    match instance::mark_setup_done(&txn).await {
        Err(StoreError::Conflict { .. }) => return Err(ApiError::Conflict(ALREADY_SET_UP)),
        other => other?,
    }
    if users::count_all(&txn).await? > 0 {
        return Err(ApiError::Conflict(ALREADY_SET_UP));
    }
    let team = teams::create(&txn, &account.team_name).await?;
    let user = accounts::insert_user(&txn, team.scope(), &account, &password_hash).await?;
    let actor = Actor::User { id: user.id, email: user.email.clone() };
    audit::append(
        &txn,
        AuditEvent::new(Some(team.id), actor, "SETUP_COMPLETED", &context)
            .entity("user", user.id)
            .details(json!({ "team_name": team.name, "role": user.role })),
    )
    .await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(UserView::new(user, team.name))))
}

//! First-run setup: the first team and its administrator, once.

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;

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

pub async fn setup(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    ApiJson(request): ApiJson<SetupRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let (team, user) =
        accounts::first_run_setup(&state, &context, request.team_name, request.name, request.email, request.password)
            .await?;
    Ok((StatusCode::CREATED, Json(UserView::new(user, team.name))))
}

//! First-run setup: the first team and its administrator, once.

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;

use super::views::UserView;
use crate::http::error::Problem;
use crate::{
    app::AppState,
    http::{ApiError, ApiJson, ClientContext},
    services::accounts,
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SetupRequest {
    team_name: String,
    name: String,
    email: String,
    password: String,
}

#[utoipa::path(
    post, path = "/setup", tag = "auth", security(()),
    request_body = SetupRequest,
    responses((status = 201, description = "The first team and its ADMIN", body = UserView),
              (status = 409, description = "Already set up", body = Problem, content_type = "application/problem+json"))
)]
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

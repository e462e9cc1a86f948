//! `POST /api/v1/register`: an adapter over the registration service.

use axum::{Json, extract::State, http::StatusCode, response::Response};
use serde::Deserialize;

use crate::http::error::Problem;

use super::views::{UserEnvelope, UserView};
use crate::{
    app::AppState,
    http::{ApiError, ApiJson, ClientContext},
    ratelimit::{self, budgets},
    services::registration::{self, Registering},
};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegisterRequest {
    token: Option<String>,
    name: String,
    password: String,
    /// Open registration only: the invited email is used otherwise.
    email: Option<String>,
    /// Open registration only: the new team's name.
    team_name: Option<String>,
}

#[utoipa::path(
    post, path = "/auth/register", tag = "auth", security(()),
    request_body = RegisterRequest,
    responses((status = 201, description = "The account", body = UserEnvelope),
              (status = 403, description = "Registration is by invitation only and no valid invitation was sent",
               body = Problem, content_type = "application/problem+json"))
)]
pub async fn register(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Response {
    let checks = [budgets::accounts_and_resets(&state, &context)];
    let input = Registering {
        token: request.token,
        name: request.name,
        password: request.password,
        email: request.email,
        team_name: request.team_name,
    };
    let work = async {
        let (team, user) = registration::register(&state, &context, input).await?;
        Ok::<_, ApiError>((StatusCode::CREATED, Json(UserEnvelope { user: UserView::new(user, team.name) })))
    };
    ratelimit::enforce(state.rate_limiter(), &checks, work).await
}

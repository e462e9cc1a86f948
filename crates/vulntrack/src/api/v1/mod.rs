//! `/api/v1`: the routes and the JSON shapes they speak.

mod invitations;
mod me;
mod password_reset;
mod registration;
mod session_auth;
mod setup;
mod tokens;
mod users;
mod views;

use axum::{
    Router,
    routing::{delete, get, patch, post},
};

use crate::{accounts::AccountError, app::AppState, http::ApiError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/setup", post(setup::setup))
        .route("/auth/login", post(session_auth::login))
        .route("/auth/logout", post(session_auth::logout))
        .route("/auth/logout-all", post(session_auth::logout_all))
        .route("/auth/register", post(registration::register))
        .route("/auth/password-reset", post(password_reset::request))
        .route(
            "/auth/password-reset/confirm",
            post(password_reset::confirm),
        )
        .route("/me", get(me::show).patch(me::update))
        .route("/me/password", post(me::change_password))
        .route("/me/sessions", get(me::sessions))
        .route("/me/sessions/{id}", delete(me::revoke_session))
        .route(
            "/invitations",
            post(invitations::create).get(invitations::list),
        )
        .route("/invitations/{id}", delete(invitations::delete))
        .route("/tokens", post(tokens::create).get(tokens::list))
        .route("/tokens/{id}", delete(tokens::revoke))
        .route("/users", get(users::list))
        .route("/users/{id}", patch(users::update))
        .route("/users/{id}/unlock", post(users::unlock))
        .route(
            "/users/{id}/password-reset",
            post(password_reset::admin_link),
        )
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Invalid(errors) => ApiError::Validation(errors),
            AccountError::Store(error) => error.into(),
            AccountError::Hash(error) => error.into(),
        }
    }
}

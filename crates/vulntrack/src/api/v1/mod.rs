//! `/api/v1`: the routes and the JSON shapes they speak.

pub(crate) mod audit_log;
mod comments;
pub(crate) mod invitations;
pub(crate) mod me;
pub(crate) mod notifications;
pub(crate) mod password_reset;
pub(crate) mod registration;
pub(crate) mod security_alerts;
pub(crate) mod session_auth;
mod setup;
pub(crate) mod team;
pub(crate) mod tokens;
pub(crate) mod users;
pub(crate) mod views;
pub(crate) mod vulnerabilities;

use axum::{
    Router,
    routing::{delete, get, patch, post},
};

use crate::{app::AppState, http::ApiError, services::accounts::AccountError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/setup", post(setup::setup))
        .route("/auth/login", post(session_auth::login))
        .route("/auth/logout", post(session_auth::logout))
        .route("/auth/logout-all", post(session_auth::logout_all))
        .route("/auth/register", post(registration::register))
        .route("/auth/password-reset", post(password_reset::request))
        .route("/auth/password-reset/confirm", post(password_reset::confirm))
        .route("/me", get(me::show).patch(me::update))
        .route("/me/password", post(me::change_password))
        .route("/me/sessions", get(me::sessions))
        .route("/me/sessions/{id}", delete(me::revoke_session))
        .route("/invitations", post(invitations::create).get(invitations::list))
        .route("/invitations/{id}", delete(invitations::delete))
        .route("/tokens", post(tokens::create).get(tokens::list))
        .route("/tokens/{id}", delete(tokens::revoke))
        .route("/users", get(users::list))
        .route("/users/{id}", patch(users::update).delete(users::delete))
        .route("/users/{id}/unlock", post(users::unlock))
        .route("/users/{id}/tokens", get(users::list_tokens))
        .route("/users/{id}/tokens/{token_id}", delete(users::revoke_token))
        .route("/users/{id}/password-reset", post(password_reset::admin_link))
        .route("/team", get(team::show).patch(team::update))
        .route("/vulnerabilities", get(vulnerabilities::list).post(vulnerabilities::create))
        .route("/vulnerabilities/stats", get(vulnerabilities::stats))
        .route(
            "/vulnerabilities/{id}",
            get(vulnerabilities::show).patch(vulnerabilities::update).delete(vulnerabilities::delete),
        )
        .route("/vulnerabilities/{id}/comments", get(comments::list).post(comments::create))
        .route("/comments/{id}", patch(comments::update).delete(comments::delete))
        .route("/audit-logs", get(audit_log::list))
        .route("/audit-logs/export", get(audit_log::export))
        .route("/security/alerts", get(security_alerts::list))
        .route("/security/alerts/{id}/ack", post(security_alerts::acknowledge))
        .route("/notifications", get(notifications::list))
        .route("/notifications/read-all", post(notifications::mark_all_read))
        .route("/notifications/{id}/read", post(notifications::mark_read))
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        crate::services::ServiceError::from(error).into()
    }
}

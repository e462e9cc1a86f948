//! `/api/v1`: the routes and the JSON shapes they speak.

pub(crate) mod assets;
pub(crate) mod audit_log;
mod comments;
pub(crate) mod cves;
pub(crate) mod imports;
pub(crate) mod invitations;
pub(crate) mod me;
pub(crate) mod notifications;
pub(crate) mod password_reset;
pub(crate) mod registration;
pub(crate) mod risk_acceptances;
mod saved_views;
pub(crate) mod security_alerts;
pub(crate) mod session_auth;
mod setup;
pub(crate) mod team;
pub(crate) mod tokens;
pub(crate) mod users;
pub(crate) mod views;
pub(crate) mod vulnerabilities;
mod vulnerability_export;
pub(crate) mod webhooks;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{app::AppState, http::ApiError, services::accounts::AccountError};

/// Every `/api/v1` route, each registered from its handler's
/// `#[utoipa::path]` so the route and its document entry cannot part
/// (`routes!` takes only documented handlers; the drift test refuses
/// undocumented route registration).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(setup::setup))
        .routes(routes!(session_auth::login))
        .routes(routes!(session_auth::logout))
        .routes(routes!(session_auth::logout_all))
        .routes(routes!(registration::register))
        .routes(routes!(password_reset::request))
        .routes(routes!(password_reset::confirm))
        .routes(routes!(me::show, me::update, me::delete_account))
        .routes(routes!(me::change_password))
        .routes(routes!(me::notification_preferences, me::change_notification_preferences))
        .routes(routes!(me::sessions))
        .routes(routes!(me::export))
        .routes(routes!(me::revoke_session))
        .routes(routes!(invitations::create, invitations::list))
        .routes(routes!(invitations::delete))
        .routes(routes!(tokens::create, tokens::list))
        .routes(routes!(tokens::revoke))
        .routes(routes!(users::list))
        .routes(routes!(users::update, users::delete))
        .routes(routes!(users::unlock))
        .routes(routes!(users::list_tokens))
        .routes(routes!(users::revoke_token))
        .routes(routes!(password_reset::admin_link))
        .routes(routes!(team::show, team::update))
        .routes(routes!(team::triage_policy, team::change_triage_policy))
        .routes(routes!(team::retention, team::change_retention))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::delete))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(vulnerabilities::list, vulnerabilities::create))
        .routes(routes!(vulnerabilities::stats))
        .routes(routes!(vulnerability_export::export))
        .routes(routes!(vulnerabilities::bulk))
        .routes(routes!(risk_acceptances::list))
        .routes(routes!(risk_acceptances::approve))
        .routes(routes!(risk_acceptances::reject))
        .routes(routes!(assets::list, assets::create))
        .routes(routes!(assets::show, assets::update, assets::delete))
        .routes(with_layer(routes!(imports::create, imports::list), imports::upload_limit()))
        .routes(routes!(imports::show))
        .routes(routes!(cves::search))
        .routes(routes!(cves::show))
        .routes(routes!(saved_views::list, saved_views::create))
        .routes(routes!(saved_views::delete))
        .routes(routes!(vulnerabilities::show, vulnerabilities::update, vulnerabilities::delete))
        .routes(routes!(comments::list, comments::create))
        .routes(routes!(comments::update, comments::delete))
        .routes(routes!(audit_log::list))
        .routes(routes!(audit_log::export))
        .routes(routes!(security_alerts::list))
        .routes(routes!(security_alerts::acknowledge))
        .routes(routes!(notifications::list))
        .routes(routes!(notifications::mark_all_read))
        .routes(routes!(notifications::mark_read))
}
/// A route's handlers with a layer of their own (the upload's body limit).
fn with_layer<L>(
    (schemas, paths, method_router): utoipa_axum::router::UtoipaMethodRouter<AppState>,
    layer: L,
) -> utoipa_axum::router::UtoipaMethodRouter<AppState>
where
    L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
    L::Service: tower::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
    <L::Service as tower::Service<axum::extract::Request>>::Response: axum::response::IntoResponse + 'static,
    <L::Service as tower::Service<axum::extract::Request>>::Error: Into<std::convert::Infallible> + 'static,
    <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
{
    (schemas, paths, method_router.layer(layer))
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        crate::services::ServiceError::from(error).into()
    }
}

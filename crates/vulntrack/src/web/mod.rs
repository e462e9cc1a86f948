//! The web UI: server-rendered pages (askama, auto-escaped) that post to
//! the same services as the JSON API. Every page works without JavaScript;
//! scripts and styles come from `/static` only, as the CSP requires.

mod account_pages;
mod admin_pages;
mod asset_pages;
pub(crate) mod auth_pages;
mod dashboard;
pub(crate) mod flash;
mod format;
mod import_pages;
mod markdown;
mod oversight_pages;
pub mod page;
mod settings_page;
mod triage_page;
mod vulnerabilities;

use axum::{
    Router,
    routing::{get, post},
};

use crate::app::AppState;

pub use page::{Nav, WebUser};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/login", get(auth_pages::login_page).post(auth_pages::login))
        .route("/setup", get(auth_pages::setup_page).post(auth_pages::setup))
        .route("/logout", post(auth_pages::logout))
        .route("/forgot-password", get(auth_pages::forgot_page).post(auth_pages::forgot))
        .route("/reset-password", get(auth_pages::reset_page).post(auth_pages::reset))
        .route("/vulnerabilities", get(vulnerabilities::list).post(vulnerabilities::create))
        .route("/vulnerabilities/new", get(vulnerabilities::new_form))
        .route("/vulnerabilities/new/cve", get(vulnerabilities::cve_prefill))
        .route("/vulnerabilities/bulk", post(vulnerabilities::bulk))
        .route("/triage", get(triage_page::triage))
        .route("/triage/{id}", post(triage_page::act))
        .route("/vulnerabilities/views", post(vulnerabilities::save_view))
        .route("/vulnerabilities/views/{id}/delete", post(vulnerabilities::delete_view))
        .route("/vulnerabilities/{id}", get(vulnerabilities::detail))
        .route("/vulnerabilities/{id}/comments", post(vulnerabilities::comment))
        .route("/vulnerabilities/{id}/comments/{comment_id}/edit", post(vulnerabilities::edit_comment))
        .route("/vulnerabilities/{id}/comments/{comment_id}/delete", post(vulnerabilities::delete_comment))
        .route("/vulnerabilities/{id}/status", post(vulnerabilities::change_status))
        .route("/vulnerabilities/{id}/assignee", post(vulnerabilities::change_assignee))
        .route("/risk-acceptances/{id}/approve", post(vulnerabilities::approve_acceptance))
        .route("/risk-acceptances/{id}/reject", post(vulnerabilities::reject_acceptance))
        .route("/vulnerabilities/{id}/edit", get(vulnerabilities::edit_form).post(vulnerabilities::update))
        .route("/vulnerabilities/{id}/delete", post(vulnerabilities::delete))
        .route("/assets", get(asset_pages::list).post(asset_pages::create))
        .route("/assets/{id}", get(asset_pages::detail))
        .route("/assets/{id}/edit", post(asset_pages::update))
        .route("/assets/{id}/delete", post(asset_pages::delete))
        .route(
            "/imports",
            get(import_pages::list)
                .post(import_pages::create)
                // The upload is held to VULNTRACK_IMPORT_MAX_BYTES while it is read.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/imports/{id}", get(import_pages::detail))
        .route("/notifications", get(account_pages::notifications_page))
        .route("/notifications/read-all", post(account_pages::mark_all_read))
        .route("/notifications/{id}/read", post(account_pages::mark_read))
        .route("/account", get(account_pages::account))
        .route("/account/profile", post(account_pages::save_profile))
        .route("/account/appearance", post(account_pages::save_appearance))
        .route("/account/notifications", post(account_pages::save_notifications))
        .route("/account/password", post(account_pages::change_password))
        .route("/account/delete", post(account_pages::delete_account))
        .route("/account/sessions/revoke-all", post(account_pages::revoke_all_sessions))
        .route("/account/sessions/{id}/revoke", post(account_pages::revoke_session))
        .route("/account/tokens", post(account_pages::create_token))
        .route("/account/tokens/{id}/revoke", post(account_pages::revoke_token))
        .route("/admin/users", get(admin_pages::users))
        .route("/admin/users/{id}", post(admin_pages::update_member))
        .route("/admin/users/{id}/unlock", post(admin_pages::unlock_member))
        .route("/admin/users/{id}/reset-link", post(admin_pages::reset_link))
        .route("/admin/users/{id}/delete", post(admin_pages::delete_member))
        .route("/admin/users/{id}/tokens/{token_id}/revoke", post(admin_pages::revoke_member_token))
        .route("/admin/invitations", post(admin_pages::invite))
        .route("/admin/invitations/{id}/delete", post(admin_pages::withdraw_invitation))
        .route("/invite", get(admin_pages::invite_landing).post(admin_pages::accept))
        .route("/admin/audit", get(oversight_pages::audit_log))
        .route("/admin/alerts", get(oversight_pages::alerts))
        .route("/admin/alerts/{id}/ack", post(oversight_pages::acknowledge))
        .route("/admin/settings", get(settings_page::settings).post(settings_page::save))
        .route("/admin/webhooks", post(settings_page::create_webhook))
        .route("/admin/webhooks/{id}/delete", post(settings_page::delete_webhook))
        .route("/static/app.css", get(crate::http::static_files::stylesheet))
        .route("/static/app.js", get(crate::http::static_files::script))
        .route("/static/favicon.svg", get(crate::http::static_files::favicon))
        .layer(axum::middleware::from_fn(flash::clear_shown))
}

//! The web UI: server-rendered pages (askama, auto-escaped) that post to
//! the same services as the JSON API. Every page works without JavaScript;
//! scripts and styles come from `/static` only, as the CSP requires.

mod auth_pages;
mod dashboard;
mod markdown;
mod page;
mod vulnerability_pages;

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
        .route("/vulnerabilities", get(vulnerability_pages::list).post(vulnerability_pages::create))
        .route("/vulnerabilities/new", get(vulnerability_pages::new_form))
        .route("/vulnerabilities/{id}", get(vulnerability_pages::detail))
        .route("/vulnerabilities/{id}/comments", post(vulnerability_pages::comment))
        .route("/vulnerabilities/{id}/status", post(vulnerability_pages::change_status))
        .route("/vulnerabilities/{id}/edit", get(vulnerability_pages::edit_form).post(vulnerability_pages::update))
        .route("/vulnerabilities/{id}/delete", post(vulnerability_pages::delete))
        .route("/static/app.css", get(crate::http::static_files::stylesheet))
        .route("/static/app.js", get(crate::http::static_files::script))
        .route("/static/favicon.svg", get(crate::http::static_files::favicon))
}

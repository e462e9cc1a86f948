//! Notifications and the account page. Writes go through the JSON API's
//! own handlers, so the pages cannot drift from the API's rules.

use crate::http::versioning::IfMatch;
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::CookieJar;
use chrono::Utc;
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;
use vulntrack_store::{api_tokens, notifications, sessions, users};

use super::page::{Nav, WebUser, page_error};
use crate::{
    app::AppState,
    http::{ApiError, ApiJson, ClientContext},
};

/// Builds an API request body from form values.
pub fn api_body<T: DeserializeOwned>(value: Value) -> Result<ApiJson<T>, ApiError> {
    serde_json::from_value(value).map(ApiJson).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// A form error as sentences for the page.
pub fn messages(error: &ApiError) -> Vec<String> {
    match error {
        ApiError::Validation(errors) => {
            errors.iter().map(|e| format!("{}: {}", e.field.replace('_', " "), e.message)).collect()
        }
        ApiError::Forbidden(message) | ApiError::Conflict(message) => vec![(*message).to_string()],
        ApiError::BadRequest(message) => vec![message.clone()],
        _ => vec!["That did not work; please try again.".to_string()],
    }
}

fn when(time: chrono::DateTime<Utc>) -> (String, String) {
    (time.format("%Y-%m-%d %H:%M UTC").to_string(), time.to_rfc3339())
}

pub struct NotificationItem {
    id: String,
    message: String,
    link: Option<String>,
    read: bool,
    when: String,
    iso: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    nav: Option<Nav>,
    items: Vec<NotificationItem>,
    unread: u64,
}

pub async fn notifications_page(State(state): State<AppState>, user: WebUser) -> Response {
    let scope = user.principal.scope();
    match notifications::list(state.db().conn(), scope, user.principal.user.id, false, 200).await {
        Ok(found) => NotificationsPage {
            unread: user.nav.unread,
            nav: Some(user.nav.clone()),
            items: found
                .into_iter()
                .map(|n| {
                    let (when, iso) = when(n.created_at);
                    NotificationItem {
                        id: n.id.to_string(),
                        link: n.vulnerability_id.map(|v| format!("/vulnerabilities/{v}")),
                        read: n.read_at.is_some(),
                        message: n.message,
                        when,
                        iso,
                    }
                })
                .collect(),
        }
        .into_response(),
        Err(error) => page_error(error.into()),
    }
}

pub async fn mark_read(State(state): State<AppState>, user: WebUser, Path(id): Path<String>) -> Response {
    let Ok(id) = uuid::Uuid::parse_str(&id) else { return page_error(ApiError::NotFound) };
    match notifications::mark_read(state.db().conn(), user.principal.scope(), user.principal.user.id, id).await {
        Ok(true) => Redirect::to("/notifications").into_response(),
        Ok(false) => page_error(ApiError::NotFound),
        Err(error) => page_error(error.into()),
    }
}

pub async fn mark_all_read(State(state): State<AppState>, user: WebUser) -> Response {
    match notifications::mark_all_read(state.db().conn(), user.principal.scope(), user.principal.user.id).await {
        Ok(_) => Redirect::to("/notifications").into_response(),
        Err(error) => page_error(error.into()),
    }
}

#[derive(Default)]
pub struct Profile {
    name: String,
    job_title: String,
    department: String,
    phone: String,
    bio: String,
}

pub struct SessionRow {
    id: String,
    created: String,
    last_seen: String,
    from: String,
    current: bool,
}

pub struct TokenRow {
    id: String,
    name: String,
    prefix: String,
    expires: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    nav: Option<Nav>,
    profile: Profile,
    sessions: Vec<SessionRow>,
    tokens: Vec<TokenRow>,
    notice: Option<String>,
    errors: Vec<String>,
    new_token: Option<String>,
    /// The longest token lifetime the operator allows, in days.
    token_max_days: u64,
}

async fn account_page(
    state: &AppState,
    user: &WebUser,
    notice: Option<String>,
    errors: Vec<String>,
    new_token: Option<String>,
) -> Response {
    let db = state.db().conn();
    let scope = user.principal.scope();
    let me = user.principal.user.id;
    let now = Utc::now();
    let (account, live, tokens) = match (
        users::get(db, scope, me).await,
        sessions::list_live(db, scope, me, now).await,
        api_tokens::list_live(db, scope, me, now).await,
    ) {
        (Ok(a), Ok(s), Ok(t)) => (a, s, t),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return page_error(e.into()),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = AccountPage {
        token_max_days: state.config().token_max_ttl.as_secs() / 86_400,
        nav: Some(user.nav.clone()),
        profile: Profile {
            name: account.name,
            job_title: account.job_title.unwrap_or_default(),
            department: account.department.unwrap_or_default(),
            phone: account.phone.unwrap_or_default(),
            bio: account.bio.unwrap_or_default(),
        },
        sessions: live
            .into_iter()
            .map(|s| SessionRow {
                current: Some(s.id) == user.principal.session_id(),
                id: s.id.to_string(),
                created: when(s.created_at).0,
                last_seen: when(s.last_seen_at).0,
                from: [s.ip, s.user_agent.map(|ua| ua.chars().take(60).collect())]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · "),
            })
            .collect(),
        tokens: tokens
            .into_iter()
            .map(|t| TokenRow {
                id: t.id.to_string(),
                name: t.name,
                prefix: t.prefix,
                expires: t.expires_at.map_or_else(|| "never".into(), |e| e.format("%Y-%m-%d").to_string()),
            })
            .collect(),
        notice,
        errors,
        new_token,
    };
    (status, page).into_response()
}

pub async fn account(State(state): State<AppState>, user: WebUser) -> Response {
    account_page(&state, &user, None, Vec::new(), None).await
}

async fn after(state: &AppState, user: &WebUser, outcome: Result<(), ApiError>, done: &str) -> Response {
    match outcome {
        Ok(()) => account_page(state, user, Some(done.to_string()), Vec::new(), None).await,
        Err(ApiError::NotFound) => page_error(ApiError::NotFound),
        Err(error @ (ApiError::Internal(_) | ApiError::Storage(_))) => page_error(error),
        Err(error) => account_page(state, user, None, messages(&error), None).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    name: String,
    #[serde(default)]
    job_title: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    bio: String,
}

pub async fn save_profile(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Form(form): Form<ProfileForm>,
) -> Response {
    let change = crate::services::profile::ProfileChange {
        name: Some(form.name),
        phone: Some(form.phone),
        job_title: Some(form.job_title),
        department: Some(form.department),
        bio: Some(form.bio),
        is_onboarded: None,
    };
    let outcome =
        crate::services::profile::update(&state, &user.principal, &context, change, &IfMatch::Absent).await.map(|_| ());
    after(&state, &user, outcome, "Profile saved.").await
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Form(form): Form<PasswordForm>,
) -> Response {
    let outcome = crate::services::credentials::change_password(
        &state,
        &user.principal,
        &context,
        form.current_password,
        form.new_password,
    )
    .await
    .map(|_| ());
    after(&state, &user, outcome, "Password changed; your other sessions, API tokens and reset links have ended.").await
}

pub async fn revoke_session(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Response {
    let outcome = async {
        let id = crate::api::v1::views::path_id(&id)?;
        crate::services::credentials::revoke_own_session(&state, &user.principal, &context, id).await
    }
    .await;
    after(&state, &user, outcome, "Session signed out.").await
}

#[derive(Debug, Default, Deserialize)]
pub struct SignOutEverywhereForm {
    /// The "also revoke my API tokens" box.
    #[serde(default)]
    revoke_tokens: Option<String>,
}

pub async fn revoke_all_sessions(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    jar: CookieJar,
    Form(form): Form<SignOutEverywhereForm>,
) -> Response {
    let revoke_tokens = form.revoke_tokens.is_some();
    match crate::services::sessions::sign_out_everywhere(&state, &context, &user.principal, revoke_tokens).await {
        Ok(_) => (jar.add(crate::auth::cookie::clear(state.config().is_production())), Redirect::to("/login"))
            .into_response(),
        Err(error) => page_error(error),
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    name: String,
    #[serde(default)]
    expires_in_days: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Form(form): Form<TokenForm>,
) -> Response {
    let days = form.expires_in_days.trim();
    let expires_in_days = match days {
        "" => None,
        days => match days.parse::<i64>() {
            Ok(days) => Some(days),
            Err(_) => {
                let message = "expires in days: must be a whole number of days".to_string();
                return account_page(&state, &user, None, vec![message], None).await;
            }
        },
    };
    match crate::services::tokens::create_own(&state, &user.principal, &context, &form.name, expires_in_days).await {
        Ok(created) => account_page(&state, &user, None, Vec::new(), Some(created.secret)).await,
        Err(error) => after(&state, &user, Err(error), "").await,
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Response {
    let outcome = async {
        let id = crate::api::v1::views::path_id(&id)?;
        crate::services::tokens::revoke_own(&state, &user.principal, &context, id).await
    }
    .await;
    after(&state, &user, outcome, "Token revoked.").await
}

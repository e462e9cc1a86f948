//! Notifications and the account page: adapters over the profile,
//! credentials, sessions and tokens services.

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
use serde::Deserialize;
use vulntrack_domain::{FieldError, Theme, ValidationErrors};
use vulntrack_store::{api_tokens, notifications, sessions, users};

use super::{
    format::filters,
    page::{Choice, Nav, PageError, WebUser, form_messages},
};
use crate::{
    app::AppState,
    http::{ClientContext, path_id},
    services::ServiceError,
};

pub struct NotificationItem {
    id: String,
    message: String,
    link: Option<String>,
    read: bool,
    at: chrono::DateTime<Utc>,
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    nav: Option<Nav>,
    items: Vec<NotificationItem>,
    unread: u64,
}

pub async fn notifications_page(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    let scope = user.principal.scope();
    let found = notifications::list(state.db().conn(), scope, user.principal.user.id, false, 200).await?;
    Ok(NotificationsPage {
        unread: user.nav.unread,
        nav: Some(user.nav.clone()),
        items: found
            .into_iter()
            .map(|n| NotificationItem {
                id: n.id.to_string(),
                link: n.vulnerability_id.map(|v| format!("/vulnerabilities/{v}")),
                read: n.read_at.is_some(),
                message: n.message,
                at: n.created_at,
            })
            .collect(),
    }
    .into_response())
}

pub async fn mark_read(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = path_id(&id)?;
    if notifications::mark_read(state.db().conn(), user.principal.scope(), user.principal.user.id, id).await? {
        Ok(Redirect::to("/notifications").into_response())
    } else {
        Err(ServiceError::NotFound.into())
    }
}

pub async fn mark_all_read(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    notifications::mark_all_read(state.db().conn(), user.principal.scope(), user.principal.user.id).await?;
    Ok(Redirect::to("/notifications").into_response())
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
    created: chrono::DateTime<Utc>,
    last_seen: chrono::DateTime<Utc>,
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
    /// The user's theme, as its wire value (`SYSTEM`, `LIGHT`, `DARK`).
    theme: &'static str,
    /// Every zone to choose from, the user's marked.
    zones: Vec<Choice>,
    zone_chosen: bool,
    /// Each kind of notification with where it goes now.
    notification_kinds: Vec<NotificationKind>,
    digest: bool,
}

pub struct NotificationKind {
    name: &'static str,
    label: &'static str,
    /// `in_app`, `email` or `off`.
    delivery: &'static str,
}

async fn account_page(
    state: &AppState,
    user: &WebUser,
    notice: Option<String>,
    errors: Vec<String>,
    new_token: Option<String>,
) -> Result<Response, PageError> {
    let db = state.db().conn();
    let scope = user.principal.scope();
    let me = user.principal.user.id;
    let now = Utc::now();
    let account = users::get(db, scope, me).await?;
    let live = sessions::list_live(db, scope, me, now).await?;
    let tokens = api_tokens::list_live(db, scope, me, now).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let chosen_zone = account.time_zone.clone().unwrap_or_default();
    let prefs = crate::services::notification_prefs::get(state, &user.principal).await?;
    let page = AccountPage {
        notification_kinds: vulntrack_domain::notification_prefs::KINDS
            .iter()
            .map(|(name, label, _)| NotificationKind { name, label, delivery: prefs.delivery(name).as_str() })
            .collect(),
        digest: prefs.digest,
        zone_chosen: !chosen_zone.is_empty(),
        zones: vulntrack_domain::time_zone::names()
            .map(|name| Choice {
                value: name.to_string(),
                label: name.replace('_', " "),
                selected: name == chosen_zone,
            })
            .collect(),
        token_max_days: state.config().token_max_ttl.as_secs() / 86_400,
        theme: user.nav.theme.as_str(),
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
                created: s.created_at,
                last_seen: s.last_seen_at,
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
    Ok((status, page).into_response())
}

pub async fn account(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    account_page(&state, &user, None, Vec::new(), None).await
}

/// The account page after a change: its notice, or the reasons it was refused.
async fn after(
    state: &AppState,
    user: &WebUser,
    outcome: Result<(), PageError>,
    done: &str,
) -> Result<Response, PageError> {
    match outcome {
        Ok(()) => account_page(state, user, Some(done.to_string()), Vec::new(), None).await,
        Err(PageError::Service(error)) => account_page(state, user, None, form_messages(error)?, None).await,
        Err(error) => Err(error),
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
) -> Result<Response, PageError> {
    let change = crate::services::profile::ProfileChange {
        name: Some(form.name),
        phone: Some(form.phone),
        job_title: Some(form.job_title),
        department: Some(form.department),
        bio: Some(form.bio),
        is_onboarded: None,
        theme: None,
        time_zone: None,
    };
    let outcome = crate::services::profile::update(&state, &user.principal, &context, change, &IfMatch::Absent)
        .await
        .map(|_| ())
        .map_err(PageError::from);
    after(&state, &user, outcome, "Profile saved.").await
}

#[derive(Debug, Deserialize)]
pub struct AppearanceForm {
    theme: String,
    /// An IANA zone, or empty for the browser's.
    #[serde(default)]
    time_zone: String,
}

/// The colours of this user's pages: a profile change like any other
/// (validated, audited), shown at once on the page it returns.
pub async fn save_appearance(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    mut user: WebUser,
    Form(form): Form<AppearanceForm>,
) -> Result<Response, PageError> {
    let Ok(theme) = form.theme.parse::<Theme>() else {
        let error = FieldError::new("theme", "one_of", "Choose system, light or dark.");
        return after(&state, &user, Err(ServiceError::Invalid(ValidationErrors(vec![error])).into()), "").await;
    };
    let change = crate::services::profile::ProfileChange {
        name: None,
        phone: None,
        job_title: None,
        department: None,
        bio: None,
        is_onboarded: None,
        theme: Some(theme),
        time_zone: Some(form.time_zone),
    };
    let outcome = crate::services::profile::update(&state, &user.principal, &context, change, &IfMatch::Absent)
        .await
        .map(|saved| {
            user.nav.theme = saved.theme;
            user.nav.zone = super::format::Zone::named(saved.time_zone.as_deref());
        })
        .map_err(PageError::from);
    after(&state, &user, outcome, "Appearance saved.").await
}

/// Where each kind of notification goes, and the digest: every kind's
/// choice is in the form (`kind.ASSIGNED=email`); an unticked digest box
/// sends nothing.
pub async fn save_notifications(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let kinds: serde_json::Map<String, serde_json::Value> = pairs
        .iter()
        .filter_map(|(name, value)| Some((name.strip_prefix("kind.")?.to_owned(), serde_json::json!(value))))
        .collect();
    let digest = pairs.iter().any(|(name, _)| name == "digest");
    let body = serde_json::json!({ "kinds": kinds, "digest": digest });
    let outcome = crate::services::notification_prefs::set(&state, &user.principal, &context, &body)
        .await
        .map(|_| ())
        .map_err(PageError::from);
    after(&state, &user, outcome, "Notification choices saved.").await
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
) -> Result<Response, PageError> {
    let outcome = crate::services::credentials::change_password(
        &state,
        &user.principal,
        &context,
        form.current_password,
        form.new_password,
    )
    .await
    .map(|_| ())
    .map_err(PageError::from);
    after(&state, &user, outcome, "Password changed; your other sessions, API tokens and reset links have ended.").await
}

#[derive(Debug, Deserialize)]
pub struct DeleteAccountForm {
    password: String,
}

/// Deletes the signed-in member's own account (their personal data is
/// erased) and signs them out.
pub async fn delete_account(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    jar: CookieJar,
    Form(form): Form<DeleteAccountForm>,
) -> Result<Response, PageError> {
    match crate::services::members::delete_own_account(&state, &user.principal, &context, form.password).await {
        Ok(()) => Ok((jar.add(crate::auth::cookie::clear(state.config().is_production())), Redirect::to("/login"))
            .into_response()),
        Err(error) => account_page(&state, &user, None, form_messages(error)?, None).await,
    }
}

pub async fn revoke_session(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = path_id(&id)?;
    let outcome = crate::services::credentials::revoke_own_session(&state, &user.principal, &context, id)
        .await
        .map_err(Into::into);
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
) -> Result<Response, PageError> {
    let revoke_tokens = form.revoke_tokens.is_some();
    crate::services::sessions::sign_out_everywhere(&state, &context, &user.principal, revoke_tokens).await?;
    Ok((jar.add(crate::auth::cookie::clear(state.config().is_production())), Redirect::to("/login")).into_response())
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
) -> Result<Response, PageError> {
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
        Err(error) => after(&state, &user, Err(error.into()), "").await,
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = path_id(&id)?;
    let outcome = crate::services::tokens::revoke_own(&state, &user.principal, &context, id).await.map_err(Into::into);
    after(&state, &user, outcome, "Token revoked.").await
}

//! The signed-in user's own account: profile, password, sessions.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vulntrack_store::sessions;

use super::views::{Listing, UserView};
use crate::http::path_id;
use crate::services::profile::ProfileChange;
use crate::{
    app::AppState,
    auth::Principal,
    http::{
        ApiError, ApiJson, ClientContext,
        versioning::{IfMatch, with_etag},
    },
};

#[utoipa::path(
    get, path = "/me", tag = "account",
    responses((status = 200, description = "The signed-in account", body = UserView,
               headers(("ETag" = String, description = "The account's version, for If-Match"))))
)]
pub async fn show(State(state): State<AppState>, principal: Principal) -> Result<Response, ApiError> {
    let version = principal.user.version;
    Ok(with_etag(Json(UserView::load(state.db().conn(), principal.user).await?), version))
}

#[utoipa::path(
    patch, path = "/me", tag = "account",
    params(("If-Match" = Option<String>, Header, description = "The ETag read; a newer version answers 412")),
    request_body = ProfileChange,
    responses((status = 200, description = "The changed account", body = UserView))
)]
pub async fn update(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    ApiJson(change): ApiJson<ProfileChange>,
) -> Result<Response, ApiError> {
    let after = crate::services::profile::update(&state, &principal, &context, change, &if_match).await?;
    let version = after.version;
    Ok(with_etag(Json(UserView::load(state.db().conn(), after).await?), version))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

#[utoipa::path(
    post, path = "/me/password", tag = "account",
    request_body = PasswordChange,
    responses((status = 204, description = "Password changed; other sessions, API tokens and reset links ended"))
)]
pub async fn change_password(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiJson(request): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    crate::services::credentials::change_password(
        &state,
        &principal,
        &context,
        request.current_password,
        request.new_password,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AccountDeletion {
    /// Your current password, again.
    password: String,
}

/// Deletes your own account: your personal data is erased (name, email,
/// phone, bio, password, sessions with their addresses and browsers,
/// tokens, notifications, and your values in the audit log); your records
/// and comments stay, attributed to "Deleted user #n". The team's last
/// active ADMIN cannot (409).
#[utoipa::path(
    delete, path = "/me", tag = "account",
    request_body = AccountDeletion,
    responses((status = 204, description = "Account deleted and its personal data erased"),
              (status = 409, description = "The team's last active administrator"))
)]
pub async fn delete_account(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiJson(request): ApiJson<AccountDeletion>,
) -> Result<StatusCode, ApiError> {
    crate::services::members::delete_own_account(&state, &principal, &context, request.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionView {
    id: Uuid,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    ip: Option<String>,
    user_agent: Option<String>,
    current: bool,
}

#[utoipa::path(
    get, path = "/me/sessions", tag = "account",
    responses((status = 200, description = "The account's live sessions", body = Listing<SessionView>))
)]
pub async fn sessions(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Listing<SessionView>>, ApiError> {
    let live = sessions::list_live(state.db().conn(), principal.scope(), principal.user.id, Utc::now()).await?;
    let current = principal.session_id();
    let items = live
        .into_iter()
        .map(|s| SessionView {
            current: Some(s.id) == current,
            id: s.id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            ip: s.ip,
            user_agent: s.user_agent,
        })
        .collect();
    Ok(Json(Listing { items }))
}

#[utoipa::path(
    delete, path = "/me/sessions/{id}", tag = "account",
    params(("id" = String, Path, description = "The session's id")),
    responses((status = 204, description = "The session ended"))
)]
pub async fn revoke_session(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::services::credentials::revoke_own_session(&state, &principal, &context, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What you are told of, and how: each kind `in_app` (listed under
/// notifications), `email` (also mailed) or `off`; and `digest`, a daily
/// mail of what you have not read.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct NotificationPreferences {
    /// Kind → `in_app`, `email` or `off`: `ASSIGNED`, `MENTIONED`,
    /// `COMMENTED`, `STATUS_CHANGED`, `REOPENED`, `SLA_DUE_SOON`,
    /// `SLA_BREACHED`, `RISK_ACCEPTANCE_REQUESTED`, `RISK_ACCEPTANCE_APPROVED`,
    /// `RISK_ACCEPTANCE_REJECTED`, `RISK_ACCEPTANCE_EXPIRED`, `IMPORT`.
    #[schema(value_type = Object)]
    kinds: Option<serde_json::Value>,
    digest: Option<bool>,
}

#[utoipa::path(
    get, path = "/me/notification-preferences", tag = "account",
    responses((status = 200, description = "Where each kind of notification goes", body = NotificationPreferences))
)]
pub async fn notification_preferences(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<serde_json::Value>, ApiError> {
    let prefs = crate::services::notification_prefs::get(&state, &principal).await?;
    Ok(Json(crate::services::notification_prefs::view(&prefs)))
}

#[utoipa::path(
    patch, path = "/me/notification-preferences", tag = "account",
    request_body = NotificationPreferences,
    responses((status = 200, description = "The preferences as changed", body = NotificationPreferences))
)]
pub async fn change_notification_preferences(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let prefs = crate::services::notification_prefs::set(&state, &principal, &context, &body).await?;
    Ok(Json(crate::services::notification_prefs::view(&prefs)))
}

#[utoipa::path(
    get, path = "/me/export", tag = "account",
    responses((status = 200, description = "Everything VulnTrack holds about the signed-in person, as one JSON document \
(profile, sessions with their addresses and browsers, API token metadata, comments, records reported or assigned, \
notifications, audit rows where they are the actor); the export is audited", body = Object))
)]
pub async fn export(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
) -> Result<Response, ApiError> {
    let data = crate::services::personal_data::export(&state, &principal, &context).await?;
    let disposition = "attachment; filename=\"vulntrack-personal-data.json\"";
    Ok(([(axum::http::header::CONTENT_DISPOSITION, disposition)], Json(data)).into_response())
}

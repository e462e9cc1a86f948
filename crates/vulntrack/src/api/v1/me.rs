//! The signed-in user's own account: profile, password, sessions.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;
use vulntrack_domain::AuditAction;
use vulntrack_domain::{ValidationErrors, validation::not_blank};
use vulntrack_store::{
    audit::{self, AuditEvent},
    sessions,
    users::{self, ProfileUpdate},
};

use super::views::{Listing, UserView, path_id};
use crate::{
    app::AppState,
    auth::Principal,
    http::{
        ApiError, ApiJson, ClientContext,
        versioning::{IfMatch, with_etag},
    },
};

pub async fn show(State(state): State<AppState>, principal: Principal) -> Result<Response, ApiError> {
    let version = principal.user.version;
    Ok(with_etag(Json(UserView::load(state.db().conn(), principal.user).await?), version))
}

fn optional_not_blank(value: &Option<String>, context: &()) -> garde::Result {
    value.as_deref().map_or(Ok(()), |v| not_blank(v, context))
}

fn phone_characters(value: &Option<String>, _: &()) -> garde::Result {
    let Some(value) = value else { return Ok(()) };
    if value.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
        Ok(())
    } else {
        Err(garde::Error::new("may contain only digits, spaces and + - ( ) ."))
    }
}

/// Profile fields; an absent field is left alone, an empty string clears
/// an optional one. Unknown fields (say, `role`) are refused, not ignored.
#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    #[garde(length(chars, min = 1, max = 100), custom(optional_not_blank))]
    name: Option<String>,
    #[garde(length(chars, max = 40), custom(phone_characters))]
    phone: Option<String>,
    #[garde(length(chars, max = 100))]
    job_title: Option<String>,
    #[garde(length(chars, max = 100))]
    department: Option<String>,
    #[garde(length(chars, max = 2000))]
    bio: Option<String>,
    #[garde(skip)]
    is_onboarded: Option<bool>,
}

fn optional(value: Option<String>) -> Option<Option<String>> {
    value.map(|v| Some(v.trim().to_string()).filter(|v| !v.is_empty()))
}

pub async fn update(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    ApiJson(request): ApiJson<ProfileRequest>,
) -> Result<Response, ApiError> {
    request.validate().map_err(|report| ApiError::Validation(ValidationErrors::from_garde(&report)))?;
    let update = ProfileUpdate {
        name: request.name.map(|n| n.trim().to_string()),
        phone: optional(request.phone),
        job_title: optional(request.job_title),
        department: optional(request.department),
        bio: optional(request.bio),
        is_onboarded: request.is_onboarded,
    };
    let txn = state.db().begin().await?;
    let before = users::get_for_update(&txn, principal.scope(), principal.user.id).await?;
    if_match.check(before.version)?;
    let after = users::update_profile(&txn, principal.scope(), principal.user.id, update).await?;
    let mut changes = Map::new();
    let pairs: [(&str, Value, Value); 6] = [
        ("name", json!(before.name), json!(after.name)),
        ("phone", json!(before.phone), json!(after.phone)),
        ("job_title", json!(before.job_title), json!(after.job_title)),
        ("department", json!(before.department), json!(after.department)),
        ("bio", json!(before.bio), json!(after.bio)),
        ("is_onboarded", json!(before.is_onboarded), json!(after.is_onboarded)),
    ];
    for (field, old, new) in pairs {
        if old != new {
            changes.insert(field.into(), json!({ "before": old, "after": new }));
        }
    }
    if !changes.is_empty() {
        let event = AuditEvent::new(Some(after.team_id), principal.actor(), AuditAction::ProfileUpdated, &context)
            .entity("user", after.id)
            .details(Value::Object(changes));
        audit::append(&txn, event).await?;
    }
    txn.commit().await?;
    let version = after.version;
    Ok(with_etag(Json(UserView::load(state.db().conn(), after).await?), version))
}

#[derive(Deserialize)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

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

#[derive(Serialize)]
pub struct SessionView {
    id: Uuid,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    ip: Option<String>,
    user_agent: Option<String>,
    current: bool,
}

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

pub async fn revoke_session(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::services::credentials::revoke_own_session(&state, &principal, &context, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

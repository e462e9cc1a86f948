//! Team administration pages (ADMIN) and the page an invitation opens.

use crate::http::versioning::IfMatch;
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::CookieJar;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use vulntrack_domain::{Action, Role, UserStatus};
use vulntrack_store::{invitations, users};

use super::{
    account_pages::{api_body, messages},
    page::{Choice, Nav, WebUser, page_error},
};
use crate::{
    api::v1::{password_reset, registration},
    app::AppState,
    auth::secret_token,
    http::{ApiError, ClientContext},
    services::sessions,
};

pub struct MemberRow {
    id: String,
    name: String,
    email: String,
    status: String,
    roles: Vec<Choice>,
    toggle_status: &'static str,
    toggle_label: &'static str,
}

pub struct InvitationRow {
    id: String,
    email: String,
    role: String,
    expires: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    nav: Option<Nav>,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    invite_roles: Vec<Choice>,
    notice: Option<String>,
    errors: Vec<String>,
    new_link: Option<(String, String)>,
    tokens: Vec<MemberTokenRow>,
}

/// A member's live API token, for the ADMIN's overview.
pub struct MemberTokenRow {
    owner_id: String,
    owner: String,
    id: String,
    name: String,
    prefix: String,
    expires: String,
    last_used: String,
}

const ROLES: &[(&str, &str)] = &[("ADMIN", "Admin"), ("ANALYST", "Analyst"), ("VIEWER", "Viewer")];

async fn users_page(
    state: &AppState,
    user: &WebUser,
    notice: Option<String>,
    errors: Vec<String>,
    new_link: Option<(String, String)>,
) -> Response {
    if !user.principal.user.role.allows(Action::ManageUsers) {
        return page_error(ApiError::Forbidden("Only administrators manage the team."));
    }
    let db = state.db().conn();
    let scope = user.principal.scope();
    let (members, pending) = match (users::list(db, scope).await, invitations::list_pending(db, scope).await) {
        (Ok(m), Ok(p)) => (m, p),
        (Err(e), _) | (_, Err(e)) => return page_error(e.into()),
    };
    let now = Utc::now();
    let live_tokens = match vulntrack_store::api_tokens::list_live_for_team(db, scope, now).await {
        Ok(tokens) => tokens,
        Err(e) => return page_error(e.into()),
    };
    let names: std::collections::HashMap<_, _> = members.iter().map(|m| (m.id, m.name.clone())).collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = UsersPage {
        tokens: live_tokens
            .into_iter()
            .map(|t| MemberTokenRow {
                owner_id: t.user_id.to_string(),
                owner: names.get(&t.user_id).cloned().unwrap_or_else(|| "(former member)".into()),
                id: t.id.to_string(),
                name: t.name,
                prefix: t.prefix,
                expires: t.expires_at.map_or_else(String::new, |at| at.format("%Y-%m-%d").to_string()),
                last_used: t.last_used_at.map_or_else(|| "never".into(), |at| at.format("%Y-%m-%d %H:%M").to_string()),
            })
            .collect(),
        nav: Some(user.nav.clone()),
        members: members
            .into_iter()
            .map(|m| {
                let active = m.status == UserStatus::Active;
                MemberRow {
                    id: m.id.to_string(),
                    roles: Choice::list(ROLES, m.role.as_str()),
                    status: if active { "Active".into() } else { "Deactivated".into() },
                    toggle_status: if active { "INACTIVE" } else { "ACTIVE" },
                    toggle_label: if active { "Deactivate" } else { "Reactivate" },
                    name: m.name,
                    email: m.email,
                }
            })
            .collect(),
        invitations: pending
            .into_iter()
            .map(|i| InvitationRow {
                id: i.id.to_string(),
                role: i.role.to_string(),
                expires: if i.expires_at <= now {
                    "expired".into()
                } else {
                    format!("until {}", i.expires_at.format("%Y-%m-%d %H:%M UTC"))
                },
                email: i.email,
            })
            .collect(),
        invite_roles: Choice::list(ROLES, Role::Viewer.as_str()),
        notice,
        errors,
        new_link,
    };
    (status, page).into_response()
}

pub async fn users(State(state): State<AppState>, user: WebUser) -> Response {
    users_page(&state, &user, None, Vec::new(), None).await
}

async fn after(state: &AppState, user: &WebUser, outcome: Result<(), ApiError>, done: &str) -> Response {
    match outcome {
        Ok(()) => users_page(state, user, Some(done.to_string()), Vec::new(), None).await,
        Err(error @ (ApiError::NotFound | ApiError::Internal(_) | ApiError::Storage(_) | ApiError::Forbidden(_))) => {
            page_error(error)
        }
        Err(error) => users_page(state, user, None, messages(&error), None).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct MemberForm {
    role: Option<String>,
    status: Option<String>,
}

pub async fn update_member(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<MemberForm>,
) -> Response {
    let outcome = async {
        let member = vulntrack_domain::UserId::from_uuid(crate::api::v1::views::path_id(&id)?);
        let role = form.role.as_deref().map(str::parse).transpose().map_err(
            |e: vulntrack_domain::string_enum::UnknownValue| ApiError::field("role", "invalid", &e.to_string()),
        )?;
        let status = form.status.as_deref().map(str::parse).transpose().map_err(
            |e: vulntrack_domain::string_enum::UnknownValue| ApiError::field("status", "invalid", &e.to_string()),
        )?;
        let change = crate::services::members::MemberChange { role, status };
        crate::services::members::update(&state, &user.principal, &context, member, change, &IfMatch::Absent)
            .await
            .map(|_| ())
    }
    .await;
    after(&state, &user, outcome, "Member updated.").await
}

pub async fn unlock_member(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Response {
    let outcome = async {
        let member = vulntrack_domain::UserId::from_uuid(crate::api::v1::views::path_id(&id)?);
        crate::services::members::unlock(&state, &user.principal, &context, member).await
    }
    .await;
    after(&state, &user, outcome, "Account unlocked.").await
}

/// Revokes a member's API token (ADMIN).
pub async fn revoke_member_token(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path((id, token_id)): Path<(String, String)>,
) -> Response {
    let outcome = async {
        let member = vulntrack_domain::UserId::from_uuid(crate::api::v1::views::path_id(&id)?);
        let token = crate::api::v1::views::path_id(&token_id)?;
        crate::services::tokens::revoke_member_token(&state, &user.principal, &context, member, token).await
    }
    .await;
    after(&state, &user, outcome, "API token revoked.").await
}

pub async fn delete_member(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Response {
    let outcome = async {
        let member = vulntrack_domain::UserId::from_uuid(crate::api::v1::views::path_id(&id)?);
        crate::services::members::delete(&state, &user.principal, &context, member, &IfMatch::Absent).await
    }
    .await;
    after(&state, &user, outcome, "Member deleted; their records stay.").await
}

pub async fn reset_link(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Response {
    match password_reset::admin_link(State(state.clone()), ClientContext(context), user.principal.clone(), Path(id))
        .await
    {
        Ok((_, axum::Json(link))) => {
            let url = serde_json::to_value(&link)
                .ok()
                .and_then(|v| v["reset_url"].as_str().map(str::to_string))
                .unwrap_or_default();
            users_page(&state, &user, None, Vec::new(), Some(("Password reset link".into(), url))).await
        }
        Err(error) => after(&state, &user, Err(error), "").await,
    }
}

#[derive(Debug, Deserialize)]
pub struct InviteForm {
    email: String,
    role: String,
}

pub async fn invite(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Form(form): Form<InviteForm>,
) -> Response {
    let created = async {
        let role = form
            .role
            .parse::<vulntrack_domain::Role>()
            .map_err(|e| ApiError::field("role", "invalid", &e.to_string()))?;
        crate::services::invitations::invite(&state, &user.principal, &context, &form.email, role).await
    }
    .await;
    match created {
        Ok(invited) => {
            users_page(&state, &user, None, Vec::new(), Some(("Invitation link".into(), invited.link))).await
        }
        Err(error) => after(&state, &user, Err(error), "").await,
    }
}

pub async fn withdraw_invitation(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Response {
    let outcome = async {
        let id = crate::api::v1::views::path_id(&id)?;
        crate::services::invitations::withdraw(&state, &user.principal, &context, id).await
    }
    .await;
    after(&state, &user, outcome, "Invitation withdrawn.").await
}

#[derive(Template, WebTemplate)]
#[template(path = "invite.html")]
pub struct InvitePage {
    nav: Option<Nav>,
    token: String,
    email: Option<String>,
    name: String,
    valid: bool,
    errors: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenParam {
    token: String,
}

async fn invite_page(state: &AppState, token: String, name: String, errors: Vec<String>) -> Response {
    let found = invitations::find_valid(state.db().conn(), &secret_token::hash(token.trim()), Utc::now()).await;
    let invitation = match found {
        Ok(found) => found,
        Err(error) => return page_error(error.into()),
    };
    let status = if invitation.is_none() {
        StatusCode::NOT_FOUND
    } else if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page =
        InvitePage { nav: None, valid: invitation.is_some(), email: invitation.map(|i| i.email), token, name, errors };
    (status, page).into_response()
}

pub async fn invite_landing(State(state): State<AppState>, Query(params): Query<TokenParam>) -> Response {
    invite_page(&state, params.token, String::new(), Vec::new()).await
}

#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    token: String,
    name: String,
    password: String,
}

pub async fn accept(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    jar: CookieJar,
    Form(form): Form<AcceptForm>,
) -> Response {
    let (key, rule) = password_reset::reset_bucket(&state, &context);
    if !state.rate_limiter().check(&key, rule).await.allowed {
        return invite_page(&state, form.token, form.name, vec!["Too many attempts; please wait a while.".into()])
            .await;
    }
    let request = match api_body(json!({ "token": form.token, "name": form.name, "password": form.password })) {
        Ok(request) => request.0,
        Err(error) => return page_error(error),
    };
    match registration::create_account(state.clone(), context.clone(), request).await {
        Ok((_, axum::Json(created))) => {
            let email =
                serde_json::to_value(&created).ok().and_then(|v| v["user"]["email"].as_str().map(str::to_string));
            match email {
                Some(email) => match sessions::sign_in(&state, &context, &email, form.password).await {
                    Ok(signed_in) => (jar.add(signed_in.cookie), Redirect::to("/")).into_response(),
                    Err(_) => Redirect::to("/login").into_response(),
                },
                None => Redirect::to("/login").into_response(),
            }
        }
        Err(error @ (ApiError::Internal(_) | ApiError::Storage(_))) => page_error(error),
        Err(error) => invite_page(&state, form.token, form.name, messages(&error)).await,
    }
}

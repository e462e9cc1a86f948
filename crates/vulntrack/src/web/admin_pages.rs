//! Team administration pages (ADMIN) and the page an invitation opens.

use crate::http::versioning::IfMatch;
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use axum_extra::extract::CookieJar;
use chrono::Utc;
use serde::Deserialize;
use vulntrack_domain::{Action, Role, UserId, UserStatus, string_enum::UnknownValue};
use vulntrack_store::{invitations, users};

use super::{
    auth_pages::{signed_in_or_login, too_many, wait_message},
    format::filters,
    page::{Choice, Nav, PageError, WebUser, form_messages},
};
use crate::{
    app::AppState,
    auth::secret_token,
    http::{ClientContext, path_id},
    ratelimit::{self, budgets},
    services::{ServiceError, invitations as invitation_service, members, password_resets, registration, tokens},
};

pub struct MemberRow {
    id: String,
    name: String,
    email: String,
    status: String,
    /// When a lockout after failed sign-ins ends, if one is in force.
    locked_until: Option<chrono::DateTime<Utc>>,
    active: bool,
    /// The signed-in ADMIN's own row: changed from the account page, not here.
    is_self: bool,
    role: String,
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
) -> Result<Response, PageError> {
    let db = state.db().conn();
    let scope = user.principal.scope();
    let members = users::list(db, scope).await?;
    let pending = invitations::list_pending(db, scope).await?;
    let now = Utc::now();
    let live_tokens = vulntrack_store::api_tokens::list_live_for_team(db, scope, now).await?;
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
                last_used: t.last_used_at.map_or_else(|| "never".into(), |at| super::format::when(at, user.nav.zone).0),
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
                    role: crate::web::format::label(m.role.as_str()),
                    locked_until: m.locked_at(now),
                    active,
                    is_self: m.id == user.principal.user.id,
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
                    format!("until {}", super::format::when(i.expires_at, user.nav.zone).0)
                },
                email: i.email,
            })
            .collect(),
        invite_roles: Choice::list(ROLES, Role::Viewer.as_str()),
        notice,
        errors,
        new_link,
    };
    Ok((status, page).into_response())
}

pub async fn users(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
) -> Result<Response, PageError> {
    user.principal.require(&state, &context, Action::ManageUsers).await?;
    users_page(&state, &user, None, Vec::new(), None).await
}

/// The members page after a change: its notice, or why it was refused.
async fn after(
    state: &AppState,
    user: &WebUser,
    outcome: Result<(), ServiceError>,
    done: &str,
) -> Result<Response, PageError> {
    match outcome {
        Ok(()) => users_page(state, user, Some(done.to_string()), Vec::new(), None).await,
        Err(error) => users_page(state, user, None, form_messages(error)?, None).await,
    }
}

/// A form's choice of a named value (a role, a status), or its field error.
fn choice<T: std::str::FromStr<Err = UnknownValue>>(
    field: &str,
    value: Option<&str>,
) -> Result<Option<T>, ServiceError> {
    value.map(str::parse).transpose().map_err(|e: UnknownValue| ServiceError::field(field, "invalid", &e.to_string()))
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
) -> Result<Response, PageError> {
    let member = UserId::from_uuid(path_id(&id)?);
    let outcome = async {
        let change = members::MemberChange {
            role: choice("role", form.role.as_deref())?,
            status: choice("status", form.status.as_deref())?,
        };
        members::update(&state, &user.principal, &context, member, change, &IfMatch::Absent).await.map(|_| ())
    }
    .await;
    after(&state, &user, outcome, "Member updated.").await
}

pub async fn unlock_member(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let member = UserId::from_uuid(path_id(&id)?);
    let outcome = members::unlock(&state, &user.principal, &context, member).await;
    after(&state, &user, outcome, "Account unlocked.").await
}

/// Revokes a member's API token (ADMIN).
pub async fn revoke_member_token(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path((id, token_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let member = UserId::from_uuid(path_id(&id)?);
    let token = path_id(&token_id)?;
    let outcome = tokens::revoke_member_token(&state, &user.principal, &context, member, token).await;
    after(&state, &user, outcome, "API token revoked.").await
}

pub async fn delete_member(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let member = UserId::from_uuid(path_id(&id)?);
    let outcome = members::delete(&state, &user.principal, &context, member, &IfMatch::Absent).await;
    after(&state, &user, outcome, "Member deleted; their records stay.").await
}

pub async fn reset_link(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let member = UserId::from_uuid(path_id(&id)?);
    match password_resets::issue_for_member(&state, &user.principal, &context, member).await {
        Ok(link) => users_page(&state, &user, None, Vec::new(), Some(("Password reset link".into(), link.url))).await,
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
) -> Result<Response, PageError> {
    let created = async {
        let role = choice::<Role>("role", Some(&form.role))?.unwrap_or(Role::Viewer);
        invitation_service::invite(&state, &user.principal, &context, &form.email, role).await
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
) -> Result<Response, PageError> {
    let id = path_id(&id)?;
    let outcome = invitation_service::withdraw(&state, &user.principal, &context, id).await;
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

async fn invite_page(
    state: &AppState,
    token: String,
    name: String,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let invitation = invitations::find_valid(state.db().conn(), &secret_token::hash(token.trim()), Utc::now()).await?;
    let status = if invitation.is_none() {
        StatusCode::NOT_FOUND
    } else if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page =
        InvitePage { nav: None, valid: invitation.is_some(), email: invitation.map(|i| i.email), token, name, errors };
    Ok((status, page).into_response())
}

pub async fn invite_landing(
    State(state): State<AppState>,
    Query(params): Query<TokenParam>,
) -> Result<Response, PageError> {
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
) -> Result<Response, PageError> {
    let created = async {
        ratelimit::spend(state.rate_limiter(), &[budgets::accounts_and_resets(&state, &context)]).await?;
        registration::accept_invitation(&state, &context, &form.token, form.name.clone(), form.password.clone()).await
    };
    match created.await {
        Ok((_, user)) => Ok(signed_in_or_login(&state, &context, jar, &user.email, form.password).await),
        Err(ServiceError::RateLimited { retry_after_seconds }) => {
            let page = invite_page(&state, form.token, form.name, vec![wait_message(retry_after_seconds)]).await?;
            Ok(too_many(page, retry_after_seconds))
        }
        Err(error) => invite_page(&state, form.token, form.name, form_messages(error)?).await,
    }
}

//! The detail page: the record, its risk ratings, comments and history.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde_json::json;
use vulntrack_domain::{
    Action,
    vulnerability::{
        Severity, VulnKind, VulnStatus, cvss_score,
        risk::{Dread, Stride},
    },
};
use vulntrack_store::{
    comments, notifications, users,
    vulnerabilities::{self, Vulnerability},
};

use super::{StrideInput, choices_of, cvss_text};
use crate::{
    app::AppState,
    http::{ClientContext, versioning::IfMatch},
    services::{self, ServiceError},
    web::{
        flash::{self, Flash},
        format::filters,
        markdown,
        page::{Choice, Nav, PageError, WebUser},
    },
};

pub struct DetailView {
    key: String,
    title: String,
    severity: Severity,
    status: VulnStatus,
    kind: VulnKind,
    cve_id: Option<String>,
    cvss: String,
    cvss_version: String,
    cvss_vector: String,
    assignee: String,
    reporter: String,
    created: chrono::DateTime<chrono::Utc>,
    updated: chrono::DateTime<chrono::Utc>,
    assets: Vec<String>,
    references: Vec<String>,
    tags: Vec<String>,
}

pub struct Bar {
    name: &'static str,
    value: u32,
}

pub struct ActivityItem {
    at: chrono::DateTime<chrono::Utc>,
    who: String,
    what: String,
}

fn describe(record: &vulntrack_store::audit::AuditRecord) -> String {
    use vulntrack_domain::AuditAction;
    match record.action.parse::<AuditAction>() {
        Ok(AuditAction::VulnerabilityCreated) => "created it".to_string(),
        Ok(AuditAction::VulnerabilityUpdated) => {
            let fields: Vec<String> =
                record.details.as_object().map(|m| m.keys().map(|k| k.replace('_', " ")).collect()).unwrap_or_default();
            format!("changed {}", fields.join(", "))
        }
        Ok(AuditAction::VulnerabilityStatusChanged) => {
            format!("set the status to {}", record.details["status"]["after"].as_str().unwrap_or("?"))
        }
        Ok(AuditAction::VulnerabilityAssigned) => "changed the assignee".to_string(),
        _ => record.action.to_lowercase().replace('_', " "),
    }
}

pub struct CommentView {
    author: String,
    created: chrono::DateTime<chrono::Utc>,
    body_html: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "vulnerabilities/detail.html")]
pub struct DetailPage {
    nav: Option<Nav>,
    v: DetailView,
    description_html: String,
    remediation_html: Option<String>,
    cvss_metrics: Vec<(String, String)>,
    dread_bars: Vec<Bar>,
    dread_total: String,
    stride: Vec<StrideInput>,
    comments: Vec<CommentView>,
    status_options: Vec<Choice>,
    can_write: bool,
    can_comment: bool,
    comment_draft: String,
    comment_error: Option<String>,
    activity: Vec<ActivityItem>,
}

async fn detail_page(
    state: &AppState,
    user: &WebUser,
    v: Vulnerability,
    draft: String,
    error: Option<String>,
) -> Result<Response, PageError> {
    let db = state.db().conn();
    let scope = user.principal.scope();
    let members = users::list(db, scope).await?;
    let thread = comments::list_for(db, scope, v.id).await?;
    let name_of = |id: Option<vulntrack_domain::UserId>| match id {
        None => "—".to_string(),
        Some(id) => members.iter().find(|m| m.id == id).map_or_else(|| "Deleted user".to_string(), |m| m.name.clone()),
    };
    let history = vulntrack_store::audit::AuditQuery {
        entity_type: Some("vulnerability".into()),
        entity_id: Some(v.id.to_string()),
        limit: 50,
        ..Default::default()
    };
    let activity = vulntrack_store::audit::list(db, scope, &history)
        .await?
        .iter()
        .map(|row| {
            ActivityItem {
                at: row.created_at,
                // Names, never emails: the member list (with emails) is
                // for ADMINs, and every role reads this page.
                who: match row.actor_id {
                    Some(id) => name_of(Some(vulntrack_domain::UserId::from_uuid(id))),
                    None => row.actor_kind.to_lowercase(),
                },
                what: describe(row),
            }
        })
        .collect();
    let r = &v.record;
    let cvss_metrics = r
        .cvss_vector
        .as_deref()
        .and_then(|vector| cvss_score::assess(vector).ok())
        .map_or_else(Vec::new, |a| a.metrics);
    let page = DetailPage {
        nav: Some(user.nav.clone()),
        description_html: markdown::render(&r.description),
        remediation_html: r.remediation.as_deref().map(markdown::render),
        cvss_metrics,
        dread_bars: r
            .dread
            .map(|d| Dread::FACTORS.iter().zip(d.values()).map(|(f, v)| Bar { name: f, value: u32::from(v) }).collect())
            .unwrap_or_default(),
        dread_total: r.dread_score().map_or_else(String::new, |t| format!("{t:.1}")),
        stride: Stride::CATEGORIES
            .iter()
            .zip(r.stride.flags())
            .map(|(c, checked)| StrideInput { name: c, checked })
            .collect(),
        comments: thread
            .into_iter()
            .map(|c| CommentView {
                author: name_of(Some(c.author_id)),
                created: c.created_at,
                body_html: markdown::render(&c.body),
            })
            .collect(),
        status_options: choices_of(&VulnStatus::names(), r.status.as_str()),
        can_write: user.principal.may(Action::WriteVulnerabilities),
        can_comment: user.principal.may(Action::Comment),
        comment_draft: draft,
        comment_error: error,
        activity,
        v: DetailView {
            key: v.key(),
            title: r.title.clone(),
            severity: r.severity,
            status: r.status,
            kind: r.kind,
            cve_id: r.cve_id.clone(),
            cvss: cvss_text(r.cvss_score),
            cvss_version: r.cvss_version.clone().unwrap_or_default(),
            cvss_vector: r.cvss_vector.clone().unwrap_or_default(),
            assignee: name_of(r.assignee_id),
            reporter: name_of(v.reporter_id),
            created: v.created_at,
            updated: v.updated_at,
            assets: r.assets.clone(),
            references: r.references.clone(),
            tags: r.tags.clone(),
        },
    };
    let status = if page.comment_error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, page).into_response())
}

pub async fn detail(
    State(state): State<AppState>,
    mut user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let db = state.db().conn();
    let found = vulnerabilities::find(db, user.principal.scope(), &id).await?;
    // Opening the record is reading what was said about it, as a mail
    // client marks a message read when it is opened.
    // Only a user with unread notifications pays for the write.
    if user.nav.unread > 0 {
        let seen = notifications::mark_read_about(db, user.principal.scope(), user.principal.user.id, found.id).await?;
        user.nav.unread = user.nav.unread.saturating_sub(seen);
    }
    detail_page(&state, &user, found, String::new(), None).await
}

#[derive(Debug, serde::Deserialize)]
pub struct CommentForm {
    body: String,
}

pub async fn comment(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CommentForm>,
) -> Result<Response, PageError> {
    match services::comments::add(&state, &user.principal, &context, &id, &form.body).await {
        Ok(_) => Ok(Redirect::to(&format!("/vulnerabilities/{id}#comments")).into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let message = errors.iter().map(|e| format!("Comment {}", e.message)).collect::<Vec<_>>().join(" ");
            let found = vulnerabilities::find(state.db().conn(), user.principal.scope(), &id).await?;
            detail_page(&state, &user, found, form.body, Some(message)).await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct StatusForm {
    status: String,
}

pub async fn change_status(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    let body = json!({ "status": form.status });
    let updated =
        services::vulnerabilities::update(&state, &user.principal, &context, &id, &body, &IfMatch::Absent).await?;
    Ok(flash::redirect(&format!("/vulnerabilities/{}", updated.key()), Flash::Saved))
}

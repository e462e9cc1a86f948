//! The audit log viewer and the security alerts page (ADMIN).

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::Query;
use chrono::Utc;
use serde::Deserialize;
use vulntrack_domain::{Action, ValidationErrors};
use vulntrack_store::{
    audit::{self, AuditQuery},
    security_alerts,
};

use super::{
    format::filters,
    page::{Nav, PageError, WebUser},
};
use crate::{
    app::AppState,
    http::{ClientContext, path_id},
};

const PAGE: u64 = 100;

pub struct AuditRow {
    seq: i64,
    at: chrono::DateTime<Utc>,
    who: String,
    action: String,
    entity: String,
    details: String,
    ip: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    nav: Option<Nav>,
    action: String,
    entity_type: String,
    since: String,
    until: String,
    filter_query: String,
    rows: Vec<AuditRow>,
    next_link: Option<String>,
    errors: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuditFilters {
    action: String,
    entity_type: String,
    since: String,
    until: String,
    before: Option<i64>,
}

fn day(field: &str, value: &str, errors: &mut ValidationErrors) -> Option<chrono::DateTime<Utc>> {
    if value.trim().is_empty() {
        return None;
    }
    match chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d") {
        Ok(date) => date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
        Err(_) => {
            errors.push(vulntrack_domain::validation::FieldError::new(field, "invalid", "must be a date"));
            None
        }
    }
}

pub async fn audit_log(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Query(filters): Query<AuditFilters>,
) -> Result<Response, PageError> {
    user.principal.require(&state, &context, Action::ViewAudit).await?;
    let mut errors = ValidationErrors::default();
    let query = AuditQuery {
        actions: filters.action.split(',').map(|a| a.trim().to_uppercase()).filter(|a| !a.is_empty()).collect(),
        entity_type: Some(filters.entity_type.trim().to_string()).filter(|e| !e.is_empty()),
        since: day("since", &filters.since, &mut errors),
        until: day("until", &filters.until, &mut errors).map(|d| d + chrono::Duration::days(1)),
        before_seq: filters.before,
        limit: PAGE + 1,
        ..AuditQuery::default()
    };
    let filter = {
        let mut filter = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("action", &filters.action),
            ("entity_type", &filters.entity_type),
            ("since", &filters.since),
            ("until", &filters.until),
        ] {
            if !value.trim().is_empty() {
                filter.append_pair(name, value.trim());
            }
        }
        filter.finish()
    };
    let mut rows = audit::list(state.db().conn(), user.principal.scope(), &query).await?;
    let more = rows.len() as u64 > PAGE;
    rows.truncate(PAGE as usize);
    let next_link = more.then(|| rows.last().map(|r| format!("/admin/audit?{filter}&before={}", r.seq))).flatten();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = AuditPage {
        nav: Some(user.nav.clone()),
        filter_query: if filter.is_empty() { String::new() } else { format!("&{filter}") },
        action: filters.action,
        entity_type: filters.entity_type,
        since: filters.since,
        until: filters.until,
        rows: rows
            .into_iter()
            .map(|r| AuditRow {
                seq: r.seq,
                at: r.created_at,
                who: r.actor_email.clone().unwrap_or_else(|| r.actor_kind.to_lowercase()),
                entity: [r.entity_type.clone(), r.entity_id.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
                details: r.details.to_string().chars().take(200).collect(),
                ip: r.ip.clone().unwrap_or_default(),
                action: r.action,
            })
            .collect(),
        next_link,
        errors: errors.iter().map(super::page::field_message).collect(),
    };
    Ok((status, page).into_response())
}

pub struct AlertRow {
    id: String,
    at: chrono::DateTime<Utc>,
    severity: String,
    rule: String,
    subject: String,
    evidence: String,
    acknowledged: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/alerts.html")]
pub struct AlertsPage {
    nav: Option<Nav>,
    alerts: Vec<AlertRow>,
}

pub async fn alerts(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
) -> Result<Response, PageError> {
    user.principal.require(&state, &context, Action::ViewAudit).await?;
    let found = security_alerts::list(state.db().conn(), user.principal.scope(), 200).await?;
    Ok(AlertsPage {
        nav: Some(user.nav.clone()),
        alerts: found
            .into_iter()
            .map(|a| AlertRow {
                id: a.id.to_string(),
                at: a.created_at,
                severity: a.severity,
                rule: a.rule.replace('_', " ").to_lowercase(),
                subject: a.subject,
                evidence: a.evidence.to_string(),
                acknowledged: a.acknowledged_at.is_some(),
            })
            .collect(),
    }
    .into_response())
}

pub async fn acknowledge(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    crate::services::alerts::acknowledge(&state, &user.principal, &context, path_id(&id)?).await?;
    Ok(Redirect::to("/admin/alerts").into_response())
}

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
    page::{Choice, Nav, PageError, WebUser},
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
    /// Where the entity can be seen, when it has a page.
    entity_href: Option<String>,
    changes: Vec<Change>,
    ip: String,
}

/// One detail of an audit row: a field and its value, or its value
/// before and after the change.
pub struct Change {
    field: String,
    before: Option<String>,
    after: String,
}

/// A detail value for people: enum names as words, lists joined, nothing
/// as a dash, long values cut.
fn readable(value: &serde_json::Value) -> String {
    use serde_json::Value;
    let text = match value {
        Value::Null => "—".to_string(),
        Value::String(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_uppercase() || c == '_') => {
            super::format::label(s)
        }
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "—".to_string(),
        Value::Array(items) => items.iter().map(readable).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    };
    if text.chars().count() > 160 { text.chars().take(159).chain(['…']).collect() } else { text }
}

/// The row's details as field changes: `{"status": {"before": "OPEN",
/// "after": "RESOLVED"}}` reads "Status: Open → Resolved".
fn changes_of(details: &serde_json::Value) -> Vec<Change> {
    let Some(fields) = details.as_object() else {
        return if details.is_null() {
            Vec::new()
        } else {
            vec![Change { field: String::new(), before: None, after: readable(details) }]
        };
    };
    fields
        .iter()
        .map(|(field, value)| {
            let field = super::format::field_label(field);
            match value.as_object() {
                Some(pair) if pair.contains_key("before") || pair.contains_key("after") => Change {
                    field,
                    before: Some(readable(pair.get("before").unwrap_or(&serde_json::Value::Null))),
                    after: readable(pair.get("after").unwrap_or(&serde_json::Value::Null)),
                },
                _ => Change { field, before: None, after: readable(value) },
            }
        })
        .collect()
}

/// The page an entity of the audit log is shown on, if any.
fn entity_href(entity_type: Option<&str>, entity_id: Option<&str>) -> Option<String> {
    let id = entity_id.filter(|id| uuid::Uuid::parse_str(id).is_ok())?;
    match entity_type? {
        "vulnerability" => Some(format!("/vulnerabilities/{id}")),
        "user" | "invitation" => Some("/admin/users".to_string()),
        "security_alert" => Some("/admin/alerts".to_string()),
        _ => None,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    nav: Option<Nav>,
    actions_chosen: usize,
    action_options: Vec<Choice>,
    actor_options: Vec<Choice>,
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
    /// Repeated or comma-separated: any of them.
    action: Vec<String>,
    actor_id: String,
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
    let chosen_actions: Vec<String> = filters
        .action
        .iter()
        .flat_map(|a| a.split(','))
        .map(|a| a.trim().to_uppercase())
        .filter(|a| !a.is_empty())
        .collect();
    let actor_id = match filters.actor_id.trim() {
        "" => None,
        text => match uuid::Uuid::parse_str(text) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(vulntrack_domain::validation::FieldError::new("actor_id", "invalid", "must be a member"));
                None
            }
        },
    };
    let query = AuditQuery {
        actor_id,
        actions: chosen_actions.clone(),
        entity_type: Some(filters.entity_type.trim().to_string()).filter(|e| !e.is_empty()),
        since: day("since", &filters.since, &mut errors),
        until: day("until", &filters.until, &mut errors).map(|d| d + chrono::Duration::days(1)),
        before_seq: filters.before,
        limit: PAGE + 1,
        ..AuditQuery::default()
    };
    let filter = {
        let mut filter = url::form_urlencoded::Serializer::new(String::new());
        for action in &chosen_actions {
            filter.append_pair("action", action);
        }
        for (name, value) in [
            ("actor_id", &filters.actor_id),
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
    let members = vulntrack_store::users::list(state.db().conn(), user.principal.scope()).await?;
    let name_of = |id: Option<uuid::Uuid>| members.iter().find(|m| Some(m.id.as_uuid()) == id).map(|m| m.name.clone());
    let page = AuditPage {
        nav: Some(user.nav.clone()),
        filter_query: if filter.is_empty() { String::new() } else { format!("&{filter}") },
        action_options: vulntrack_domain::AuditAction::names()
            .into_iter()
            .map(|name| Choice {
                value: name.to_string(),
                label: super::format::label(name),
                selected: chosen_actions.iter().any(|a| a == name),
            })
            .collect(),
        actor_options: members
            .iter()
            .map(|m| Choice {
                value: m.id.to_string(),
                label: format!("{} ({})", m.name, m.email),
                selected: m.id.to_string() == filters.actor_id.trim(),
            })
            .collect(),
        actions_chosen: chosen_actions.len(),
        entity_type: filters.entity_type,
        since: filters.since,
        until: filters.until,
        rows: rows
            .into_iter()
            .map(|r| AuditRow {
                seq: r.seq,
                at: r.created_at,
                who: name_of(r.actor_id)
                    .or_else(|| r.actor_email.clone())
                    .unwrap_or_else(|| r.actor_kind.to_lowercase()),
                entity_href: entity_href(r.entity_type.as_deref(), r.entity_id.as_deref()),
                entity: [r.entity_type.as_deref().map(super::format::label), r.entity_id.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
                changes: changes_of(&r.details),
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

//! The list: filters, search and paging kept in the URL; bulk changes.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use axum_extra::extract::Query;
use serde_json::{Map, Value, json};
use vulntrack_domain::{
    Action,
    vulnerability::{Severity, VulnStatus},
};
use vulntrack_store::{users, vulnerabilities};

use super::{choices_of, cvss_text};
use crate::{
    app::AppState,
    http::{ClientContext, versioning::IfMatch},
    services::{
        self, ServiceError,
        vulnerability_list::{ListParams, list_query},
    },
    web::{
        format::filters,
        page::{Choice, Nav, PageError, WebUser},
    },
};

pub struct Row {
    key: String,
    title: String,
    severity: Severity,
    status: VulnStatus,
    cvss: String,
    updated: chrono::DateTime<chrono::Utc>,
}

#[derive(Template, WebTemplate)]
#[template(path = "vulnerabilities/list.html")]
pub struct ListPage {
    nav: Option<Nav>,
    q: String,
    severity_options: Vec<Choice>,
    status_options: Vec<Choice>,
    sort_options: Vec<Choice>,
    rows: Vec<Row>,
    next_link: Option<String>,
    errors: Vec<String>,
    can_write: bool,
    notice: Option<String>,
    bulk_statuses: Vec<Choice>,
    assignees: Vec<Choice>,
}

const SORTS: &[(&str, &str)] = &[
    ("-created", "Newest first"),
    ("created", "Oldest first"),
    ("-updated", "Recently updated"),
    ("-severity", "Most severe first"),
    ("severity", "Least severe first"),
    ("-cvss", "Highest CVSS first"),
    ("cvss", "Lowest CVSS first"),
];

pub async fn list(
    State(state): State<AppState>,
    user: WebUser,
    Query(params): Query<ListParams>,
) -> Result<Response, PageError> {
    list_page(&state, &user, &params, None).await
}

async fn list_page(
    state: &AppState,
    user: &WebUser,
    params: &ListParams,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let principal = &user.principal;
    let members = users::list(state.db().conn(), principal.scope()).await?;
    let first = |values: &[String]| values.first().cloned().unwrap_or_default();
    let mut page = ListPage {
        nav: Some(user.nav.clone()),
        q: params.q.clone().unwrap_or_default(),
        severity_options: choices_of(&Severity::names(), &first(&params.severity)),
        status_options: choices_of(&VulnStatus::names(), &first(&params.status)),
        sort_options: Choice::list(SORTS, params.sort.as_deref().unwrap_or("-created")),
        rows: Vec::new(),
        next_link: None,
        errors: Vec::new(),
        can_write: principal.may(Action::WriteVulnerabilities),
        notice,
        bulk_statuses: choices_of(&VulnStatus::names(), ""),
        assignees: members
            .into_iter()
            .map(|m| Choice { value: m.id.to_string(), label: m.name, selected: false })
            .collect(),
    };
    let (query, sort_name) = match list_query(state, principal, params) {
        Ok(parsed) => parsed,
        Err(ServiceError::Invalid(errors)) => {
            page.errors = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
        Err(other) => return Err(other.into()),
    };
    let found = vulnerabilities::list(state.db().conn(), principal.scope(), &query).await?;
    page.rows = found
        .items
        .into_iter()
        .map(|v| Row {
            key: v.key(),
            severity: v.record.severity,
            status: v.record.status,
            cvss: cvss_text(v.record.cvss_score),
            title: v.record.title,
            updated: v.updated_at,
        })
        .collect();
    page.next_link = found.next.map(|position| {
        let cursor = state.cursors().encode(principal.user.team_id, &sort_name, &position);
        let mut link = url::form_urlencoded::Serializer::new(String::new());
        for (name, values) in [("severity", &params.severity), ("status", &params.status)] {
            for value in values.iter().filter(|v| !v.is_empty()) {
                link.append_pair(name, value);
            }
        }
        // Every filter of this page, so the next one lists the same set.
        for (name, value) in [
            ("q", &params.q),
            ("sort", &params.sort),
            ("tag", &params.tag),
            ("assignee_id", &params.assignee_id),
            ("kind", &params.kind),
            ("cve_id", &params.cve_id),
            ("created_after", &params.created_after),
            ("created_before", &params.created_before),
            ("limit", &params.limit),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                link.append_pair(name, value);
            }
        }
        link.append_pair("cursor", &cursor);
        format!("/vulnerabilities?{}", link.finish())
    });
    Ok(page.into_response())
}

/// Applies one status and/or assignee to every selected record, each
/// through the same update service (and audit rows) as a single edit.
/// The most records one bulk change may touch.
pub const BULK_MAX: usize = 500;

pub async fn bulk(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let value =
        |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let ids: Vec<String> = pairs.iter().filter(|(k, _)| k == "ids").map(|(_, v)| v.clone()).collect();
    let mut body = Map::new();
    match value("status").as_str() {
        "" => {}
        status => {
            body.insert("status".into(), json!(status));
        }
    }
    match value("assignee_id").as_str() {
        "" => {}
        "none" => {
            body.insert("assignee_id".into(), Value::Null);
        }
        assignee => {
            body.insert("assignee_id".into(), json!(assignee));
        }
    }
    let params = ListParams::default();
    if ids.is_empty() || body.is_empty() {
        return list_page(&state, &user, &params, Some("Select records and a change to apply.".into())).await;
    }
    if ids.len() > BULK_MAX {
        let mut page =
            list_page(&state, &user, &params, Some(format!("Select at most {BULK_MAX} records at once."))).await?;
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(page);
    }
    // A bulk change costs what the same changes made one by one would.
    let budget = crate::ratelimit::middleware::api_bucket(user.principal.user.id.as_uuid());
    let count = u32::try_from(ids.len()).unwrap_or(u32::MAX);
    let decision = state.rate_limiter().check_n(&budget, state.config().rate_limit_api, count).await;
    if !decision.allowed {
        let message = format!(
            "Changing {count} records at once is over your request budget right now; try again in {} s or select fewer.",
            decision.reset.as_secs().max(1)
        );
        let mut page = list_page(&state, &user, &params, Some(message)).await?;
        decision.annotate_refusal(page.headers_mut());
        *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return Ok(page);
    }
    let body = Value::Object(body);
    let mut changed = 0;
    for id in &ids {
        match services::vulnerabilities::update(&state, &user.principal, &context, id, &body, &IfMatch::Absent).await {
            Ok(_) => changed += 1,
            Err(ServiceError::Invalid(errors)) => {
                let reason =
                    errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
                return list_page(&state, &user, &params, Some(format!("{changed} changed; {id} refused: {reason}")))
                    .await;
            }
            Err(other) => return Err(other.into()),
        }
    }
    list_page(&state, &user, &params, Some(format!("{changed} vulnerabilities changed."))).await
}

//! `/triage`: the queue of what nobody has taken yet (open, unassigned),
//! most severe first, marking what arrived since the user last looked;
//! each row is assigned, started, resolved with its reason or accepted
//! where it stands, through the same update service as everywhere else.
//! Plain forms; the keyboard (j/k, a, s, r, Enter) is a script's bonus.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde_json::json;
use vulntrack_domain::{
    Action,
    vulnerability::{Resolution, Severity, VulnStatus},
};
use vulntrack_store::{
    users,
    vulnerabilities::{self, Assignees, Direction, ListQuery, Sort},
};

use crate::{
    app::AppState,
    http::{ClientContext, versioning::IfMatch},
    services::{self, ServiceError},
    web::{
        flash::{self, Flash},
        format::filters,
        page::{Choice, Nav, PageError, WebUser, form_messages},
    },
};

/// Rows the queue shows at once (the rest follow as these are taken).
const QUEUE_SIZE: u64 = 50;

pub struct QueueRow {
    key: String,
    title: String,
    severity: Severity,
    assets: String,
    created: DateTime<Utc>,
    due: Option<DateTime<Utc>>,
    /// Arrived since the user last looked at the queue (all of it, the first time).
    new: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "triage.html")]
pub struct TriagePage {
    nav: Option<Nav>,
    rows: Vec<QueueRow>,
    /// How many records are in the queue in all.
    total: u64,
    new_count: usize,
    can_write: bool,
    statuses: Vec<Choice>,
    resolutions: Vec<Choice>,
    errors: Vec<String>,
}

/// The queue: open, unassigned records of the team.
fn queue() -> ListQuery {
    ListQuery {
        statuses: vec![VulnStatus::Open],
        assignees: Assignees { users: Vec::new(), nobody: true },
        sort: Sort::Severity(Direction::Desc),
        limit: QUEUE_SIZE,
        ..ListQuery::default()
    }
}

async fn triage_page(state: &AppState, user: &WebUser, errors: Vec<String>) -> Result<Response, PageError> {
    let db = state.db().conn();
    let scope = user.principal.scope();
    let query = queue();
    let page = vulnerabilities::list(db, scope, &query).await?;
    let total = vulnerabilities::count_matching(db, scope, &query).await?;
    // Only a look that shows the queue as it is moves "last looked".
    let seen = if errors.is_empty() {
        users::look_at_triage(db, scope, user.principal.user.id, Utc::now()).await?
    } else {
        None
    };
    let rows: Vec<QueueRow> = page
        .items
        .into_iter()
        .map(|v| QueueRow {
            key: v.key(),
            new: seen.is_none_or(|seen| v.created_at > seen),
            title: v.record.title,
            severity: v.record.severity,
            assets: v.record.assets.join(", "),
            created: v.created_at,
            due: v.deadlines.map(|d| d.due_at),
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = TriagePage {
        nav: Some(user.nav.clone()),
        new_count: rows.iter().filter(|r| r.new).count(),
        rows,
        total,
        can_write: user.principal.may(Action::WriteVulnerabilities),
        statuses: [VulnStatus::InProgress, VulnStatus::Resolved, VulnStatus::Closed]
            .iter()
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: super::format::label(s.as_str()),
                selected: *s == VulnStatus::Resolved,
            })
            .collect(),
        resolutions: Resolution::ALL
            .iter()
            .filter(|r| **r != Resolution::Duplicate)
            .map(|r| Choice { value: r.as_str().to_owned(), label: r.label().to_owned(), selected: false })
            .collect(),
        errors,
    };
    Ok((status, page).into_response())
}

pub async fn triage(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    triage_page(&state, &user, Vec::new()).await
}

#[derive(Debug, serde::Deserialize)]
pub struct TriageForm {
    /// `assign` (to oneself) or `status`.
    action: String,
    #[serde(flatten)]
    change: super::vulnerabilities::StatusForm,
}

/// One row's action, then back to the queue (with the reasons on it when
/// the change is refused).
pub async fn act(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(key): Path<String>,
    Form(form): Form<TriageForm>,
) -> Result<Response, PageError> {
    let body = match form.action.as_str() {
        "assign" => json!({ "assignee_id": user.principal.user.id }),
        "status" => form.change.body(),
        _ => return triage_page(&state, &user, vec!["Choose an action: assign, or a status.".into()]).await,
    };
    match services::vulnerabilities::update(&state, &user.principal, &context, &key, &body, &IfMatch::Absent).await {
        Ok(changed) => {
            let note = if changed.acceptance_requested.is_some() { Flash::AcceptanceRequested } else { Flash::Saved };
            Ok(flash::redirect("/triage", note))
        }
        Err(error @ (ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            let messages = form_messages(error)?.into_iter().map(|m| format!("{key}: {m}")).collect();
            triage_page(&state, &user, messages).await
        }
        Err(other) => Err(other.into()),
    }
}

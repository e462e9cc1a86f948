//! The list: filters, search, sort, columns and paging kept in the URL;
//! saved views; bulk changes that come back to the same list.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};
use uuid::Uuid;
use vulntrack_domain::{
    Action,
    vulnerability::{Severity, VulnKind, VulnStatus, sla::SlaState},
};
use vulntrack_store::{users, vulnerabilities};

use super::cvss_text;
use crate::{
    app::AppState,
    http::ClientContext,
    services::{
        self, ServiceError,
        vulnerability_list::{
            COLUMN_PARAM, COLUMNS, DEFAULT_COLUMNS, ListParams, canonical_columns, each_value, list_query,
        },
    },
    web::{
        flash::{self, Flash},
        format::{self, filters},
        page::{Choice, Nav, PageError, WebUser, field_message, form_messages},
    },
};

/// One shown column and its heading, a sort link where the list can be
/// ordered by it.
pub struct Column {
    name: &'static str,
    label: &'static str,
    sort_href: Option<String>,
    /// `ascending`/`descending` when the list is sorted by this column.
    aria_sort: Option<&'static str>,
}

pub struct Row {
    key: String,
    title: String,
    severity: Severity,
    status: VulnStatus,
    kind: VulnKind,
    cvss: String,
    assignee: Option<String>,
    assets: String,
    tags: Vec<String>,
    cve_id: Option<String>,
    created: chrono::DateTime<chrono::Utc>,
    updated: chrono::DateTime<chrono::Utc>,
    /// The SLA's due time, and "overdue" or "due soon" while open.
    due: Option<chrono::DateTime<chrono::Utc>>,
    due_note: Option<&'static str>,
    priority: i16,
    known_exploited: bool,
    /// The EPSS probability as a percentage.
    epss: Option<String>,
}

/// A multi-select filter: a checkbox per value inside a disclosure.
pub struct FilterMenu {
    name: &'static str,
    label: &'static str,
    options: Vec<Choice>,
    active: usize,
}

/// An active filter value, removable on its own.
pub struct Chip {
    label: String,
    remove_href: String,
}

pub struct ViewLink {
    id: Uuid,
    name: String,
    href: String,
    shared: bool,
    current: bool,
    deletable: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "vulnerabilities/list.html")]
pub struct ListPage {
    nav: Option<Nav>,
    q: String,
    tags_text: String,
    cve_id: String,
    created_after: String,
    created_before: String,
    /// The known-exploited filter is on.
    kev: bool,
    epss_min: String,
    more_active: usize,
    limit: Option<String>,
    menus: Vec<FilterMenu>,
    sort_options: Vec<Choice>,
    column_options: Vec<Choice>,
    columns: Vec<Column>,
    chips: Vec<Chip>,
    clear_href: Option<String>,
    total: u64,
    rows: Vec<Row>,
    next_link: Option<String>,
    prev_link: Option<String>,
    errors: Vec<String>,
    can_write: bool,
    can_share: bool,
    notice: Option<String>,
    bulk_statuses: Vec<Choice>,
    /// Why, for a RESOLVED or CLOSED status.
    bulk_resolutions: Vec<Choice>,
    assignees: Vec<Choice>,
    /// The query of this very page (filters, columns, cursor): where a bulk
    /// change comes back to.
    here: String,
    /// The query a saved view of this page stores (no cursor).
    view_query: String,
    views: Vec<ViewLink>,
    any_deletable: bool,
    /// Downloads of every record these filters match, in this sort.
    exports: Vec<ExportLink>,
}

pub struct ExportLink {
    href: String,
    label: &'static str,
}

/// The export API's formats, as the list's Export menu offers them.
const EXPORTS: &[(&str, &str)] = &[
    ("format=csv", "CSV"),
    ("format=csv&bom=true", "CSV for Excel"),
    ("format=xlsx", "Excel workbook (XLSX)"),
    ("format=jsonl", "JSON Lines"),
    ("format=sarif", "SARIF 2.1.0"),
    ("format=cyclonedx", "CycloneDX VEX (findings in a component)"),
];

/// The export links for the list's filters and sort (the page size aside:
/// an export holds every matching record).
fn export_links(params: &ListParams) -> Vec<ExportLink> {
    let pairs: Vec<(&str, String)> = params.filter_pairs().into_iter().filter(|(n, _)| *n != "limit").collect();
    let filters = query_of(pairs.iter().map(|(n, v)| (*n, v.as_str())));
    EXPORTS
        .iter()
        .map(|(format, label)| {
            let href = if filters.is_empty() {
                format!("/api/v1/vulnerabilities/export?{format}")
            } else {
                format!("/api/v1/vulnerabilities/export?{format}&{filters}")
            };
            ExportLink { href, label }
        })
        .collect()
}

const SORTS: &[(&str, &str)] = &[
    ("-created", "Newest first"),
    ("created", "Oldest first"),
    ("-updated", "Recently updated"),
    ("-severity", "Most severe first"),
    ("severity", "Least severe first"),
    ("-cvss", "Highest CVSS first"),
    ("cvss", "Lowest CVSS first"),
    ("due", "Due soonest first"),
    ("-due", "Due latest first"),
    ("-priority", "Highest priority first"),
    ("-epss", "Most likely exploited first (EPSS)"),
];

/// The list order a column's heading sorts by.
fn sort_key_of(column: &str) -> Option<&'static str> {
    match column {
        "key" => Some("created"),
        "severity" => Some("severity"),
        "cvss" => Some("cvss"),
        "updated" => Some("updated"),
        "due" => Some("due"),
        "priority" => Some("priority"),
        "epss" => Some("epss"),
        _ => None,
    }
}

/// The page's state as the URL gives it: the list's parameters and the
/// chosen columns.
struct PageQuery {
    params: ListParams,
    columns: Vec<&'static str>,
}

impl PageQuery {
    fn parse(raw: Option<&str>) -> Self {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
        let (params, rest) = ListParams::from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let mut columns: Vec<&'static str> = Vec::new();
        for (name, value) in rest {
            if name == COLUMN_PARAM
                && let Some((column, _)) = COLUMNS.iter().find(|(c, _)| *c == value)
                && !columns.contains(column)
            {
                columns.push(column);
            }
        }
        Self { params, columns }
    }

    /// The columns to show, in the list's order; the defaults if none.
    fn shown(&self) -> Vec<&'static str> {
        if self.columns.is_empty() {
            return COLUMNS[..DEFAULT_COLUMNS].iter().map(|(c, _)| *c).collect();
        }
        COLUMNS.iter().map(|(c, _)| *c).filter(|c| self.columns.contains(c)).collect()
    }

    /// Filters, sort, page size and chosen columns (the defaults stay
    /// implicit), without any cursor.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = self.params.filter_pairs();
        pairs.extend(canonical_columns(self.shown()).into_iter().map(|c| (COLUMN_PARAM, c.to_string())));
        pairs
    }

    /// [`Self::pairs`] and the page's cursor: this very page, where a form
    /// posted from it comes back to.
    fn here_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = self.pairs();
        for (name, value) in [("cursor", &self.params.cursor), ("before", &self.params.before)] {
            if let Some(value) = value.clone().filter(|v| !v.is_empty()) {
                pairs.push((name, value));
            }
        }
        pairs
    }
}

fn query_of<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

fn href_of(pairs: &[(&str, String)]) -> String {
    let query = query_of(pairs.iter().map(|(n, v)| (*n, v.as_str())));
    if query.is_empty() { "/vulnerabilities".to_string() } else { format!("/vulnerabilities?{query}") }
}

pub async fn list(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    list_page(&state, &user, &PageQuery::parse(raw.as_deref()), None, Vec::new()).await
}

async fn list_page(
    state: &AppState,
    user: &WebUser,
    page_query: &PageQuery,
    notice: Option<String>,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let principal = &user.principal;
    let params = &page_query.params;
    let members = users::list(state.db().conn(), principal.scope()).await?;
    let pairs = page_query.pairs();
    let active =
        |name: &str| -> Vec<String> { pairs.iter().filter(|(n, _)| *n == name).map(|(_, v)| v.clone()).collect() };
    let checked = |name: &str, options: Vec<(String, String)>| {
        let values = active(name);
        let options: Vec<Choice> = options
            .into_iter()
            .map(|(value, label)| Choice { selected: values.contains(&value), value, label })
            .collect();
        (options, values.len())
    };
    let names = |values: Vec<&'static str>| values.into_iter().map(|v| (v.to_string(), format::label(v))).collect();
    let mut assignee_options =
        vec![("me".to_string(), "Me".to_string()), ("none".to_string(), "Unassigned".to_string())];
    assignee_options.extend(members.iter().map(|m| (m.id.to_string(), m.name.clone())));
    let menus = [
        ("severity", "Severity", names(Severity::names())),
        ("status", "Status", names(VulnStatus::names())),
        ("assignee_id", "Assignee", assignee_options),
        ("kind", "Kind", names(VulnKind::names())),
    ]
    .into_iter()
    .map(|(name, label, options)| {
        let (options, active) = checked(name, options);
        FilterMenu { name, label, options, active }
    })
    .collect();
    let member_name = |id: &str| match id {
        "me" => "Me".to_string(),
        "none" => "Unassigned".to_string(),
        other => members
            .iter()
            .find(|m| m.id.to_string() == other)
            .map_or_else(|| "someone no longer in the team".to_string(), |m| m.name.clone()),
    };
    let is_filter = |name: &str| !matches!(name, "sort" | "limit" | COLUMN_PARAM);
    let chips: Vec<Chip> = pairs
        .iter()
        .filter(|(name, _)| is_filter(name))
        .map(|(name, value)| {
            let label = match *name {
                "severity" => format!("Severity: {}", format::label(value)),
                "status" => format!("Status: {}", format::label(value)),
                "kind" => format!("Kind: {}", format::label(value)),
                "assignee_id" => format!("Assignee: {}", member_name(value)),
                "tag" => format!("Tag: {value}"),
                "asset" => format!("Asset: {value}"),
                "q" => format!("Search: {value}"),
                "cve_id" => format!("CVE: {value}"),
                "created_after" => format!("Created from: {value}"),
                "created_before" => format!("Created before: {value}"),
                "kev" if value.eq_ignore_ascii_case("true") => "Known exploited".to_string(),
                "kev" => "Not known exploited".to_string(),
                "epss_min" => format!("EPSS at least {value}"),
                other => format!("{other}: {value}"),
            };
            let kept = pairs.iter().filter(|(n, v)| !(n == name && v == value)).cloned().collect::<Vec<_>>();
            Chip { label, remove_href: href_of(&kept) }
        })
        .collect();
    let clear_href =
        (!chips.is_empty()).then(|| href_of(&pairs.iter().filter(|(n, _)| !is_filter(n)).cloned().collect::<Vec<_>>()));
    let sort_name = params.sort.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "-created".into());
    let shown = page_query.shown();
    let columns = shown
        .iter()
        .map(|name| {
            let label = COLUMNS.iter().find(|(c, _)| c == name).map_or("", |(_, l)| *l);
            let key = sort_key_of(name);
            let aria_sort = key.and_then(|key| {
                if sort_name == key {
                    Some("ascending")
                } else if sort_name.strip_prefix('-') == Some(key) {
                    Some("descending")
                } else {
                    None
                }
            });
            let sort_href = key.map(|key| {
                let next = if aria_sort == Some("descending") { key.to_string() } else { format!("-{key}") };
                let mut kept: Vec<_> = pairs.iter().filter(|(n, _)| *n != "sort").cloned().collect();
                kept.push(("sort", next));
                href_of(&kept)
            });
            Column { name, label, sort_href, aria_sort }
        })
        .collect();
    let view_query = query_of(pairs.iter().map(|(n, v)| (*n, v.as_str())));
    let here = query_of(page_query.here_pairs().iter().map(|(n, v)| (*n, v.as_str())));
    let views: Vec<ViewLink> = services::saved_views::visible(state, principal)
        .await?
        .into_iter()
        .map(|view| ViewLink {
            id: view.id,
            href: if view.query.is_empty() {
                "/vulnerabilities".into()
            } else {
                format!("/vulnerabilities?{}", view.query)
            },
            current: view.query == view_query,
            deletable: view.owner_id == principal.user.id || principal.may(Action::ManageTeam),
            shared: view.shared,
            name: view.name,
        })
        .collect();
    let mut page = ListPage {
        nav: Some(user.nav.clone()),
        q: params.q.clone().unwrap_or_default(),
        tags_text: each_value(&params.tag).collect::<Vec<_>>().join(", "),
        cve_id: params.cve_id.clone().unwrap_or_default(),
        created_after: params.created_after.clone().unwrap_or_default(),
        created_before: params.created_before.clone().unwrap_or_default(),
        kev: params.kev.as_deref().is_some_and(|k| k.trim().eq_ignore_ascii_case("true")),
        epss_min: params.epss_min.clone().unwrap_or_default(),
        more_active: [&params.cve_id, &params.created_after, &params.created_before, &params.kev, &params.epss_min]
            .into_iter()
            .filter(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()))
            .count(),
        limit: params.limit.clone().filter(|l| !l.is_empty()),
        menus,
        sort_options: Choice::list(SORTS, &sort_name),
        column_options: COLUMNS
            .iter()
            .map(|(value, label)| Choice {
                value: value.to_string(),
                label: label.to_string(),
                selected: shown.contains(value),
            })
            .collect(),
        columns,
        chips,
        clear_href,
        total: 0,
        rows: Vec::new(),
        next_link: None,
        prev_link: None,
        errors,
        can_write: principal.may(Action::WriteVulnerabilities),
        can_share: principal.may(Action::WriteVulnerabilities),
        notice,
        bulk_statuses: super::choices_of(&VulnStatus::names(), ""),
        bulk_resolutions: vulntrack_domain::vulnerability::Resolution::ALL
            .iter()
            .map(|r| Choice { value: r.as_str().to_owned(), label: r.label().to_owned(), selected: false })
            .collect(),
        assignees: members
            .iter()
            .map(|m| Choice { value: m.id.to_string(), label: m.name.clone(), selected: false })
            .collect(),
        here,
        view_query,
        any_deletable: views.iter().any(|v: &ViewLink| v.deletable),
        views,
        exports: export_links(params),
    };
    let (query, sort_name) = match list_query(state, principal, params) {
        Ok(parsed) => parsed,
        Err(ServiceError::Invalid(invalid)) => {
            page.errors.extend(invalid.iter().map(field_message));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
        Err(other) => return Err(other.into()),
    };
    let db = state.db().conn();
    let found = vulnerabilities::list(db, principal.scope(), &query).await?;
    // A first page that is also the last already holds every match.
    page.total = if found.prev.is_none() && found.next.is_none() {
        found.items.len() as u64
    } else {
        vulnerabilities::count_matching(db, principal.scope(), &query).await?
    };
    page.rows = found
        .items
        .into_iter()
        .map(|v| {
            let assignee = v.record.assignee_id.map(|id| {
                members.iter().find(|m| m.id == id).map_or_else(|| "former member".to_string(), |m| m.name.clone())
            });
            let open = !v.record.is_resolved();
            Row {
                key: v.key(),
                severity: v.record.severity,
                status: v.record.status,
                kind: v.record.kind,
                cvss: cvss_text(v.record.cvss_score),
                assignee,
                assets: v.record.assets.join(", "),
                tags: v.record.tags.clone(),
                cve_id: v.record.cve_id.clone(),
                title: v.record.title,
                created: v.created_at,
                updated: v.updated_at,
                due: v.deadlines.map(|d| d.due_at),
                due_note: v.deadlines.filter(|_| open).and_then(|d| match d.state(chrono::Utc::now()) {
                    SlaState::Breached => Some("overdue"),
                    SlaState::DueSoon => Some("due soon"),
                    SlaState::OnTrack => None,
                }),
                priority: v.intel.priority,
                known_exploited: v.intel.known_exploited,
                epss: v.intel.epss.map(|e| format!("{:.1} %", e * 100.0)),
            }
        })
        .collect();
    let page_link = |name: &'static str, position| {
        let cursor = state.cursors().encode(principal.user.team_id, &sort_name, &position);
        let mut link = pairs.clone();
        link.push((name, cursor));
        href_of(&link)
    };
    page.next_link = found.next.map(|position| page_link("cursor", position));
    page.prev_link = found.prev.map(|position| page_link("before", position));
    Ok(page.into_response())
}

/// Where a form posted from the list comes back to: the list with the
/// same parameters, rebuilt from the names the list knows (the path is
/// fixed, so the field cannot send anyone elsewhere).
fn back_to_list(fields: &[(String, String)]) -> PageQuery {
    let here = fields.iter().find(|(k, _)| k == "return").map(|(_, v)| v.as_str());
    PageQuery::parse(here)
}

fn here_href(page_query: &PageQuery) -> String {
    href_of(&page_query.here_pairs())
}

/// Applies one status and/or assignee to every selected record through
/// the bulk service (one transaction; each record audited as a single
/// edit), then returns to the list as it was, naming any record refused.
pub async fn bulk(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let value =
        |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let ids: Vec<String> = pairs.iter().filter(|(k, _)| k == "ids").map(|(_, v)| v.clone()).collect();
    let mut change = Map::new();
    match value("status").as_str() {
        "" => {}
        status => {
            change.insert("status".into(), json!(status));
            if matches!(status, "RESOLVED" | "CLOSED") {
                let resolution = Some(value("resolution")).filter(|r| !r.is_empty());
                change.insert("resolution".into(), json!(resolution));
            }
        }
    }
    match value("assignee_id").as_str() {
        "" => {}
        "none" => {
            change.insert("assignee_id".into(), Value::Null);
        }
        assignee => {
            change.insert("assignee_id".into(), json!(assignee));
        }
    }
    let back = back_to_list(&pairs);
    let shown = |status: StatusCode, messages: Vec<String>| {
        let (state, user, back) = (&state, &user, &back);
        async move {
            let mut page = list_page(state, user, back, None, messages).await?;
            *page.status_mut() = status;
            Ok::<_, PageError>(page)
        }
    };
    if ids.is_empty() || change.is_empty() {
        let message = "Select records, and a status or an assignee to give them.".to_string();
        return shown(StatusCode::UNPROCESSABLE_ENTITY, vec![message]).await;
    }
    let body = json!({ "ids": ids, "change": change });
    let outcomes = match services::bulk_changes::apply(&state, &user.principal, &context, &body).await {
        Ok(outcomes) => outcomes,
        Err(ServiceError::RateLimited { retry_after_seconds }) => {
            let message = format!(
                "Changing {} records at once is over your request budget right now; try again in {retry_after_seconds} s or select fewer.",
                ids.len()
            );
            let mut page = shown(StatusCode::TOO_MANY_REQUESTS, vec![message]).await?;
            if let Ok(value) = axum::http::HeaderValue::from_str(&retry_after_seconds.to_string()) {
                page.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
            }
            return Ok(page);
        }
        Err(ServiceError::Invalid(errors)) => {
            let messages = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            return shown(StatusCode::UNPROCESSABLE_ENTITY, messages).await;
        }
        Err(other) => return Err(other.into()),
    };
    let changed = outcomes.iter().filter(|o| o.result.is_ok()).count();
    let refusals: Vec<String> = outcomes
        .iter()
        .filter_map(|o| o.refusal().map(|why| format!("{} was not changed: {why}", o.requested)))
        .collect();
    if refusals.is_empty() {
        return Ok(flash::redirect(&here_href(&back), Flash::Changed(u32::try_from(changed).unwrap_or(u32::MAX))));
    }
    let mut messages = vec![format!("{changed} changed, {} refused.", refusals.len())];
    messages.extend(refusals);
    let status = if changed == 0 { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    shown(status, messages).await
}

/// Saves the list as it is shown under a name, for the user or the team.
pub async fn save_view(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let back = back_to_list(&pairs);
    let shared = value("shared") == "on";
    match services::saved_views::create(&state, &user.principal, &context, &value("name"), &value("return"), shared)
        .await
    {
        Ok(view) => {
            let to = if view.query.is_empty() {
                "/vulnerabilities".to_string()
            } else {
                format!("/vulnerabilities?{}", view.query)
            };
            Ok(flash::redirect(&to, Flash::ViewSaved))
        }
        Err(error) => {
            let messages = form_messages(error)?;
            let mut page = list_page(&state, &user, &back, None, messages).await?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
    }
}

pub async fn delete_view(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = crate::http::path_id(&id)?;
    services::saved_views::delete(&state, &user.principal, &context, id).await?;
    Ok(flash::redirect(&here_href(&back_to_list(&pairs)), Flash::ViewDeleted))
}

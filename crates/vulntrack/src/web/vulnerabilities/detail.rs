//! The detail page: the record, its risk ratings, comments and history,
//! with the changes made from it (status, assignee, comments).

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde_json::{Value, json};
use uuid::Uuid;
use vulntrack_domain::{
    Action, AuditAction, UserId, UserStatus, ValidationErrors,
    vulnerability::{
        Resolution, Severity, VulnKind, VulnStatus,
        cvss_score::{self, CvssMetric},
        risk::{Dread, Stride},
        sla::SlaState,
    },
};
use vulntrack_store::{
    audit::{self, AuditRecord},
    comments::{self, Comment},
    notifications, risk_acceptances, users,
    vulnerabilities::{self, Vulnerability},
};

use super::{StrideInput, choices_of, cvss_text};
use crate::{
    app::AppState,
    http::{ClientContext, path_id, versioning::IfMatch},
    services::{self, ServiceError},
    web::{
        flash::{self, Flash},
        format::{filters, label},
        markdown,
        page::{Choice, Nav, PageError, WebUser},
    },
};

pub struct DetailView {
    key: String,
    title: String,
    severity: Severity,
    status: VulnStatus,
    /// Why it is resolved, as a person reads it.
    resolution: Option<&'static str>,
    resolution_note: Option<String>,
    /// The key of the record it duplicates.
    duplicate_of: Option<String>,
    risk_accepted_until: Option<chrono::NaiveDate>,
    acceptance_expired: bool,
    /// When the SLA wants it remediated, and where it stands (open) or
    /// whether it made it (resolved).
    due: Option<chrono::DateTime<chrono::Utc>>,
    sla: Option<&'static str>,
    kind: VulnKind,
    cve_id: Option<String>,
    cvss: String,
    assignee: String,
    reporter: String,
    created: chrono::DateTime<chrono::Utc>,
    updated: chrono::DateTime<chrono::Utc>,
    assets: Vec<String>,
    references: Vec<String>,
    tags: Vec<String>,
    /// What a scanner reported, for an imported record.
    scan: Option<vulntrack_domain::vulnerability::scanner::ScannerFields>,
    /// 0–100 (severity, exploitation, EPSS, asset).
    priority: i16,
    known_exploited: bool,
}

/// What the CVE catalogue says of the record's CVE.
pub struct IntelCard {
    cve_id: String,
    kev: Option<vulntrack_store::cves::KevFields>,
    /// The EPSS probability and percentile as percentages, and the date.
    epss: Option<(String, String, Option<chrono::NaiveDate>)>,
    description: Option<String>,
    published: Option<chrono::DateTime<chrono::Utc>>,
    cwe_ids: Vec<u32>,
    references: Vec<String>,
    /// The NVD's vector, scored by us, when the record has none of its own.
    nvd_cvss: Option<CvssCard>,
    /// The NVD's own base score beside it, when it differs from ours.
    nvd_score_differs: Option<String>,
}

/// References shown on the card; the rest are one link away at the NVD.
const INTEL_REFERENCES: usize = 8;

impl IntelCard {
    fn of(cve: vulntrack_store::cves::Cve, record_has_vector: bool) -> Self {
        let nvd = cve.nvd.unwrap_or_default();
        let cvss = nvd.cvss_v4.or(nvd.cvss_v3);
        let nvd_cvss = cvss.as_ref().filter(|_| !record_has_vector).and_then(|c| CvssCard::of(&c.vector));
        let nvd_score_differs = cvss
            .as_ref()
            .filter(|_| !record_has_vector)
            .and_then(|c| c.nvd_score.filter(|nvd| c.score.is_none_or(|ours| (ours - nvd).abs() >= 0.05)))
            .map(|nvd| format!("{nvd:.1}"));
        Self {
            cve_id: cve.id,
            kev: cve.kev,
            epss: cve
                .epss
                .map(|e| (format!("{:.1} %", e.score * 100.0), format!("{:.0}", e.percentile * 100.0), e.date)),
            description: nvd.description,
            published: nvd.published_at,
            cwe_ids: nvd.cwe_ids,
            references: nvd.references.into_iter().take(INTEL_REFERENCES).collect(),
            nvd_cvss,
            nvd_score_differs,
        }
    }
}

/// The CVSS card: the vector's score and rating, and each metric in words.
pub struct CvssCard {
    version: &'static str,
    vector: String,
    score: String,
    /// NONE, LOW, MEDIUM, HIGH or CRITICAL.
    rating: &'static str,
    /// v4.0 only: what the score covers (`CVSS-B`).
    nomenclature: Option<String>,
    /// v3.x only: the impact and exploitability sub-scores.
    subscores: Option<(String, String)>,
    metrics: Vec<CvssMetric>,
}

impl CvssCard {
    fn of(vector: &str) -> Option<Self> {
        let assessed = cvss_score::assess(vector).ok()?;
        Some(Self {
            version: assessed.version,
            score: format!("{:.1}", assessed.score),
            rating: assessed.rating,
            nomenclature: assessed.nomenclature,
            subscores: assessed.subscores.map(|s| (format!("{:.1}", s.impact), format!("{:.1}", s.exploitability))),
            metrics: assessed.metrics,
            vector: assessed.vector,
        })
    }
}

pub struct Bar {
    name: &'static str,
    value: u32,
}

/// The team's members, for naming people on the page. Names, not the
/// members' emails: the member list (with emails) is for ADMINs, and every
/// role reads this page.
struct People(Vec<users::User>, std::collections::HashMap<UserId, String>);

impl People {
    /// A member's name, or the label an erased member now carries
    /// ("Deleted user #3").
    fn name(&self, id: UserId) -> Option<&str> {
        self.0.iter().find(|m| m.id == id).map(|m| m.name.as_str()).or_else(|| self.1.get(&id).map(String::as_str))
    }

    /// Whoever `id` is, "—" for nobody; someone deleted from the team is no
    /// longer among the members.
    fn named(&self, id: Option<UserId>, nobody: &str) -> String {
        match id {
            None => nobody.to_string(),
            Some(id) => self.name(id).unwrap_or("Deleted user").to_string(),
        }
    }

    /// An assignee as the audit details hold it: a user id or null.
    fn assignee(&self, value: &Value) -> String {
        let id = value.as_str().and_then(|text| Uuid::parse_str(text).ok()).map(UserId::from_uuid);
        self.named(id, "Nobody")
    }

    /// Who made an audited change: a member by name; someone since deleted
    /// is "Deleted user", as on their comments (their email stays in the
    /// audit log, for ADMINs, not on a page every role reads).
    fn actor(&self, row: &AuditRecord) -> String {
        let member = row.actor_id.and_then(|id| self.name(UserId::from_uuid(id)));
        match (member, row.actor_id, row.actor_kind.as_str()) {
            (Some(name), ..) => name.to_string(),
            (None, _, "SYSTEM") => "VulnTrack".to_string(),
            (None, _, "CLI") => "The operator".to_string(),
            (None, Some(_), _) => "Deleted user".to_string(),
            (None, None, kind) => label(kind),
        }
    }
}

pub struct ActivityItem {
    at: chrono::DateTime<chrono::Utc>,
    who: String,
    what: String,
    changes: Vec<Change>,
}

/// One changed field: `Status: Open → In progress`.
pub struct Change {
    field: String,
    /// The old and new value; `None` for long text, which is only said to
    /// have changed.
    values: Option<(String, String)>,
}

impl Change {
    fn before(&self) -> &str {
        self.values.as_ref().map_or("", |v| v.0.as_str())
    }

    fn after(&self) -> &str {
        self.values.as_ref().map_or("", |v| v.1.as_str())
    }
}

/// The record's fields in the order the page and the form show them, for
/// listing a change's fields the same way every time.
const FIELD_ORDER: [&str; 16] = [
    "title",
    "description",
    "severity",
    "status",
    "kind",
    "assignee_id",
    "cve_id",
    "cvss_vector",
    "cvss_version",
    "cvss_score",
    "dread",
    "stride",
    "assets",
    "references",
    "tags",
    "remediation",
];

fn field_name(field: &str) -> String {
    match field {
        "assignee_id" => "Assignee".into(),
        "cve_id" => "CVE".into(),
        "cvss_vector" => "CVSS vector".into(),
        "cvss_version" => "CVSS version".into(),
        "cvss_score" => "CVSS score".into(),
        "dread" => "DREAD".into(),
        "stride" => "STRIDE".into(),
        other => label(other),
    }
}

/// Longer values are cut here: the history says what changed, the record
/// says what it is now.
const SHOWN_CHARS: usize = 120;

fn shortened(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A field's value as the audit details hold it (the record's JSON), in
/// words.
fn shown(field: &str, value: &Value, people: &People) -> String {
    match (field, value) {
        ("assignee_id", value) => people.assignee(value),
        (_, Value::Null) => "—".into(),
        ("severity" | "status" | "kind" | "resolution", Value::String(name)) => label(name),
        ("cvss_score", Value::Number(score)) => score.as_f64().map_or_else(|| score.to_string(), |s| format!("{s:.1}")),
        ("dread", Value::Object(factors)) => Dread::FACTORS
            .iter()
            .map(|f| format!("{} {}", label(f), factors.get(*f).map_or_else(String::new, Value::to_string)))
            .collect::<Vec<_>>()
            .join(", "),
        ("stride", Value::Object(flags)) => {
            let on: Vec<String> = Stride::CATEGORIES
                .iter()
                .filter(|c| flags.get(**c) == Some(&Value::Bool(true)))
                .map(|c| label(c))
                .collect();
            if on.is_empty() { "None".into() } else { on.join(", ") }
        }
        (_, Value::Array(items)) if items.is_empty() => "—".into(),
        (_, Value::Array(items)) => shortened(
            &items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (_, Value::String(text)) => shortened(text),
        (_, other) => other.to_string(),
    }
}

fn change(field: &str, before: &Value, after: &Value, people: &People) -> Change {
    let values = match field {
        "description" | "remediation" => None,
        _ => Some((shown(field, before, people), shown(field, after, people))),
    };
    Change { field: field_name(field), values }
}

/// A field's name inside a sentence: `Title` → `title`, `CVSS vector` as is.
fn in_sentence(name: &str) -> String {
    let first_word = name.split(' ').next().unwrap_or_default();
    if first_word.chars().all(|c| c.is_ascii_uppercase()) { name.to_string() } else { name.to_lowercase() }
}

/// `a`, `a and b`, `a, b and c`.
fn listed(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What an audit row of the record says happened, and the fields it
/// changed (the details each action writes are in
/// `services::vulnerabilities`).
fn describe(row: &AuditRecord, people: &People) -> (String, Vec<Change>) {
    let details = &row.details;
    match row.action.parse::<AuditAction>() {
        Ok(AuditAction::VulnerabilityCreated) => ("created it".into(), Vec::new()),
        Ok(AuditAction::VulnerabilityUpdated) => {
            let mut fields: Vec<(&String, &Value)> =
                details.as_object().map(|m| m.iter().collect()).unwrap_or_default();
            fields.sort_by_key(|(field, _)| FIELD_ORDER.iter().position(|f| f == field).unwrap_or(FIELD_ORDER.len()));
            let changes: Vec<Change> =
                fields.iter().map(|(field, c)| change(field, &c["before"], &c["after"], people)).collect();
            let names: Vec<String> = changes.iter().map(|c| in_sentence(&c.field)).collect();
            (format!("changed the {}", listed(&names)), changes)
        }
        Ok(AuditAction::VulnerabilityStatusChanged) => {
            let status = &details["status"];
            // An import's automatic change says why.
            let what = match details["reason"].as_str() {
                Some(reason) => format!("changed the status: {reason}"),
                None => "changed the status".into(),
            };
            let mut changes = vec![change("status", &status["before"], &status["after"], people)];
            let resolution = &details["resolution"];
            if resolution.is_object() && resolution["before"] != resolution["after"] {
                changes.push(change("resolution", &resolution["before"], &resolution["after"], people));
            }
            (what, changes)
        }
        // On creation the row names the assignee; on a change, before and after.
        Ok(AuditAction::VulnerabilityAssigned) => match &details["assignee_id"] {
            Value::Object(c) => {
                ("changed the assignee".into(), vec![change("assignee_id", &c["before"], &c["after"], people)])
            }
            id => (format!("assigned it to {}", people.assignee(id)), Vec::new()),
        },
        Ok(AuditAction::RiskAcceptanceRequested) => {
            let until = details["accepted_until"].as_str().unwrap_or("?");
            let note = details["note"].as_str().unwrap_or_default();
            (format!("asked to accept the risk until {until} (“{note}”)"), Vec::new())
        }
        Ok(AuditAction::RiskAcceptanceApproved) => {
            let until = details["accepted_until"].as_str().unwrap_or("?");
            (format!("approved accepting the risk until {until}"), Vec::new())
        }
        Ok(AuditAction::RiskAcceptanceRejected) => {
            let note = details["note"].as_str().unwrap_or_default();
            (format!("rejected accepting the risk (“{note}”)"), Vec::new())
        }
        Ok(AuditAction::RiskAcceptanceExpired) => {
            let until = details["accepted_until"].as_str().unwrap_or("?");
            (format!("reopened it: the risk was accepted until {until}"), Vec::new())
        }
        Ok(AuditAction::VulnerabilityKnownExploited) => {
            let cve = details["cve_id"].as_str().unwrap_or("its CVE");
            let due = details["kev_due_date"].as_str().map(|d| format!(", CISA's due date {d}")).unwrap_or_default();
            (format!("noted that CISA lists {cve} as known exploited{due}"), Vec::new())
        }
        _ => (label(&row.action).to_lowercase(), Vec::new()),
    }
}

pub struct CommentView {
    id: Uuid,
    author: String,
    created: chrono::DateTime<chrono::Utc>,
    edited: bool,
    body_html: String,
    can_edit: bool,
    can_delete: bool,
    /// What the edit form holds: the Markdown as saved, or the refused edit.
    draft: String,
    error: Option<String>,
}

/// A form on the page that its service refused: which one, what was typed
/// (shown again), and why.
struct Refusal {
    form: Refused,
    text: String,
    message: String,
}

#[derive(PartialEq)]
enum Refused {
    NewComment,
    EditComment(Uuid),
    Assignee,
    /// The status change; its text is the resolution note typed.
    Status,
    /// An ADMIN's decision on a request to accept the risk; its text is the note.
    Decision,
}

/// A request to accept the record's risk that waits for an ADMIN.
pub struct AcceptanceCard {
    id: Uuid,
    requested_by: String,
    requested_at: chrono::DateTime<chrono::Utc>,
    status: &'static str,
    until: chrono::NaiveDate,
    note: String,
    can_decide: bool,
    decision_note: String,
    decision_error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "vulnerabilities/detail.html")]
pub struct DetailPage {
    nav: Option<Nav>,
    v: DetailView,
    description_html: String,
    remediation_html: Option<String>,
    cvss: Option<CvssCard>,
    intel: Option<IntelCard>,
    dread_bars: Vec<Bar>,
    dread_total: String,
    stride: Vec<StrideInput>,
    comments: Vec<CommentView>,
    status_options: Vec<Choice>,
    resolution_options: Vec<Choice>,
    status_error: Option<String>,
    status_note: String,
    /// The acceptance's last day shown in the status form.
    status_until: String,
    assignee_options: Vec<Choice>,
    assignee_error: Option<String>,
    can_write: bool,
    can_comment: bool,
    comment_draft: String,
    comment_error: Option<String>,
    activity: Vec<ActivityItem>,
    acceptance: Option<AcceptanceCard>,
}

/// Who the record can be given to: the active members, and whoever has
/// it now (even if deactivated since, so the form does not silently
/// suggest "Nobody"). `chosen` is a refused choice, shown again when it is
/// one of them; otherwise the current assignee is selected.
fn assignee_options(people: &People, current: Option<UserId>, chosen: Option<&str>) -> Vec<Choice> {
    let mut options = vec![Choice { value: String::new(), label: "Nobody".into(), selected: false }];
    options.extend(
        people.0.iter().filter(|m| m.status == UserStatus::Active || Some(m.id) == current).map(|m| Choice {
            value: m.id.to_string(),
            label: m.name.clone(),
            selected: false,
        }),
    );
    let current = current.map(|id| id.to_string()).unwrap_or_default();
    let selected = chosen.filter(|c| options.iter().any(|o| o.value == *c)).unwrap_or(&current).to_string();
    for option in &mut options {
        option.selected = option.value == selected;
    }
    options
}

/// The comment's Markdown with each mention of a member a link to the
/// records assigned to them.
fn with_mention_links(body: &str, people: &People) -> String {
    let mut out = String::with_capacity(body.len());
    let mut from = 0;
    for mention in services::comments::mentions(body, &people.0) {
        out.push_str(&body[from..mention.range.start]);
        let text = &body[mention.range.clone()];
        out.push_str(&format!("[{text}](/vulnerabilities?assignee_id={})", mention.member.id));
        from = mention.range.end;
    }
    out.push_str(&body[from..]);
    out
}

fn comment_view(c: Comment, user: &WebUser, people: &People, refusal: Option<&Refusal>) -> CommentView {
    let own = c.author_id == user.principal.user.id && user.principal.may(Action::Comment);
    let refused = refusal.filter(|r| r.form == Refused::EditComment(c.id));
    CommentView {
        id: c.id,
        author: people.named(Some(c.author_id), "—"),
        created: c.created_at,
        edited: c.version > 1,
        body_html: markdown::render(&with_mention_links(&c.body, people)),
        can_edit: own,
        can_delete: own || user.principal.may(Action::ModerateComments),
        draft: refused.map_or(c.body, |r| r.text.clone()),
        error: refused.map(|r| r.message.clone()),
    }
}

async fn detail_page(
    state: &AppState,
    user: &WebUser,
    v: Vulnerability,
    refusal: Option<Refusal>,
) -> Result<Response, PageError> {
    let db = state.db().conn();
    let scope = user.principal.scope();
    let people = People(users::list(db, scope).await?, users::erased_labels(db, scope).await?);
    let thread = comments::list_for(db, scope, v.id).await?;
    let history = audit::AuditQuery {
        entity_type: Some("vulnerability".into()),
        entity_id: Some(v.id.to_string()),
        limit: 50,
        ..Default::default()
    };
    let activity = audit::list(db, scope, &history)
        .await?
        .iter()
        .map(|row| {
            let (what, changes) = describe(row, &people);
            ActivityItem { at: row.created_at, who: people.actor(row), what, changes }
        })
        .collect();
    let refusal_of = |form: Refused| refusal.as_ref().filter(|r| r.form == form);
    let acceptance = risk_acceptances::pending_for(db, scope, v.id).await?.map(|request| AcceptanceCard {
        id: request.id,
        requested_by: people.named(request.requested_by, "—"),
        requested_at: request.requested_at,
        status: if request.status == VulnStatus::Closed { "Closed" } else { "Resolved" },
        until: request.accepted_until,
        note: request.note,
        can_decide: user.principal.may(Action::DecideRiskAcceptance),
        decision_note: refusal_of(Refused::Decision).map(|r| r.text.clone()).unwrap_or_default(),
        decision_error: refusal_of(Refused::Decision).map(|r| r.message.clone()),
    });
    let duplicate_of = match v.record.duplicate_of {
        Some(original) => vulnerabilities::get(db, scope, original).await.ok(),
        None => None,
    };
    let intel = match v.record.cve_id.as_deref() {
        Some(id) => {
            vulntrack_store::cves::find(db, id).await?.map(|cve| IntelCard::of(cve, v.record.cvss_vector.is_some()))
        }
        None => None,
    };
    let r = &v.record;
    let page = DetailPage {
        intel,
        nav: Some(user.nav.clone()),
        description_html: markdown::render(&r.description),
        remediation_html: r.remediation.as_deref().map(markdown::render),
        cvss: r.cvss_vector.as_deref().and_then(CvssCard::of),
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
        comments: thread.into_iter().map(|c| comment_view(c, user, &people, refusal.as_ref())).collect(),
        status_options: choices_of(&VulnStatus::names(), r.status.as_str()),
        resolution_options: Resolution::ALL
            .iter()
            .map(|o| Choice {
                value: o.as_str().to_owned(),
                label: o.label().to_owned(),
                selected: r.resolution == Some(*o),
            })
            .collect(),
        status_error: refusal_of(Refused::Status).map(|r| r.message.clone()),
        status_note: refusal_of(Refused::Status)
            .map(|r| r.text.clone())
            .or_else(|| r.resolution_note.clone())
            .unwrap_or_default(),
        status_until: r.risk_accepted_until.map(|d| d.to_string()).unwrap_or_default(),
        assignee_options: assignee_options(
            &people,
            r.assignee_id,
            refusal_of(Refused::Assignee).map(|r| r.text.as_str()),
        ),
        assignee_error: refusal_of(Refused::Assignee).map(|r| r.message.clone()),
        can_write: user.principal.may(Action::WriteVulnerabilities),
        can_comment: user.principal.may(Action::Comment),
        comment_draft: refusal_of(Refused::NewComment).map(|r| r.text.clone()).unwrap_or_default(),
        comment_error: refusal_of(Refused::NewComment).map(|r| r.message.clone()),
        activity,
        acceptance,
        v: DetailView {
            key: v.key(),
            title: r.title.clone(),
            severity: r.severity,
            status: r.status,
            resolution: r.resolution.map(|r| r.label()),
            resolution_note: r.resolution_note.clone(),
            duplicate_of: duplicate_of.map(|d| d.key()),
            risk_accepted_until: r.risk_accepted_until,
            acceptance_expired: r.acceptance_expired(chrono::Utc::now().date_naive()),
            due: v.deadlines.map(|d| d.due_at),
            sla: v.deadlines.map(|d| match (r.is_resolved(), v.resolved_at) {
                (true, Some(at)) if at <= d.due_at => "resolved in time",
                (true, _) => "resolved late",
                (false, _) => match d.state(chrono::Utc::now()) {
                    SlaState::OnTrack => "on track",
                    SlaState::DueSoon => "due soon",
                    SlaState::Breached => "overdue",
                },
            }),
            kind: r.kind,
            cve_id: r.cve_id.clone(),
            cvss: cvss_text(r.cvss_score),
            assignee: people.named(r.assignee_id, "—"),
            reporter: people.named(v.reporter_id, "—"),
            created: v.created_at,
            updated: v.updated_at,
            assets: r.assets.clone(),
            references: r.references.clone(),
            tags: r.tags.clone(),
            scan: v.scan.has_details().then(|| v.scan.clone()),
            priority: v.intel.priority,
            known_exploited: v.intel.known_exploited,
        },
    };
    let status = if refusal.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, page).into_response())
}

/// Shows the page again with `form` refused: its input kept, the service's
/// reasons beside it.
async fn refused(
    state: &AppState,
    user: &WebUser,
    record: &str,
    form: Refused,
    text: String,
    about: &str,
    errors: &ValidationErrors,
) -> Result<Response, PageError> {
    let message = errors.iter().map(|e| format!("{about} {}.", e.message)).collect::<Vec<_>>().join(" ");
    let found = vulnerabilities::find(state.db().conn(), user.principal.scope(), record).await?;
    detail_page(state, user, found, Some(Refusal { form, text, message })).await
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
    detail_page(&state, &user, found, None).await
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
            refused(&state, &user, &id, Refused::NewComment, form.body, "Comment", &errors).await
        }
        Err(other) => Err(other.into()),
    }
}

/// The comment `comment_id` on the record `id` of the user's team. A
/// comment of another record, or of another team, is not found here.
async fn comment_on(
    state: &AppState,
    user: &WebUser,
    id: &str,
    comment_id: &str,
) -> Result<(Vulnerability, Comment), PageError> {
    let db = state.db().conn();
    let scope = user.principal.scope();
    let record = vulnerabilities::find(db, scope, id).await?;
    let comment = comments::get(db, scope, path_id(comment_id)?).await?;
    if comment.vulnerability_id != record.id {
        return Err(ServiceError::NotFound.into());
    }
    Ok((record, comment))
}

/// Edits a comment (its author only), through the same service and audit
/// row as `PATCH /api/v1/comments/{id}`.
pub async fn edit_comment(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path((id, comment_id)): Path<(String, String)>,
    Form(form): Form<CommentForm>,
) -> Result<Response, PageError> {
    let (record, comment) = comment_on(&state, &user, &id, &comment_id).await?;
    let edited =
        services::comments::edit(&state, &user.principal, &context, comment.id, &form.body, &IfMatch::Absent).await;
    match edited {
        Ok(_) => Ok(flash::redirect(&format!("/vulnerabilities/{}#comments", record.key()), Flash::Saved)),
        Err(ServiceError::Invalid(errors)) => {
            let form_id = Refused::EditComment(comment.id);
            refused(&state, &user, &id, form_id, form.body, "Comment", &errors).await
        }
        Err(other) => Err(other.into()),
    }
}

/// Deletes a comment (its author, or an ADMIN moderating), through the same
/// service and audit row as `DELETE /api/v1/comments/{id}`.
pub async fn delete_comment(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path((id, comment_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (record, comment) = comment_on(&state, &user, &id, &comment_id).await?;
    services::comments::delete(&state, &user.principal, &context, comment.id, &IfMatch::Absent).await?;
    Ok(flash::redirect(&format!("/vulnerabilities/{}#comments", record.key()), Flash::Saved))
}

/// A status change as the record's and the triage queue's forms post it.
#[derive(Debug, serde::Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
    /// Empty for none (an open status, or the form's first choice).
    #[serde(default)]
    resolution: String,
    #[serde(default)]
    resolution_note: String,
    /// `YYYY-MM-DD`; empty for none.
    #[serde(default)]
    risk_accepted_until: String,
}

impl StatusForm {
    /// The update the form asks for: the status and, with RESOLVED or
    /// CLOSED, its resolution, note and (for an accepted risk) last day. An
    /// open status needs no resolution: what the form still shows of the
    /// old one is not sent, nor a date kept in the field for another reason.
    pub fn body(&self) -> Value {
        let given = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        let mut body = json!({ "status": self.status });
        if matches!(self.status.as_str(), "RESOLVED" | "CLOSED") {
            body["resolution"] = json!(given(&self.resolution));
            body["resolution_note"] = json!(given(&self.resolution_note));
            let accepting = self.resolution == Resolution::RiskAccepted.as_str();
            body["risk_accepted_until"] = json!(given(&self.risk_accepted_until).filter(|_| accepting));
        }
        body
    }
}

pub async fn change_status(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    let body = form.body();
    match services::vulnerabilities::update(&state, &user.principal, &context, &id, &body, &IfMatch::Absent).await {
        Ok(changed) => Ok(super::saved(&changed)),
        Err(ServiceError::Invalid(errors)) => {
            let mut errors = errors;
            if errors.iter().any(|e| e.field == "duplicate_of") {
                // The quick form has no field for the original: the edit form does.
                let mut only = ValidationErrors::default();
                only.push(vulntrack_domain::FieldError::new(
                    "duplicate_of",
                    "required",
                    "needs the record it repeats: use Edit to name it",
                ));
                errors = only;
            }
            refused(&state, &user, &id, Refused::Status, form.resolution_note, "The status change", &errors).await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    note: String,
}

/// An ADMIN approves or rejects the record's waiting request to accept its
/// risk, through the same service as the API.
async fn decide(
    state: AppState,
    context: vulntrack_store::audit::RequestContext,
    user: WebUser,
    request_id: &str,
    decision: services::risk_acceptances::Decision,
    form: DecisionForm,
) -> Result<Response, PageError> {
    let request_id = path_id(request_id)?;
    let outcome =
        services::risk_acceptances::decide(&state, &user.principal, &context, request_id, decision, Some(&form.note))
            .await;
    let done = match decision {
        services::risk_acceptances::Decision::Approve => Flash::AcceptanceApproved,
        services::risk_acceptances::Decision::Reject => Flash::AcceptanceRejected,
    };
    match outcome {
        Ok((_, record)) => Ok(flash::redirect(&format!("/vulnerabilities/{}", record.key()), done)),
        Err(ServiceError::Invalid(errors)) => {
            let scope = user.principal.scope();
            let request = risk_acceptances::get(state.db().conn(), scope, request_id).await?;
            let key = request.vulnerability_id.to_string();
            refused(&state, &user, &key, Refused::Decision, form.note, "The decision", &errors).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn approve_acceptance(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    decide(state, context, user, &id, services::risk_acceptances::Decision::Approve, form).await
}

pub async fn reject_acceptance(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    decide(state, context, user, &id, services::risk_acceptances::Decision::Reject, form).await
}

#[derive(Debug, serde::Deserialize)]
pub struct AssigneeForm {
    /// A member's id; empty for nobody.
    assignee_id: String,
}

/// Gives the record to a member (or to nobody), through the same update
/// service as the edit form and the API.
pub async fn change_assignee(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<AssigneeForm>,
) -> Result<Response, PageError> {
    let assignee = match form.assignee_id.trim() {
        "" => Value::Null,
        chosen => json!(chosen),
    };
    let body = json!({ "assignee_id": assignee });
    match services::vulnerabilities::update(&state, &user.principal, &context, &id, &body, &IfMatch::Absent).await {
        Ok(changed) => Ok(super::saved(&changed)),
        Err(ServiceError::Invalid(errors)) => {
            refused(&state, &user, &id, Refused::Assignee, form.assignee_id, "The assignee", &errors).await
        }
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_values_read_as_words() {
        let nobody = People(Vec::new(), Default::default());
        let dread = json!({ "damage": 8, "reproducibility": 9, "exploitability": 7, "affected_users": 9, "discoverability": 6 });
        for (field, value, words) in [
            ("status", json!("IN_PROGRESS"), "In progress"),
            ("cvss_score", json!(9.8), "9.8"),
            ("cvss_score", json!(7), "7.0"),
            ("cve_id", Value::Null, "—"),
            ("tags", json!([]), "—"),
            ("assets", json!(["db-02", "portal-01"]), "db-02, portal-01"),
            (
                "stride",
                json!({ "spoofing": true, "tampering": false, "denial_of_service": true }),
                "Spoofing, Denial of service",
            ),
            ("stride", json!({ "spoofing": false }), "None"),
            ("dread", dread, "Damage 8, Reproducibility 9, Exploitability 7, Affected users 9, Discoverability 6"),
            ("assignee_id", Value::Null, "Nobody"),
            ("assignee_id", json!("0190f5c4-0000-7000-8000-000000000000"), "Deleted user"),
        ] {
            assert_eq!(shown(field, &value, &nobody), words, "{field} {value}");
        }
        let long = "é".repeat(SHOWN_CHARS + 5);
        assert_eq!(shown("title", &json!(long), &nobody).chars().count(), SHOWN_CHARS + 1, "cut, with an ellipsis");
    }

    #[test]
    fn changed_fields_are_listed_as_a_sentence() {
        let names = |fields: &[&str]| fields.iter().map(|f| in_sentence(&field_name(f))).collect::<Vec<_>>();
        assert_eq!(listed(&names(&["title"])), "title");
        assert_eq!(listed(&names(&["title", "cve_id"])), "title and CVE");
        assert_eq!(listed(&names(&["cvss_vector", "assignee_id", "tags"])), "CVSS vector, assignee and tags");
    }
}

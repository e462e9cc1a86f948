//! The create and edit form, and deletion.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};
use vulntrack_domain::{
    Action, ValidationErrors,
    vulnerability::{
        Resolution, Severity, VulnKind, VulnStatus,
        risk::{Dread, Stride},
    },
};
use vulntrack_store::{
    users,
    vulnerabilities::{self, Vulnerability},
};

use super::{StrideInput, choices_of};
use crate::{
    app::AppState,
    http::{ClientContext, versioning::IfMatch},
    ratelimit::{self, budgets},
    services::{self, ServiceError},
    web::{
        flash::{self, Flash},
        format::{self, filters},
        page::{Choice, Nav, PageError, WebUser, field_message},
    },
};

/// The form's fields as typed, so a refused form comes back filled in.
#[derive(Debug, Clone, Default)]
pub struct FormValues {
    title: String,
    description: String,
    cve_id: String,
    cvss_vector: String,
    assets: String,
    references: String,
    remediation: String,
    tags: String,
    resolution_note: String,
    /// The key (`VT-12`) of the record a duplicate repeats.
    duplicate_of: String,
    /// `YYYY-MM-DD`, for an accepted risk.
    risk_accepted_until: String,
}

pub struct DreadInput {
    name: &'static str,
    value: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "vulnerabilities/form.html")]
pub struct FormPage {
    nav: Option<Nav>,
    heading: String,
    action: String,
    cancel: String,
    status_options: Option<Vec<Choice>>,
    resolution_options: Option<Vec<Choice>>,
    form: FormValues,
    severity_options: Vec<Choice>,
    kind_options: Vec<Choice>,
    assignee_options: Vec<Choice>,
    dread: Vec<DreadInput>,
    stride: Vec<StrideInput>,
    /// The version the edit form was opened at (hidden field).
    version: Option<String>,
    conflict: Option<Conflict>,
    errors: ValidationErrors,
    severity_note: Option<String>,
    /// What filling from the CVE catalogue did.
    cve_notice: Option<String>,
}

/// Someone else saved the record while this form was open.
#[derive(Debug)]
pub struct Conflict {
    version: i64,
    changed: Vec<ConflictField>,
}

/// A field whose saved value now differs from the user's input.
#[derive(Debug)]
pub struct ConflictField {
    name: String,
    saved: String,
}

/// The control a field error belongs to, for `aria-describedby` and the
/// summary's links: list items point at their list's field, DREAD at its
/// group (or the factor named).
fn control_of(field: &str) -> String {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    match base {
        "dread" => field.strip_prefix("dread.").map_or_else(|| "dread".into(), |f| format!("dread_{f}")),
        "stride" => "stride_spoofing".into(),
        "cvss_score" => "cvss_vector".into(),
        other => other.to_string(),
    }
}

/// One line of the error summary: the message, and the control it is about.
pub struct SummaryLine {
    control: String,
    text: String,
}

impl FormPage {
    /// The errors of one field, as sentences shown under it.
    fn errors_for(&self, field: &str) -> Vec<String> {
        self.errors.iter().filter(|e| e.field == field).map(|e| format::sentence(&e.message)).collect()
    }

    /// The errors of a list or group of fields, each naming its item.
    fn errors_with_prefix(&self, prefix: &str) -> Vec<String> {
        self.errors
            .iter()
            .filter(|e| {
                e.field == prefix
                    || e.field.starts_with(&format!("{prefix}."))
                    || e.field.starts_with(&format!("{prefix}["))
            })
            .map(|e| if e.field == prefix { format::sentence(&e.message) } else { field_message(e) })
            .collect()
    }

    fn has(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field || control_of(&e.field) == field)
    }

    /// Whether one DREAD input is wrong: its own value, or left empty
    /// when the others were rated.
    fn dread_invalid(&self, factor: &DreadInput) -> bool {
        let own = format!("dread.{}", factor.name);
        self.errors.iter().any(|e| e.field == own || (e.field == "dread" && factor.value.trim().is_empty()))
    }

    /// Every error at the top of the form, each linking to its control.
    fn summary(&self) -> Vec<SummaryLine> {
        self.errors
            .iter()
            .filter(|e| e.field != "form")
            .map(|e| SummaryLine { control: control_of(&e.field), text: field_message(e) })
            .collect()
    }
}

/// Which form: a new record, or the edit form of an existing one.
#[derive(Debug, Clone)]
enum FormMode {
    New,
    /// The record's key, and a note when its severity is set apart from
    /// what its CVSS vector rates.
    Edit(String, Option<String>),
}

/// "CVSS 9.8 rates this Critical; its severity is set to Medium." when the
/// two differ, so a changed vector never leaves a silent contradiction.
fn severity_note(v: &Vulnerability) -> Option<String> {
    let rated = v.record.vector_severity()?;
    (rated != v.record.severity).then(|| {
        format!(
            "CVSS {:.1} rates this {}; its severity is set to {}. Choose \u{201c}From the CVSS vector\u{201d} to follow the vector.",
            v.record.cvss_score.unwrap_or_default(),
            format::label(rated.as_str()),
            format::label(v.record.severity.as_str()),
        )
    })
}

async fn form_page(
    state: &AppState,
    user: &WebUser,
    mode: FormMode,
    fields: &HashMap<String, String>,
    errors: ValidationErrors,
) -> Result<Response, PageError> {
    form_page_with(state, user, mode, fields, errors, None, None).await
}

async fn form_page_with(
    state: &AppState,
    user: &WebUser,
    mode: FormMode,
    fields: &HashMap<String, String>,
    errors: ValidationErrors,
    conflict: Option<Conflict>,
    cve_notice: Option<String>,
) -> Result<Response, PageError> {
    let value = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let members = users::list(state.db().conn(), user.principal.scope()).await?;
    let assignee = value("assignee_id");
    let (heading, action, cancel, status_options) = match &mode {
        FormMode::New => {
            ("New vulnerability".to_string(), "/vulnerabilities".to_string(), "/vulnerabilities".to_string(), None)
        }
        FormMode::Edit(key, _) => (
            format!("Edit {key}"),
            format!("/vulnerabilities/{key}/edit"),
            format!("/vulnerabilities/{key}"),
            Some(choices_of(&VulnStatus::names(), &value("status"))),
        ),
    };
    let severity_note = match &mode {
        FormMode::Edit(_, note) => note.clone(),
        FormMode::New => None,
    };
    let resolution_options = status_options.as_ref().map(|_| {
        let chosen = value("resolution");
        Resolution::ALL
            .iter()
            .map(|r| Choice {
                selected: r.as_str() == chosen,
                value: r.as_str().to_owned(),
                label: r.label().to_owned(),
            })
            .collect()
    });
    let page = FormPage {
        cve_notice,
        severity_note,
        nav: Some(user.nav.clone()),
        heading,
        action,
        cancel,
        status_options,
        resolution_options,
        form: FormValues {
            title: value("title"),
            description: value("description"),
            cve_id: value("cve_id"),
            cvss_vector: value("cvss_vector"),
            assets: value("assets"),
            references: value("references"),
            remediation: value("remediation"),
            tags: value("tags"),
            resolution_note: value("resolution_note"),
            duplicate_of: value("duplicate_of"),
            risk_accepted_until: value("risk_accepted_until"),
        },
        severity_options: choices_of(&Severity::names(), &value("severity")),
        kind_options: choices_of(
            &VulnKind::names(),
            &fields.get("kind").cloned().unwrap_or_else(|| "VULNERABILITY".into()),
        ),
        assignee_options: members
            .into_iter()
            .map(|m| Choice { selected: m.id.to_string() == assignee, value: m.id.to_string(), label: m.name })
            .collect(),
        dread: Dread::FACTORS.iter().map(|f| DreadInput { name: f, value: value(&format!("dread_{f}")) }).collect(),
        stride: Stride::CATEGORIES
            .iter()
            .map(|c| StrideInput { name: c, checked: fields.contains_key(&format!("stride_{c}")) })
            .collect(),
        version: fields.get("version").filter(|v| !v.is_empty()).cloned(),
        conflict,
        errors,
    };
    let status = if page.conflict.is_some() {
        StatusCode::CONFLICT
    } else if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, page).into_response())
}

pub async fn new_form(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
) -> Result<Response, PageError> {
    user.principal.require(&state, &context, Action::WriteVulnerabilities).await?;
    form_page(&state, &user, FormMode::New, &HashMap::new(), ValidationErrors::default()).await
}

fn lines(text: &str, separator: char) -> Value {
    Value::Array(text.split(separator).map(str::trim).filter(|l| !l.is_empty()).map(|l| json!(l)).collect())
}

/// The form, as the JSON body the API takes: both go through the same
/// validation and service.
fn body_of(fields: &HashMap<String, String>) -> Value {
    let mut body = Map::new();
    let text = |name: &str| fields.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    for name in ["title", "description"] {
        body.insert(name.into(), json!(fields.get(name).cloned().unwrap_or_default()));
    }
    for name in ["severity", "kind", "cve_id", "cvss_vector", "remediation", "assignee_id"] {
        if let Some(value) = text(name) {
            body.insert(name.into(), json!(value));
        }
    }
    let dread: Vec<(&str, Option<String>)> = Dread::FACTORS.iter().map(|f| (*f, text(&format!("dread_{f}")))).collect();
    if dread.iter().any(|(_, v)| v.is_some()) {
        let factors: Map<String, Value> = dread
            .into_iter()
            .filter_map(|(f, v)| v.map(|v| (f.to_string(), v.parse::<u64>().map_or_else(|_| json!(v), |n| json!(n)))))
            .collect();
        body.insert("dread".into(), Value::Object(factors));
    }
    let stride: Map<String, Value> = Stride::CATEGORIES
        .iter()
        .map(|c| (c.to_string(), json!(fields.contains_key(&format!("stride_{c}")))))
        .collect();
    body.insert("stride".into(), Value::Object(stride));
    body.insert("assets".into(), lines(&fields.get("assets").cloned().unwrap_or_default(), '\n'));
    body.insert("references".into(), lines(&fields.get("references").cloned().unwrap_or_default(), '\n'));
    body.insert("tags".into(), lines(&fields.get("tags").cloned().unwrap_or_default(), ','));
    Value::Object(body)
}

pub async fn create(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    if fields.contains_key("fill_from_cve") {
        user.principal.require(&state, &context, Action::WriteVulnerabilities).await?;
        return fill_from_cve(&state, &user, fields).await;
    }
    let created = async {
        ratelimit::spend(state.rate_limiter(), &[budgets::creates(&state, user.principal.user.id)]).await?;
        services::vulnerabilities::create(&state, &user.principal, &context, &body_of(&fields)).await
    };
    match created.await {
        Ok(created) => Ok(flash::redirect(&format!("/vulnerabilities/{}", created.key()), Flash::Created)),
        Err(ServiceError::Invalid(errors)) => form_page(&state, &user, FormMode::New, &fields, errors).await,
        Err(ServiceError::RateLimited { retry_after_seconds }) => {
            let mut errors = ValidationErrors::default();
            errors.push(vulntrack_domain::FieldError::new(
                "form",
                "rate_limited",
                crate::web::auth_pages::wait_message(retry_after_seconds),
            ));
            let page = form_page(&state, &user, FormMode::New, &fields, errors).await?;
            Ok(crate::web::auth_pages::too_many(page, retry_after_seconds))
        }
        Err(other) => Err(other.into()),
    }
}

/// The catalogue's record of a CVE id as typed, or the field error why not.
async fn prefill_of(state: &AppState, typed: &str) -> Result<services::cve_catalogue::Prefill, String> {
    let id = vulntrack_scanners::cve_feeds::cve_id(typed).map_err(|_| "is not a CVE id (CVE-YYYY-NNNN)".to_owned())?;
    match vulntrack_store::cves::find(state.db().conn(), &id).await {
        Ok(Some(cve)) => Ok(services::cve_catalogue::prefill(&cve)),
        Ok(None) => Err(format!("{id} is not in the CVE catalogue (an operator loads it with `vulntrack cve import`)")),
        Err(other) => Err(format!("the CVE catalogue cannot be read now: {other}")),
    }
}

/// "Fill from CVE" without JavaScript: the form again, its empty fields
/// filled from the catalogue; nothing is saved.
async fn fill_from_cve(
    state: &AppState,
    user: &WebUser,
    mut fields: HashMap<String, String>,
) -> Result<Response, PageError> {
    let typed = fields.get("cve_id").cloned().unwrap_or_default();
    let prefill = match prefill_of(state, &typed).await {
        Ok(prefill) => prefill,
        Err(reason) => {
            let mut errors = ValidationErrors::default();
            errors.push(vulntrack_domain::FieldError::new("cve_id", "not_found", reason));
            return form_page(state, user, FormMode::New, &fields, errors).await;
        }
    };
    let mut filled = Vec::new();
    let references = prefill.references.join("\n");
    for (name, value) in [
        ("title", Some(prefill.title.clone())),
        ("description", prefill.description.clone()),
        ("cvss_vector", prefill.cvss_vector.clone()),
        ("references", Some(references).filter(|r| !r.is_empty())),
        ("remediation", prefill.remediation.clone()),
    ] {
        let empty = fields.get(name).is_none_or(|v| v.trim().is_empty());
        if let Some(value) = value.filter(|_| empty) {
            fields.insert(name.to_owned(), value);
            filled.push(name.replace('_', " "));
        }
    }
    fields.insert("cve_id".to_owned(), prefill.cve_id.clone());
    let notice = if filled.is_empty() {
        format!("{}: every field it could fill already has a value.", prefill.cve_id)
    } else {
        format!("Filled from {}: {}. Check them, then save.", prefill.cve_id, filled.join(", "))
    };
    form_page_with(state, user, FormMode::New, &fields, ValidationErrors::default(), None, Some(notice)).await
}

#[derive(Debug, serde::Deserialize)]
pub struct CveQuery {
    #[serde(default)]
    cve_id: String,
}

/// The form's script asks here as a CVE id is typed: the fields the
/// catalogue fills (JSON), or 404 with the reason.
pub async fn cve_prefill(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    axum::extract::Query(query): axum::extract::Query<CveQuery>,
) -> Result<Response, PageError> {
    user.principal.require(&state, &context, Action::WriteVulnerabilities).await?;
    Ok(match prefill_of(&state, &query.cve_id).await {
        Ok(prefill) => axum::Json(prefill).into_response(),
        Err(reason) => (StatusCode::NOT_FOUND, axum::Json(json!({ "reason": reason }))).into_response(),
    })
}

/// The stored record as form fields, for the edit form (`duplicate_key`:
/// the key of the record it duplicates).
fn fields_of(v: &Vulnerability, duplicate_key: Option<String>) -> HashMap<String, String> {
    let r = &v.record;
    let mut fields: HashMap<String, String> = [
        ("title", r.title.clone()),
        ("description", r.description.clone()),
        // A severity that is the vector's own rating is shown as "from the
        // vector", so a new vector brings its rating along when saved.
        ("severity", if r.severity_follows_vector() { String::new() } else { r.severity.as_str().to_string() }),
        ("status", r.status.as_str().to_string()),
        ("kind", r.kind.as_str().to_string()),
        ("cve_id", r.cve_id.clone().unwrap_or_default()),
        ("cvss_vector", r.cvss_vector.clone().unwrap_or_default()),
        ("assets", r.assets.join("\n")),
        ("references", r.references.join("\n")),
        ("remediation", r.remediation.clone().unwrap_or_default()),
        ("version", v.version.to_string()),
        ("tags", r.tags.join(", ")),
        ("assignee_id", r.assignee_id.map(|a| a.to_string()).unwrap_or_default()),
        ("resolution", r.resolution.map(|r| r.as_str().to_owned()).unwrap_or_default()),
        ("resolution_note", r.resolution_note.clone().unwrap_or_default()),
        ("duplicate_of", duplicate_key.unwrap_or_default()),
        ("risk_accepted_until", r.risk_accepted_until.map(|d| d.to_string()).unwrap_or_default()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if let Some(dread) = r.dread {
        for (factor, value) in Dread::FACTORS.iter().zip(dread.values()) {
            fields.insert(format!("dread_{factor}"), value.to_string());
        }
    }
    for (category, on) in Stride::CATEGORIES.iter().zip(r.stride.flags()) {
        if on {
            fields.insert(format!("stride_{category}"), "on".into());
        }
    }
    fields
}

pub async fn edit_form(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    user.principal.require(&state, &context, Action::WriteVulnerabilities).await?;
    let found = vulnerabilities::find(state.db().conn(), user.principal.scope(), &id).await?;
    let duplicate_key = duplicate_key(&state, &user, &found).await?;
    let mode = FormMode::Edit(found.key(), severity_note(&found));
    form_page(&state, &user, mode, &fields_of(&found, duplicate_key), ValidationErrors::default()).await
}

/// The key of the record `v` duplicates, if it names one.
async fn duplicate_key(state: &AppState, user: &WebUser, v: &Vulnerability) -> Result<Option<String>, PageError> {
    let Some(original) = v.record.duplicate_of else { return Ok(None) };
    match vulnerabilities::get(state.db().conn(), user.principal.scope(), original).await {
        Ok(original) => Ok(Some(original.key())),
        Err(vulntrack_store::StoreError::NotFound) => Ok(None),
        Err(other) => Err(ServiceError::from(other).into()),
    }
}

/// The resolution fields of the edit form into `body`: the duplicate's
/// original is typed as its key (`VT-12`) and sent as its id; a key that
/// is not the team's is the form's error on that field.
async fn resolution_into(
    state: &AppState,
    user: &WebUser,
    fields: &HashMap<String, String>,
    body: &mut Map<String, Value>,
) -> Result<(), ValidationErrors> {
    let text = |name: &str| fields.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    body.insert("resolution".into(), json!(text("resolution")));
    body.insert("resolution_note".into(), json!(text("resolution_note")));
    // The fields of one resolution keep what they showed when another is
    // chosen: only the chosen one's are sent.
    let chosen = text("resolution").and_then(|r| r.parse::<Resolution>().ok());
    let accepting = chosen == Some(Resolution::RiskAccepted);
    body.insert("risk_accepted_until".into(), json!(text("risk_accepted_until").filter(|_| accepting)));
    let original = match text("duplicate_of").filter(|_| chosen == Some(Resolution::Duplicate)) {
        None => None,
        Some(key) => match vulnerabilities::find(state.db().conn(), user.principal.scope(), &key).await {
            Ok(original) => Some(original.id),
            Err(_) => {
                let mut errors = ValidationErrors::default();
                errors.push(vulntrack_domain::FieldError::new(
                    "duplicate_of",
                    "not_found",
                    format!("{key} is not a record of your team (give its key, like VT-12)"),
                ));
                return Err(errors);
            }
        },
    };
    body.insert("duplicate_of".into(), json!(original));
    Ok(())
}

pub async fn update(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let mut body = body_of(&fields);
    // On an edit form an emptied field means "clear it".
    if let Value::Object(map) = &mut body {
        for name in ["cve_id", "cvss_vector", "remediation", "assignee_id", "dread"] {
            map.entry(name).or_insert(Value::Null);
        }
        if let Some(status) = fields.get("status").filter(|s| !s.is_empty()) {
            map.insert("status".into(), json!(status));
            if let Err(errors) = resolution_into(&state, &user, &fields, map).await {
                return form_page(&state, &user, FormMode::Edit(id, None), &fields, errors).await;
            }
        }
    }
    // The version the form was opened at: a change saved by someone else
    // meanwhile is shown, not overwritten.
    let if_match = fields.get("version").and_then(|v| v.parse().ok()).map_or(IfMatch::Absent, IfMatch::version);
    match services::vulnerabilities::update(&state, &user.principal, &context, &id, &body, &if_match).await {
        Ok(changed) => Ok(super::saved(&changed)),
        Err(ServiceError::Invalid(errors)) => form_page(&state, &user, FormMode::Edit(id, None), &fields, errors).await,
        Err(ServiceError::Stale { .. }) => conflict_page(&state, &user, &id, fields).await,
        Err(other) => Err(other.into()),
    }
}

/// The edit form again after someone else saved the record first: the
/// user's input is kept, the fields where the saved record now differs are
/// listed with their saved values, and the form carries the new version,
/// so saving again applies the user's input over the other change on
/// purpose.
async fn conflict_page(
    state: &AppState,
    user: &WebUser,
    id: &str,
    mut fields: HashMap<String, String>,
) -> Result<Response, PageError> {
    let current = vulnerabilities::find(state.db().conn(), user.principal.scope(), id).await?;
    let saved = fields_of(&current, duplicate_key(state, user, &current).await?);
    let mut names: Vec<&String> = saved.keys().chain(fields.keys()).filter(|n| n.as_str() != "version").collect();
    names.sort();
    names.dedup();
    let changed = names
        .into_iter()
        .filter(|name| {
            saved.get(*name).map(|v| v.trim()).unwrap_or_default()
                != fields.get(*name).map(|v| v.trim()).unwrap_or_default()
        })
        .map(|name| ConflictField {
            name: name.strip_prefix("dread_").or_else(|| name.strip_prefix("stride_")).unwrap_or(name).to_string(),
            saved: saved.get(name).cloned().filter(|v| !v.is_empty()).unwrap_or_else(|| "(empty)".into()),
        })
        .collect();
    fields.insert("version".into(), current.version.to_string());
    let conflict = Conflict { version: current.version, changed };
    let mode = FormMode::Edit(current.key(), severity_note(&current));
    form_page_with(state, user, mode, &fields, ValidationErrors::default(), Some(conflict), None).await
}

pub async fn delete(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    services::vulnerabilities::delete(&state, &user.principal, &context, &id, &IfMatch::Absent).await?;
    Ok(flash::redirect("/vulnerabilities", Flash::Deleted))
}

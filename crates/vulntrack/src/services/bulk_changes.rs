//! One change applied to many records at once (the list's bulk bar, `POST
//! /api/v1/vulnerabilities/bulk`): one transaction, each record changed by
//! the same code as a single edit (its audit rows and notifications), and
//! an answer per record. A record the change cannot apply to (not found,
//! refused by a rule) is rolled back to its savepoint and reported; the
//! others are committed together.

use serde_json::{Map, Value};
use vulntrack_domain::{
    Action, FieldError, ValidationErrors,
    vulnerability::input::{self, Mode},
};
use vulntrack_store::{audit::RequestContext, vulnerabilities};

use crate::{app::AppState, auth::Principal, services::ServiceError};
use sea_orm::TransactionTrait;

/// The most records one bulk change may touch.
pub const MAX_RECORDS: usize = 500;

/// The fields a bulk change may set; `tags_add`/`tags_remove` change each
/// record's own tags instead of replacing them.
pub const FIELDS: &[&str] = &[
    "status",
    "resolution",
    "resolution_note",
    "duplicate_of",
    "risk_accepted_until",
    "assignee_id",
    "severity",
    "tags_add",
    "tags_remove",
];

/// What became of one record.
#[derive(Debug)]
pub struct Outcome {
    /// The id or key as the request gave it.
    pub requested: String,
    pub result: Result<super::vulnerabilities::Changed, ServiceError>,
}

/// A validated bulk request.
struct Request {
    ids: Vec<String>,
    /// The change as a single edit's body (without the tag edits).
    change: Map<String, Value>,
    tags_add: Vec<String>,
    tags_remove: Vec<String>,
}

/// `errors` with each field named under `prefix` (`status` →
/// `change.status`), or with `from`'s name replaced by `to`'s.
fn renamed(errors: ValidationErrors, from: &str, to: &str) -> Vec<FieldError> {
    errors
        .0
        .into_iter()
        .map(|mut error| {
            if let Some(rest) = error.field.strip_prefix(from) {
                error.field = format!("{to}{rest}");
            }
            error
        })
        .collect()
}

/// Normalised tags of `change[field]`, with their errors named after it.
fn read_tags(change: &Map<String, Value>, field: &str, errors: &mut Vec<FieldError>) -> Vec<String> {
    let Some(raw) = change.get(field) else { return Vec::new() };
    match input::parse(&serde_json::json!({ "tags": raw }), Mode::Update) {
        Ok(fields) => fields.tags.unwrap_or_default(),
        Err(found) => {
            errors.extend(renamed(found, "tags", &format!("change.{field}")));
            Vec::new()
        }
    }
}

fn read(body: &Value) -> Result<Request, ServiceError> {
    let mut errors = Vec::new();
    let Some(object) = body.as_object() else {
        return Err(ServiceError::field("body", "type", "must be an object with `ids` and `change`"));
    };
    for key in object.keys().filter(|k| !matches!(k.as_str(), "ids" | "change")) {
        errors.push(FieldError::new(key, "unknown", "is not a field of a bulk change (`ids`, `change`)"));
    }
    let mut ids: Vec<String> = Vec::new();
    match object.get("ids") {
        Some(Value::Array(items)) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                match item.as_str().map(str::trim).filter(|s| !s.is_empty() && s.len() <= 64) {
                    Some(id) if !ids.iter().any(|seen| seen.eq_ignore_ascii_case(id)) => ids.push(id.to_string()),
                    Some(_) => errors.push(FieldError::new(format!("ids[{index}]"), "duplicate", "is listed twice")),
                    None => errors.push(FieldError::new(
                        format!("ids[{index}]"),
                        "invalid",
                        "must be a record's id or key (VT-42)",
                    )),
                }
            }
            if items.len() > MAX_RECORDS {
                errors.push(FieldError::new("ids", "too_many", format!("at most {MAX_RECORDS} records at once")));
            }
        }
        _ => errors.push(FieldError::new("ids", "required", "must list at least one record's id or key")),
    }
    let change = match object.get("change") {
        Some(Value::Object(change)) if !change.is_empty() => change.clone(),
        _ => {
            errors.push(FieldError::new(
                "change",
                "required",
                format!("must be an object with at least one of: {}", FIELDS.join(", ")),
            ));
            Map::new()
        }
    };
    for key in change.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        errors.push(FieldError::new(
            format!("change.{key}"),
            "unknown",
            format!("cannot be changed in bulk (one of: {})", FIELDS.join(", ")),
        ));
    }
    let tags_add = read_tags(&change, "tags_add", &mut errors);
    let tags_remove = read_tags(&change, "tags_remove", &mut errors);
    let mut edit = change.clone();
    edit.remove("tags_add");
    edit.remove("tags_remove");
    // The edit's own rules (a known status, a resolution with it…), once
    // for all records.
    if !edit.is_empty()
        && let Err(found) = input::parse(&Value::Object(edit.clone()), Mode::Update)
    {
        errors.extend(renamed(found, "", "change."));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(ValidationErrors(errors)));
    }
    Ok(Request { ids, change: edit, tags_add, tags_remove })
}

/// The single edit's body for `current`: the change, and its tags with
/// the additions and removals.
fn body_for(request: &Request, current: &vulnerabilities::Vulnerability) -> Value {
    let mut body = request.change.clone();
    if !request.tags_add.is_empty() || !request.tags_remove.is_empty() {
        let mut tags: Vec<String> =
            current.record.tags.iter().filter(|t| !request.tags_remove.contains(t)).cloned().collect();
        for tag in &request.tags_add {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
        body.insert("tags".into(), Value::from(tags));
    }
    Value::Object(body)
}

/// Applies `body`'s change to each record it lists. The request as a
/// whole is refused (nothing written) when it is malformed, over the
/// caller's budget, or the caller may not write; otherwise each record
/// has its outcome.
pub async fn apply(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    body: &Value,
) -> Result<Vec<Outcome>, ServiceError> {
    principal.require(state, context, Action::WriteVulnerabilities).await?;
    let request = read(body)?;
    // A bulk change costs what the same changes made one by one would.
    let budget = crate::ratelimit::middleware::api_bucket(principal.user.id.as_uuid());
    let count = u32::try_from(request.ids.len()).unwrap_or(u32::MAX);
    let decision = state.rate_limiter().check_n(&budget, state.config().rate_limit_api, count).await;
    if !decision.allowed {
        return Err(ServiceError::RateLimited { retry_after_seconds: decision.reset_seconds() });
    }
    let scope = principal.scope();
    let txn = state.db().begin().await?;
    let mut outcomes = Vec::with_capacity(request.ids.len());
    for id in &request.ids {
        let savepoint = txn.begin().await?;
        let result = async {
            let current = vulnerabilities::find_for_update(&savepoint, scope, id).await?;
            super::vulnerabilities::change_held(&savepoint, principal, context, &current, &body_for(&request, &current))
                .await
        }
        .await;
        match &result {
            Ok(_) => savepoint.commit().await?,
            Err(ServiceError::Storage(_) | ServiceError::Internal(_)) => return result.map(|_| Vec::new()),
            Err(_) => savepoint.rollback().await?,
        }
        outcomes.push(Outcome { requested: id.clone(), result });
    }
    txn.commit().await?;
    Ok(outcomes)
}

impl Outcome {
    /// Why the record was not changed, in a user's words.
    pub fn refusal(&self) -> Option<String> {
        let error = self.result.as_ref().err()?;
        Some(match error {
            ServiceError::NotFound => "not found in your team".to_string(),
            ServiceError::Invalid(errors) => {
                errors.0.iter().map(|e| format!("{} {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
            }
            other => other.to_string(),
        })
    }
}

//! Creating, changing and deleting the team's assets, with their audit
//! rows. Every member reads them; ANALYSTs and ADMINs change them.

use serde_json::{Map, Value, json};
use uuid::Uuid;
use vulntrack_domain::{
    Action, AuditAction, FieldError, UserId, ValidationErrors,
    asset::{DESCRIPTION_MAX_CHARS, NAME_MAX_CHARS},
    vulnerability::input::{TAGS_MAX, tag, tag_rule},
};
use vulntrack_store::{
    StoreError,
    assets::{self, Asset, AssetFields},
    audit::{self, AuditEvent, RequestContext},
};

use crate::{app::AppState, auth::Principal, http::versioning::IfMatch, services::ServiceError};

const FIELDS: &[&str] = &["name", "kind", "environment", "criticality", "owner_id", "description", "tags"];

/// `body`'s fields over `base`: every bad field reported at once, unknown
/// fields refused. A create starts from nothing and needs a name.
fn parse(body: &Value, base: Option<AssetFields>) -> Result<AssetFields, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let Some(body) = body.as_object() else {
        return Err(FieldError::new("body", "type", "must be a JSON object").into());
    };
    for field in body.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        errors.push(FieldError::new(field, "unknown", "is not a field of an asset"));
    }
    let creating = base.is_none();
    let mut fields = base.unwrap_or_else(|| AssetFields::named(""));
    match body.get("name") {
        Some(Value::String(name)) => {
            let length = name.trim().chars().count();
            if length == 0 || length > NAME_MAX_CHARS {
                errors.push(FieldError::new("name", "length", format!("must be 1–{NAME_MAX_CHARS} characters")));
            } else {
                fields.name = name.trim().to_string();
            }
        }
        None if creating => errors.push(FieldError::new("name", "required", "is required")),
        None => {}
        Some(_) => errors.push(FieldError::new("name", "type", "must be a string")),
    }
    choice(body, "kind", &mut fields.kind, &mut errors);
    choice(body, "environment", &mut fields.environment, &mut errors);
    choice(body, "criticality", &mut fields.criticality, &mut errors);
    match body.get("owner_id") {
        None => {}
        Some(Value::Null) => fields.owner_id = None,
        Some(Value::String(id)) => match Uuid::parse_str(id) {
            Ok(id) => fields.owner_id = Some(UserId::from_uuid(id)),
            Err(_) => errors.push(FieldError::new("owner_id", "invalid", "must be the id of a member of your team")),
        },
        Some(_) => errors.push(FieldError::new("owner_id", "type", "must be a user id or null")),
    }
    match body.get("description") {
        None => {}
        Some(Value::Null) => fields.description = None,
        Some(Value::String(text)) if text.chars().count() > DESCRIPTION_MAX_CHARS => errors.push(FieldError::new(
            "description",
            "too_long",
            format!("must be at most {DESCRIPTION_MAX_CHARS} characters"),
        )),
        Some(Value::String(text)) => fields.description = Some(text.trim().to_string()).filter(|t| !t.is_empty()),
        Some(_) => errors.push(FieldError::new("description", "type", "must be a string or null")),
    }
    match body.get("tags") {
        None => {}
        Some(Value::Array(items)) if items.len() > TAGS_MAX => {
            errors.push(FieldError::new("tags", "too_many", format!("must be at most {TAGS_MAX} tags")));
        }
        Some(Value::Array(items)) => {
            let mut tags: Vec<String> = Vec::new();
            for (index, item) in items.iter().enumerate() {
                match item.as_str().and_then(tag) {
                    Some(tag) if !tags.contains(&tag) => tags.push(tag),
                    Some(_) => {}
                    None => errors.push(FieldError::new(format!("tags[{index}]"), "invalid", tag_rule())),
                }
            }
            fields.tags = tags;
        }
        Some(_) => errors.push(FieldError::new("tags", "type", "must be a list of strings")),
    }
    errors.into_result(fields)
}

fn choice<T: std::str::FromStr<Err = vulntrack_domain::string_enum::UnknownValue>>(
    body: &Map<String, Value>,
    field: &str,
    slot: &mut T,
    errors: &mut ValidationErrors,
) {
    match body.get(field) {
        None => {}
        Some(Value::String(text)) => match text.parse() {
            Ok(value) => *slot = value,
            Err(e) => errors.push(FieldError::new(field, "invalid", e.to_string())),
        },
        Some(_) => errors.push(FieldError::new(field, "type", "must be a string")),
    }
}

fn conflict(error: StoreError) -> ServiceError {
    match error {
        StoreError::Conflict { .. } => ServiceError::Conflict("The team already has an asset with this name."),
        other => other.into(),
    }
}

fn view(fields: &AssetFields) -> Value {
    json!({
        "name": fields.name, "kind": fields.kind, "environment": fields.environment,
        "criticality": fields.criticality, "owner_id": fields.owner_id, "description": fields.description,
        "tags": fields.tags,
    })
}

fn fields_of(asset: &Asset) -> AssetFields {
    AssetFields {
        name: asset.name.clone(),
        kind: asset.kind,
        environment: asset.environment,
        criticality: asset.criticality,
        owner_id: asset.owner_id,
        description: asset.description.clone(),
        tags: asset.tags.clone(),
    }
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    body: &Value,
) -> Result<Asset, ServiceError> {
    principal.require(state, context, Action::WriteVulnerabilities).await?;
    let fields = parse(body, None)?;
    let scope = principal.scope();
    super::members::require_active(state.db().conn(), scope, fields.owner_id, "owner_id").await?;
    let txn = state.db().begin().await?;
    let asset = assets::create(&txn, scope, &fields).await.map_err(conflict)?;
    let event = AuditEvent::new(scope, principal.actor(), AuditAction::AssetCreated, context)
        .entity("asset", asset.id)
        .details(view(&fields));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(asset)
}

/// Changes the fields `body` names, under the row lock, at the version
/// `if_match` names; audited as `{field: {before, after}}`.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id_or_name: &str,
    body: &Value,
    if_match: &IfMatch,
) -> Result<Asset, ServiceError> {
    let scope = principal.scope();
    // Not found before forbidden: a role without the right learns nothing.
    let found = assets::find(state.db().conn(), scope, id_or_name).await?;
    principal.require(state, context, Action::WriteVulnerabilities).await?;
    let txn = state.db().begin().await?;
    let current = assets::get_for_update(&txn, scope, found.id).await?;
    if_match.check(current.version)?;
    let before = fields_of(&current);
    let after = parse(body, Some(before.clone()))?;
    if after.owner_id != before.owner_id {
        super::members::require_active(&txn, scope, after.owner_id, "owner_id").await?;
    }
    let updated = assets::update(&txn, scope, current.id, &after).await.map_err(conflict)?;
    let (old, new) = (view(&before), view(&after));
    let changes: Map<String, Value> = FIELDS
        .iter()
        .filter(|field| old[**field] != new[**field])
        .map(|field| (field.to_string(), json!({ "before": old[*field], "after": new[*field] })))
        .collect();
    if !changes.is_empty() {
        let event = AuditEvent::new(scope, principal.actor(), AuditAction::AssetUpdated, context)
            .entity("asset", updated.id)
            .details(Value::Object(changes));
        audit::append(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// Deletes an asset no finding is found on; one with findings is a
/// conflict (their records name it).
pub async fn delete(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id_or_name: &str,
    if_match: &IfMatch,
) -> Result<(), ServiceError> {
    let scope = principal.scope();
    let found = assets::find(state.db().conn(), scope, id_or_name).await?;
    principal.require(state, context, Action::WriteVulnerabilities).await?;
    let txn = state.db().begin().await?;
    let current = assets::get_for_update(&txn, scope, found.id).await?;
    if_match.check(current.version)?;
    if assets::finding_count(&txn, scope, current.id).await? > 0 {
        return Err(ServiceError::Conflict(
            "Vulnerabilities are recorded on this asset; remove it from them (or delete them) first.",
        ));
    }
    assets::delete(&txn, scope, current.id).await?;
    let event = AuditEvent::new(scope, principal.actor(), AuditAction::AssetDeleted, context)
        .entity("asset", current.id)
        .details(json!({ "name": current.name }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

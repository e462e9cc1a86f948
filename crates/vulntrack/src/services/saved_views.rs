//! Saved views of the vulnerability list: a member names the filters, sort
//! and columns they look at, for themselves or (ANALYST and ADMIN) for the
//! whole team.

use serde_json::json;
use uuid::Uuid;
use vulntrack_domain::{Action, AuditAction, FieldError, ValidationErrors};
use vulntrack_store::{
    StoreError,
    audit::{self, AuditEvent, RequestContext},
    saved_views::{self, SavedView},
};

use super::{
    ServiceError,
    vulnerability_list::{COLUMN_PARAM, COLUMNS, ListParams, canonical_columns, list_query},
};
use crate::{app::AppState, auth::Principal};

pub const NAME_MAX_CHARS: usize = 80;
pub const QUERY_MAX_CHARS: usize = 2000;

/// The views the principal sees: their own and the team's shared ones.
pub async fn visible(state: &AppState, principal: &Principal) -> Result<Vec<SavedView>, ServiceError> {
    Ok(saved_views::visible_to(state.db().conn(), principal.scope(), principal.user.id).await?)
}

/// The list query a view stores, in its one canonical form: every filter
/// checked as the list checks it, columns the page knows, no cursor.
pub fn canonical_query(state: &AppState, principal: &Principal, query: &str) -> Result<String, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.trim().trim_start_matches('?').as_bytes()).into_owned().collect();
    let (mut params, rest) = ListParams::from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    // A view is a way of looking, not a place in the list.
    params.cursor = None;
    params.before = None;
    let mut columns = Vec::new();
    for (name, value) in rest {
        if name == COLUMN_PARAM && COLUMNS.iter().any(|(column, _)| *column == value) {
            columns.push(value);
        } else if name == COLUMN_PARAM {
            errors.push(FieldError::new("query", "invalid", format!("{value:?} is not a column of the list")));
        } else {
            errors.push(FieldError::new("query", "invalid", format!("{name:?} is not a filter of the list")));
        }
    }
    if let Err(ServiceError::Invalid(invalid)) = list_query(state, principal, &params) {
        for error in invalid.iter() {
            errors.push(FieldError::new("query", "invalid", format!("{}: {}", error.field, error.message)));
        }
    }
    let mut canonical = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params.filter_pairs() {
        canonical.append_pair(name, &value);
    }
    for column in canonical_columns(columns) {
        canonical.append_pair(COLUMN_PARAM, column);
    }
    let canonical = canonical.finish();
    if canonical.chars().count() > QUERY_MAX_CHARS {
        errors.push(FieldError::new("query", "length", format!("must be at most {QUERY_MAX_CHARS} characters")));
    }
    errors.into_result(canonical)
}

/// Saves the list's current query under a name. Sharing with the team
/// takes the role that edits the team's records.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    name: &str,
    query: &str,
    shared: bool,
) -> Result<SavedView, ServiceError> {
    principal.require(state, context, Action::ReadVulnerabilities).await?;
    if shared {
        principal.require(state, context, Action::WriteVulnerabilities).await?;
    }
    let name = name.trim();
    let mut errors = ValidationErrors::default();
    if name.is_empty() {
        errors.push(FieldError::new("name", "required", "Give the view a name."));
    } else if name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "name",
            "length",
            format!("Use at most {NAME_MAX_CHARS} characters and no line breaks."),
        ));
    }
    let query = match canonical_query(state, principal, query) {
        Ok(query) => Some(query),
        Err(invalid) => {
            for error in invalid.iter() {
                errors.push(error.clone());
            }
            None
        }
    };
    let query = errors.into_result(query.unwrap_or_default())?;
    let txn = state.db().begin().await?;
    let view = match saved_views::create(&txn, principal.scope(), principal.user.id, name, &query, shared).await {
        Ok(view) => view,
        Err(StoreError::Conflict { .. }) => {
            return Err(ServiceError::Conflict("You already have a view with this name; pick another."));
        }
        Err(other) => return Err(other.into()),
    };
    let event = AuditEvent::new(principal.scope(), principal.actor(), AuditAction::ViewSaved, context)
        .entity("saved_view", view.id)
        .details(json!({ "name": view.name, "query": view.query, "shared": view.shared }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(view)
}

/// Deletes a view: its owner may, and an ADMIN may remove a shared one.
pub async fn delete(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id: Uuid,
) -> Result<(), ServiceError> {
    let scope = principal.scope();
    let view = saved_views::get(state.db().conn(), scope, id).await?;
    if view.owner_id != principal.user.id {
        if !view.shared {
            // Another member's own view is not even visible.
            return Err(ServiceError::NotFound);
        }
        principal.require(state, context, Action::ManageTeam).await?;
    }
    let txn = state.db().begin().await?;
    if !saved_views::delete(&txn, scope, id).await? {
        return Err(ServiceError::NotFound);
    }
    let event = AuditEvent::new(scope, principal.actor(), AuditAction::ViewDeleted, context)
        .entity("saved_view", id)
        .details(json!({ "name": view.name, "shared": view.shared }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

//! A user's own profile: name, phone, job title, department, bio, and the
//! colours the pages take.

use garde::Validate;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use vulntrack_domain::{AuditAction, Theme, ValidationErrors, validation::not_blank};
use vulntrack_store::{
    audit::{self, AuditEvent, RequestContext},
    users::{self, ProfileUpdate, User},
};

use crate::{app::AppState, auth::Principal, http::versioning::IfMatch, services::ServiceError};

fn optional_not_blank(value: &Option<String>, context: &()) -> garde::Result {
    value.as_deref().map_or(Ok(()), |v| not_blank(v, context))
}

fn phone_characters(value: &Option<String>, _: &()) -> garde::Result {
    let Some(value) = value else { return Ok(()) };
    if value.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
        Ok(())
    } else {
        Err(garde::Error::new("may contain only digits, spaces and + - ( ) ."))
    }
}

/// Profile fields; an absent field is left alone, an empty string clears
/// an optional one. Unknown fields (say, `role`) are refused, not ignored.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    #[garde(length(chars, min = 1, max = 100), custom(optional_not_blank))]
    pub name: Option<String>,
    #[garde(length(chars, max = 40), custom(phone_characters))]
    pub phone: Option<String>,
    #[garde(length(chars, max = 100))]
    pub job_title: Option<String>,
    #[garde(length(chars, max = 100))]
    pub department: Option<String>,
    #[garde(length(chars, max = 2000))]
    pub bio: Option<String>,
    #[garde(skip)]
    pub is_onboarded: Option<bool>,
    /// How the pages are coloured for this user.
    #[garde(skip)]
    pub theme: Option<Theme>,
    /// The IANA time zone the pages show times in (`Europe/Paris`); empty
    /// to follow the browser's.
    #[garde(length(chars, max = 64), custom(optional_time_zone))]
    pub time_zone: Option<String>,
}

fn optional_time_zone(value: &Option<String>, context: &()) -> garde::Result {
    value.as_deref().map_or(Ok(()), |zone| vulntrack_domain::time_zone::time_zone_name(zone, context))
}

fn optional(value: Option<String>) -> Option<Option<String>> {
    value.map(|v| Some(v.trim().to_string()).filter(|v| !v.is_empty()))
}

/// Changes the principal's own profile: only the fields given, validated
/// here (the API and the account page send the same change), read and
/// written under the row lock with the version `if_match` names, and
/// audited field by field.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    change: ProfileChange,
    if_match: &IfMatch,
) -> Result<User, ServiceError> {
    change.validate().map_err(|report| ServiceError::Invalid(ValidationErrors::from_garde(&report)))?;
    let update = ProfileUpdate {
        name: change.name.map(|n| n.trim().to_string()),
        phone: optional(change.phone),
        job_title: optional(change.job_title),
        department: optional(change.department),
        bio: optional(change.bio),
        is_onboarded: change.is_onboarded,
        theme: change.theme,
        time_zone: optional(change.time_zone),
    };
    let txn = state.db().begin().await?;
    let before = users::get_for_update(&txn, principal.scope(), principal.user.id).await?;
    if_match.check(before.version)?;
    let after = users::update_profile(&txn, principal.scope(), principal.user.id, update).await?;
    let mut changes = Map::new();
    let pairs: [(&str, Value, Value); 8] = [
        ("name", json!(before.name), json!(after.name)),
        ("phone", json!(before.phone), json!(after.phone)),
        ("job_title", json!(before.job_title), json!(after.job_title)),
        ("department", json!(before.department), json!(after.department)),
        ("bio", json!(before.bio), json!(after.bio)),
        ("is_onboarded", json!(before.is_onboarded), json!(after.is_onboarded)),
        ("theme", json!(before.theme), json!(after.theme)),
        ("time_zone", json!(before.time_zone), json!(after.time_zone)),
    ];
    for (field, old, new) in pairs {
        if old != new {
            changes.insert(field.into(), json!({ "before": old, "after": new }));
        }
    }
    if !changes.is_empty() {
        let event = AuditEvent::new(after.scope(), principal.actor(), AuditAction::ProfileUpdated, context)
            .entity("user", after.id)
            .details(Value::Object(changes));
        audit::append(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(after)
}

//! A person's own copy of what the product holds about them (an access
//! request answered without an operator), audited.

use chrono::Utc;
use serde_json::{Value, json};
use vulntrack_domain::AuditAction;
use vulntrack_store::audit::{self, AuditEvent, RequestContext};

use super::ServiceError;
use crate::{app::AppState, auth::Principal};

/// The signed-in person's data as one JSON document; the export itself is
/// written to the audit log (with how much it held).
pub async fn export(state: &AppState, principal: &Principal, context: &RequestContext) -> Result<Value, ServiceError> {
    let scope = principal.scope();
    let mut data = vulntrack_store::personal_data::export(state.db().conn(), scope, principal.user.id).await?;
    let counted = |section: &Value| section.as_array().map_or(0, Vec::len);
    let counts = json!({
        "sessions": counted(&data["sessions"]),
        "api_tokens": counted(&data["api_tokens"]),
        "comments": counted(&data["comments"]),
        "records_reported": counted(&data["records"]["reported"]),
        "records_assigned": counted(&data["records"]["assigned"]),
        "notifications": counted(&data["notifications"]),
        "audit_log": counted(&data["audit_log"]),
    });
    let event = AuditEvent::new(scope, principal.actor(), AuditAction::PersonalDataExported, context)
        .entity("user", principal.user.id.as_uuid())
        .details(counts);
    audit::append(state.db().conn(), event).await?;
    if let Some(object) = data.as_object_mut() {
        object.insert("format".into(), json!("vulntrack-personal-data/1"));
        object.insert("exported_at".into(), json!(Utc::now()));
    }
    Ok(data)
}

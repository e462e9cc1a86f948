//! Acknowledging a team's security alert (ADMIN), audited.

use serde_json::json;
use uuid::Uuid;
use vulntrack_domain::{Action, AuditAction};
use vulntrack_store::{
    audit::{self, AuditEvent, RequestContext},
    security_alerts,
};

use crate::{app::AppState, auth::Principal, services::ServiceError};

/// Marks one of the team's own alerts acknowledged; another team's, or an
/// instance-wide one (the operator's), is `NotFound`.
pub async fn acknowledge(
    state: &AppState,
    principal: &Principal,
    context: &RequestContext,
    id: Uuid,
) -> Result<(), ServiceError> {
    principal.require(state, context, Action::ViewAudit).await?;
    let txn = state.db().begin().await?;
    if !security_alerts::acknowledge(&txn, principal.scope(), id, principal.user.id).await? {
        return Err(ServiceError::NotFound);
    }
    let event = AuditEvent::new(principal.scope(), principal.actor(), AuditAction::AlertAcknowledged, context)
        .entity("security_alert", id)
        .details(json!({}));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

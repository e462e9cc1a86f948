//! Requests to accept a risk (where the team requires an ADMIN's approval
//! of an ANALYST's acceptance), and their decisions.

use axum::{
    Json,
    extract::{Path, State},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vulntrack_domain::{UserId, vulnerability::VulnStatus};
use vulntrack_store::risk_acceptances::{self, AcceptanceRequest, RequestState};

use super::{views::Listing, vulnerabilities::VulnerabilityView};
use crate::{
    app::AppState,
    auth::Principal,
    http::{ApiError, ApiJson, ApiQuery, ClientContext, path_id},
    services::{self, risk_acceptances::Decision},
};

/// A request to accept a record's risk.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    id: Uuid,
    vulnerability_id: Uuid,
    requested_by: Option<UserId>,
    requested_at: DateTime<Utc>,
    /// The status the record takes when approved (RESOLVED or CLOSED).
    status: VulnStatus,
    /// The justification.
    note: String,
    accepted_until: NaiveDate,
    /// `PENDING`, `APPROVED`, `REJECTED` or `WITHDRAWN` (replaced by a newer
    /// request, or the record settled otherwise).
    #[schema(value_type = String)]
    state: &'static str,
    decided_by: Option<UserId>,
    decided_at: Option<DateTime<Utc>>,
    decision_note: Option<String>,
}

impl From<AcceptanceRequest> for RequestView {
    fn from(r: AcceptanceRequest) -> Self {
        Self {
            id: r.id,
            vulnerability_id: r.vulnerability_id,
            requested_by: r.requested_by,
            requested_at: r.requested_at,
            status: r.status,
            note: r.note,
            accepted_until: r.accepted_until,
            state: r.state.as_str(),
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            decision_note: r.decision_note,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `PENDING` (the default: the queue to decide), `APPROVED`, `REJECTED`
    /// or `WITHDRAWN`.
    state: Option<String>,
}

/// The team's requests in one state, oldest first (at most 500).
#[utoipa::path(
    get, path = "/risk-acceptances", tag = "vulnerabilities",
    params(ListParams),
    responses((status = 200, description = "The requests", body = Listing<RequestView>))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Listing<RequestView>>, ApiError> {
    let wanted = match params.state.as_deref().unwrap_or("PENDING") {
        "PENDING" => RequestState::Pending,
        "APPROVED" => RequestState::Approved,
        "REJECTED" => RequestState::Rejected,
        "WITHDRAWN" => RequestState::Withdrawn,
        _ => {
            return Err(services::ServiceError::field(
                "state",
                "invalid",
                "must be PENDING, APPROVED, REJECTED or WITHDRAWN",
            )
            .into());
        }
    };
    let items = risk_acceptances::list(state.db().conn(), principal.scope(), wanted, 500).await?;
    Ok(Json(Listing { items: items.into_iter().map(Into::into).collect() }))
}

/// An ADMIN's decision.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Why (required to reject; at most 2000 characters).
    note: Option<String>,
}

/// What a decision did: the request as decided, and the record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    request: RequestView,
    vulnerability: VulnerabilityView,
}

async fn decide(
    state: AppState,
    context: vulntrack_store::audit::RequestContext,
    principal: Principal,
    id: String,
    decision: Decision,
    body: DecisionBody,
) -> Result<Json<DecisionView>, ApiError> {
    let id = path_id(&id)?;
    let (request, record) =
        services::risk_acceptances::decide(&state, &principal, &context, id, decision, body.note.as_deref()).await?;
    Ok(Json(DecisionView { request: request.into(), vulnerability: record.into() }))
}

/// Approves a waiting request: the record is resolved as requested (as a
/// change by the approver) and the requester is told. ADMIN only.
#[utoipa::path(
    post, path = "/risk-acceptances/{id}/approve", tag = "vulnerabilities",
    params(("id" = String, Path, description = "The request's id")),
    request_body = DecisionBody,
    responses((status = 200, description = "Approved", body = DecisionView),
              (status = 409, description = "Already decided or withdrawn"))
)]
pub async fn approve(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<DecisionView>, ApiError> {
    decide(state, context, principal, id, Decision::Approve, body).await
}

/// Rejects a waiting request with a reason the requester is told; the
/// record stays as it is. ADMIN only.
#[utoipa::path(
    post, path = "/risk-acceptances/{id}/reject", tag = "vulnerabilities",
    params(("id" = String, Path, description = "The request's id")),
    request_body = DecisionBody,
    responses((status = 200, description = "Rejected", body = DecisionView),
              (status = 409, description = "Already decided or withdrawn"))
)]
pub async fn reject(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<DecisionView>, ApiError> {
    decide(state, context, principal, id, Decision::Reject, body).await
}

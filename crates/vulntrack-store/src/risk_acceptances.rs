//! Requests to accept a risk, where the team has ADMINs approve an
//! ANALYST's acceptance: each request, with its decision, stays as the
//! record's history; at most one waits per record.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;
use vulntrack_domain::{UserId, vulnerability::VulnStatus};

use crate::{
    entity::risk_acceptance_requests as requests,
    error::{StoreError, StoreResult},
    scope::TeamScope,
};

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    Pending,
    Approved,
    Rejected,
    /// Replaced by a newer request, or by a person settling the record otherwise.
    Withdrawn,
}

impl RequestState {
    pub const fn as_str(self) -> &'static str {
        match self {
            RequestState::Pending => "PENDING",
            RequestState::Approved => "APPROVED",
            RequestState::Rejected => "REJECTED",
            RequestState::Withdrawn => "WITHDRAWN",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Rejected, Self::Withdrawn].into_iter().find(|s| s.as_str() == text)
    }
}

/// One request to accept a record's risk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptanceRequest {
    pub id: Uuid,
    pub vulnerability_id: Uuid,
    pub requested_by: Option<UserId>,
    pub requested_at: DateTime<Utc>,
    /// The status the record takes when approved (RESOLVED or CLOSED).
    pub status: VulnStatus,
    /// The justification.
    pub note: String,
    pub accepted_until: NaiveDate,
    pub state: RequestState,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
}

impl TryFrom<requests::Model> for AcceptanceRequest {
    type Error = StoreError;

    fn try_from(row: requests::Model) -> StoreResult<Self> {
        let corrupt =
            |field: &str, value: &str| StoreError::Corrupt(format!("risk acceptance request {field}: {value}"));
        Ok(Self {
            id: row.id,
            vulnerability_id: row.vulnerability_id,
            requested_by: row.requested_by.map(UserId::from_uuid),
            requested_at: row.requested_at,
            status: row.status.parse().map_err(|_| corrupt("status", &row.status))?,
            note: row.note,
            accepted_until: row.accepted_until,
            state: RequestState::parse(&row.state).ok_or_else(|| corrupt("state", &row.state))?,
            decided_by: row.decided_by.map(UserId::from_uuid),
            decided_at: row.decided_at,
            decision_note: row.decision_note,
        })
    }
}

fn of_team(scope: TeamScope) -> sea_orm::Select<requests::Entity> {
    requests::Entity::find().filter(requests::Column::TeamId.eq(scope.team_id().as_uuid()))
}

/// What a person asks to accept.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub vulnerability_id: Uuid,
    pub requested_by: UserId,
    pub status: VulnStatus,
    pub note: String,
    pub accepted_until: NaiveDate,
}

/// Records a request; one already waiting for the record is withdrawn
/// (the newer request replaces it).
pub async fn request(db: &impl ConnectionTrait, scope: TeamScope, new: NewRequest) -> StoreResult<AcceptanceRequest> {
    withdraw_pending(db, scope, new.vulnerability_id).await?;
    let row = requests::ActiveModel {
        id: Set(Uuid::now_v7()),
        team_id: Set(scope.team_id().as_uuid()),
        vulnerability_id: Set(new.vulnerability_id),
        requested_by: Set(Some(new.requested_by.as_uuid())),
        requested_at: Set(Utc::now()),
        status: Set(new.status.as_str().to_string()),
        note: Set(new.note),
        accepted_until: Set(new.accepted_until),
        state: Set(RequestState::Pending.as_str().to_string()),
        decided_by: Set(None),
        decided_at: Set(None),
        decision_note: Set(None),
    };
    requests::Entity::insert(row).exec_with_returning(db).await?.try_into()
}

/// Withdraws the record's waiting request, if any (whether one was).
pub async fn withdraw_pending(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    vulnerability_id: Uuid,
) -> StoreResult<bool> {
    let result = requests::Entity::update_many()
        .col_expr(requests::Column::State, Expr::value(RequestState::Withdrawn.as_str()))
        .col_expr(requests::Column::DecidedAt, Expr::value(Utc::now()))
        .filter(requests::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(requests::Column::VulnerabilityId.eq(vulnerability_id))
        .filter(requests::Column::State.eq(RequestState::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The record's waiting request.
pub async fn pending_for(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    vulnerability_id: Uuid,
) -> StoreResult<Option<AcceptanceRequest>> {
    of_team(scope)
        .filter(requests::Column::VulnerabilityId.eq(vulnerability_id))
        .filter(requests::Column::State.eq(RequestState::Pending.as_str()))
        .one(db)
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// The record's requests, newest first.
pub async fn history(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    vulnerability_id: Uuid,
) -> StoreResult<Vec<AcceptanceRequest>> {
    of_team(scope)
        .filter(requests::Column::VulnerabilityId.eq(vulnerability_id))
        .order_by_desc(requests::Column::RequestedAt)
        .order_by_desc(requests::Column::Id)
        .limit(50)
        .all(db)
        .await?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
}

/// The team's requests in `state`, oldest first (the queue an ADMIN works
/// through), at most `limit`.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    state: RequestState,
    limit: u64,
) -> StoreResult<Vec<AcceptanceRequest>> {
    of_team(scope)
        .filter(requests::Column::State.eq(state.as_str()))
        .order_by_asc(requests::Column::RequestedAt)
        .order_by_asc(requests::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
}

/// A request of the team.
pub async fn get(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<AcceptanceRequest> {
    of_team(scope).filter(requests::Column::Id.eq(id)).one(db).await?.ok_or(StoreError::NotFound)?.try_into()
}

/// A request of the team, its row held until the transaction ends.
pub async fn get_for_update(
    txn: &sea_orm::DatabaseTransaction,
    scope: TeamScope,
    id: Uuid,
) -> StoreResult<AcceptanceRequest> {
    of_team(scope)
        .filter(requests::Column::Id.eq(id))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// Ends a waiting request with a decision; a request already decided is
/// [`StoreError::Stale`].
pub async fn decide(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    id: Uuid,
    state: RequestState,
    decided_by: UserId,
    note: Option<String>,
) -> StoreResult<()> {
    let result = requests::Entity::update_many()
        .col_expr(requests::Column::State, Expr::value(state.as_str()))
        .col_expr(requests::Column::DecidedBy, Expr::value(decided_by.as_uuid()))
        .col_expr(requests::Column::DecidedAt, Expr::value(Utc::now()))
        .col_expr(requests::Column::DecisionNote, Expr::value(note))
        .filter(requests::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(requests::Column::Id.eq(id))
        .filter(requests::Column::State.eq(RequestState::Pending.as_str()))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::Stale);
    }
    Ok(())
}

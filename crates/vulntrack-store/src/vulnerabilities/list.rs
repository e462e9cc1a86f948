//! Listing with filters and keyset paging. Pages continue from the sort
//! key of the last row seen (never `OFFSET`), with the id as tie-breaker,
//! so paging stays fast deep into a large register and shows every record
//! exactly once even while records are added.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Query, SimpleExpr},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vulntrack_domain::{
    UserId,
    vulnerability::{Severity, VulnKind, VulnStatus, sla::SlaState},
};

use super::{Vulnerability, hydrate, search};
use crate::{
    entity::{vulnerabilities as vulns, vulnerability_tags as tags},
    error::StoreResult,
    scope::TeamScope,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    Asc,
    Desc,
}

/// The orders a list can come in. Secondary keys follow the primary
/// key's direction, which lets one row-value comparison continue a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sort {
    Created(Direction),
    Updated(Direction),
    /// By severity rank, then creation time.
    Severity(Direction),
    /// By CVSS score; unscored records count as -1 (last when descending).
    Cvss(Direction),
    /// By SLA due time; records without one count as due at
    /// [`NEVER_DUE`] (last when ascending).
    Due(Direction),
    /// By EPSS probability; records without one count as -1.
    Epss(Direction),
    /// By priority (0–100).
    Priority(Direction),
}

impl Sort {
    /// `created`, `-created`, `severity`, `-cvss`, …: a leading `-` means
    /// descending.
    pub fn parse(text: &str) -> Option<Self> {
        let (direction, name) = match text.strip_prefix('-') {
            Some(name) => (Direction::Desc, name),
            None => (Direction::Asc, text),
        };
        Some(match name {
            "created" => Sort::Created(direction),
            "updated" => Sort::Updated(direction),
            "severity" => Sort::Severity(direction),
            "cvss" => Sort::Cvss(direction),
            "due" => Sort::Due(direction),
            "epss" => Sort::Epss(direction),
            "priority" => Sort::Priority(direction),
            _ => return None,
        })
    }

    pub fn direction(self) -> Direction {
        match self {
            Sort::Created(d)
            | Sort::Updated(d)
            | Sort::Severity(d)
            | Sort::Cvss(d)
            | Sort::Due(d)
            | Sort::Epss(d)
            | Sort::Priority(d) => d,
        }
    }
}

/// The sort key of the last row of a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Position {
    Time { at: DateTime<Utc>, id: Uuid },
    Severity { rank: i16, created_at: DateTime<Utc>, id: Uuid },
    Cvss { score: f64, id: Uuid },
    Due { at: DateTime<Utc>, id: Uuid },
    Epss { score: f64, id: Uuid },
    Priority { priority: i16, id: Uuid },
}

/// What to list. Empty filters match everything.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub severities: Vec<Severity>,
    pub statuses: Vec<VulnStatus>,
    pub kinds: Vec<VulnKind>,
    /// Records assigned to any of these users (or to nobody, if asked).
    pub assignees: Assignees,
    pub cve_id: Option<String>,
    /// Records that carry any of these tags.
    pub tags: Vec<String>,
    /// Records found on any of these assets (ids or names).
    pub assets: Vec<String>,
    pub text: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Open records in any of these SLA states (at `now`).
    pub sla: Vec<SlaState>,
    /// Records due before this time.
    pub due_before: Option<DateTime<Utc>>,
    /// Records whose CVE is (or is not) on CISA's KEV list.
    pub known_exploited: Option<bool>,
    /// Records whose CVE's EPSS probability is at least this.
    pub epss_min: Option<f64>,
    /// Only records found in a component (a package): what a VEX export
    /// can name.
    pub in_component: bool,
    /// The time the SLA states are judged at.
    pub now: DateTime<Utc>,
    pub sort: Sort,
    pub limit: u64,
    /// Continue after this row (the next page) …
    pub after: Option<Position>,
    /// … or end just before it (the previous page); `after` wins if both.
    pub before: Option<Position>,
}

/// The assignee filter: any of `users`, plus unassigned records when
/// `nobody` is set. Empty and unset matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assignees {
    pub users: Vec<UserId>,
    pub nobody: bool,
}

impl Assignees {
    pub fn one(user: UserId) -> Self {
        Self { users: vec![user], nobody: false }
    }

    fn is_empty(&self) -> bool {
        self.users.is_empty() && !self.nobody
    }
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            severities: Vec::new(),
            statuses: Vec::new(),
            kinds: Vec::new(),
            assignees: Assignees::default(),
            cve_id: None,
            tags: Vec::new(),
            assets: Vec::new(),
            text: None,
            created_after: None,
            created_before: None,
            sla: Vec::new(),
            due_before: None,
            known_exploited: None,
            epss_min: None,
            in_component: false,
            now: Utc::now(),
            sort: Sort::Created(Direction::Desc),
            limit: 50,
            after: None,
            before: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Vulnerability>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Position>,
    /// Where the previous page ends; `None` on the first page.
    pub prev: Option<Position>,
}

/// The exact expression the CVSS index is built on (see migration 3).
const CVSS_SORT_KEY: &str = "COALESCE(cvss_score, -1.0)";
const EPSS_SORT_KEY: &str = "COALESCE(epss_score, -1.0)";

/// The due time a record without one sorts at: after every real one. The
/// sort key and a page's position bind the same value, so a page
/// continues exactly on either backend.
pub fn never_due() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(253_402_214_400, 0).unwrap_or(DateTime::<Utc>::MAX_UTC) // 9999-12-31
}

fn due_key() -> SimpleExpr {
    let parts: [Expr; 2] = [Expr::col(vulns::Column::DueAt), Expr::val(never_due())];
    sea_orm::sea_query::Func::coalesce(parts).into()
}

fn sort_keys(sort: Sort) -> Vec<SimpleExpr> {
    let col = |c: vulns::Column| Expr::col(c);
    match sort {
        Sort::Created(_) => vec![col(vulns::Column::CreatedAt), col(vulns::Column::Id)],
        Sort::Updated(_) => vec![col(vulns::Column::UpdatedAt), col(vulns::Column::Id)],
        Sort::Severity(_) => {
            vec![col(vulns::Column::SeverityRank), col(vulns::Column::CreatedAt), col(vulns::Column::Id)]
        }
        Sort::Cvss(_) => vec![Expr::cust(CVSS_SORT_KEY), col(vulns::Column::Id)],
        Sort::Due(_) => vec![due_key(), col(vulns::Column::Id)],
        Sort::Epss(_) => vec![Expr::cust(EPSS_SORT_KEY), col(vulns::Column::Id)],
        Sort::Priority(_) => vec![col(vulns::Column::Priority), col(vulns::Column::Id)],
    }
}

fn position_values(position: &Position) -> Vec<SimpleExpr> {
    match position {
        Position::Time { at, id } => vec![Expr::val(*at), Expr::val(*id)],
        Position::Severity { rank, created_at, id } => vec![Expr::val(*rank), Expr::val(*created_at), Expr::val(*id)],
        Position::Cvss { score, id } => vec![Expr::val(*score), Expr::val(*id)],
        Position::Due { at, id } => vec![Expr::val(*at), Expr::val(*id)],
        Position::Epss { score, id } => vec![Expr::val(*score), Expr::val(*id)],
        Position::Priority { priority, id } => vec![Expr::val(*priority), Expr::val(*id)],
    }
}

fn position_of(sort: Sort, row: &vulns::Model) -> Position {
    match sort {
        Sort::Created(_) => Position::Time { at: row.created_at, id: row.id },
        Sort::Updated(_) => Position::Time { at: row.updated_at, id: row.id },
        Sort::Severity(_) => Position::Severity { rank: row.severity_rank, created_at: row.created_at, id: row.id },
        Sort::Cvss(_) => Position::Cvss { score: row.cvss_score.unwrap_or(-1.0), id: row.id },
        Sort::Due(_) => Position::Due { at: row.due_at.unwrap_or_else(never_due), id: row.id },
        Sort::Epss(_) => Position::Epss { score: row.epss_score.unwrap_or(-1.0), id: row.id },
        Sort::Priority(_) => Position::Priority { priority: row.priority, id: row.id },
    }
}

fn matches_sort(sort: Sort, position: &Position) -> bool {
    matches!(
        (sort, position),
        (Sort::Created(_) | Sort::Updated(_), Position::Time { .. })
            | (Sort::Severity(_), Position::Severity { .. })
            | (Sort::Cvss(_), Position::Cvss { .. })
            | (Sort::Due(_), Position::Due { .. })
            | (Sort::Epss(_), Position::Epss { .. })
            | (Sort::Priority(_), Position::Priority { .. })
    )
}

/// The team's records that match the query's filters, unordered.
fn matching(db_backend: sea_orm::DbBackend, scope: TeamScope, query: &ListQuery) -> sea_orm::Select<vulns::Entity> {
    let mut select = vulns::Entity::find().filter(vulns::Column::TeamId.eq(scope.team_id().as_uuid()));
    if !query.severities.is_empty() {
        // By rank, the column the severity index holds: with a severity
        // sort the index then serves filter and order at once.
        select = select.filter(vulns::Column::SeverityRank.is_in(query.severities.iter().map(|s| s.rank())));
    }
    if !query.statuses.is_empty() {
        select = select.filter(vulns::Column::Status.is_in(query.statuses.iter().map(|s| s.as_str())));
    }
    if !query.kinds.is_empty() {
        select = select.filter(vulns::Column::Kind.is_in(query.kinds.iter().map(|k| k.as_str())));
    }
    if !query.assignees.is_empty() {
        let mut condition = Condition::any();
        if !query.assignees.users.is_empty() {
            condition =
                condition.add(vulns::Column::AssigneeId.is_in(query.assignees.users.iter().map(|u| u.as_uuid())));
        }
        if query.assignees.nobody {
            condition = condition.add(vulns::Column::AssigneeId.is_null());
        }
        select = select.filter(condition);
    }
    if let Some(cve_id) = &query.cve_id {
        select = select.filter(vulns::Column::CveId.eq(cve_id.to_uppercase()));
    }
    if !query.tags.is_empty() {
        let tagged = Query::select()
            .column(tags::Column::VulnerabilityId)
            .from(tags::Entity)
            .and_where(Expr::col(tags::Column::TeamId).eq(scope.team_id().as_uuid()))
            .and_where(Expr::col(tags::Column::Tag).is_in(query.tags.iter().map(|t| t.to_lowercase())))
            .to_owned();
        select = select.filter(vulns::Column::Id.in_subquery(tagged));
    }
    if !query.assets.is_empty() {
        select = select.filter(vulns::Column::Id.in_subquery(crate::assets::vulnerabilities_on(scope, &query.assets)));
    }
    if let Some(after) = query.created_after {
        select = select.filter(vulns::Column::CreatedAt.gte(after));
    }
    if let Some(before) = query.created_before {
        select = select.filter(vulns::Column::CreatedAt.lt(before));
    }
    if let Some(before) = query.due_before {
        select = select.filter(vulns::Column::DueAt.lt(before));
    }
    if let Some(known) = query.known_exploited {
        select = select.filter(vulns::Column::KnownExploited.eq(known));
    }
    if let Some(min) = query.epss_min {
        select = select.filter(vulns::Column::EpssScore.gte(min));
    }
    if query.in_component {
        select = select.filter(vulns::Column::ComponentName.is_not_null());
    }
    if !query.sla.is_empty() {
        let now = query.now;
        let open = [VulnStatus::Open.as_str(), VulnStatus::InProgress.as_str()];
        let mut states = sea_orm::Condition::any();
        for state in &query.sla {
            states = states.add(match state {
                SlaState::Breached => sea_orm::Condition::all().add(vulns::Column::DueAt.lte(now)),
                SlaState::DueSoon => {
                    sea_orm::Condition::all().add(vulns::Column::DueSoonAt.lte(now)).add(vulns::Column::DueAt.gt(now))
                }
                SlaState::OnTrack => sea_orm::Condition::all().add(vulns::Column::DueSoonAt.gt(now)),
            });
        }
        select = select.filter(vulns::Column::Status.is_in(open)).filter(states);
    }
    if let Some(text) = &query.text
        && let Some(condition) = search::condition(db_backend, scope, text)
    {
        select = select.filter(condition);
    }
    select
}

/// How many of the team's records match the query's filters (paging and
/// sort aside): the count the list shows above its rows.
pub async fn count_matching(db: &impl ConnectionTrait, scope: TeamScope, query: &ListQuery) -> StoreResult<u64> {
    Ok(matching(db.get_database_backend(), scope, query).count(db).await?)
}

/// One page of the team's vulnerabilities.
pub async fn list(db: &impl ConnectionTrait, scope: TeamScope, query: &ListQuery) -> StoreResult<Page> {
    let mut select = matching(db.get_database_backend(), scope, query);
    let direction = query.sort.direction();
    let after = query.after.as_ref().filter(|p| matches_sort(query.sort, p));
    // The previous page is the next page of the reversed order, read
    // backwards from the first row shown.
    let before = query.before.as_ref().filter(|p| after.is_none() && matches_sort(query.sort, p));
    let walk = match (before.is_some(), direction) {
        (false, d) => d,
        (true, Direction::Asc) => Direction::Desc,
        (true, Direction::Desc) => Direction::Asc,
    };
    if let Some(position) = after.or(before) {
        let keys = Expr::tuple(sort_keys(query.sort));
        let values = Expr::tuple(position_values(position));
        select = select.filter(match walk {
            Direction::Asc => keys.gt(values),
            Direction::Desc => keys.lt(values),
        });
    }
    let order = match walk {
        Direction::Asc => Order::Asc,
        Direction::Desc => Order::Desc,
    };
    for key in sort_keys(query.sort) {
        select = select.order_by(key, order.clone());
    }
    let limit = Ord::max(query.limit, 1);
    let mut rows = select.limit(limit + 1).all(db).await?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let (next, prev) = if before.is_some() {
        rows.reverse();
        // Came back from a later page, so one follows this one.
        let next = rows.last().map(|row| position_of(query.sort, row));
        let prev = has_more.then(|| rows.first().map(|row| position_of(query.sort, row))).flatten();
        (next, prev)
    } else {
        let next = has_more.then(|| rows.last().map(|row| position_of(query.sort, row))).flatten();
        let prev = after.and_then(|_| rows.first().map(|row| position_of(query.sort, row)));
        (next, prev)
    };
    Ok(Page { items: hydrate(db, scope, rows).await?, next, prev })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_names() {
        assert_eq!(Sort::parse("created"), Some(Sort::Created(Direction::Asc)));
        assert_eq!(Sort::parse("-severity"), Some(Sort::Severity(Direction::Desc)));
        assert_eq!(Sort::parse("-cvss"), Some(Sort::Cvss(Direction::Desc)));
        assert_eq!(Sort::parse("due"), Some(Sort::Due(Direction::Asc)));
        assert_eq!(Sort::parse("-epss"), Some(Sort::Epss(Direction::Desc)));
        assert_eq!(Sort::parse("-priority"), Some(Sort::Priority(Direction::Desc)));
        assert_eq!(Sort::parse("title"), None);
        assert_eq!(Sort::parse("--created"), None);
    }
}

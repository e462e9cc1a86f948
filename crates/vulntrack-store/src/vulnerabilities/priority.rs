//! What the CVE catalogue says of each record, kept on the record so lists
//! filter and sort by it: whether its CVE is known exploited (KEV), its
//! EPSS probability, and its priority (see
//! [`vulntrack_domain::vulnerability::priority`]).
//!
//! Refreshed for the records whose inputs changed: a record written by a
//! person, an asset whose criticality or environment changed, the CVEs a
//! catalogue load changed. Records an import creates get theirs as they
//! are built. These columns are derived: writing them moves neither the
//! record's version nor its `updated_at`.
//!
//! The queries name their columns (no entity-wide SELECT), so migration 32
//! can run this to fill the columns it adds.

use std::{collections::HashMap, str::FromStr};

use sea_orm::{
    ConnectionTrait,
    sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query, SelectStatement},
};
use uuid::Uuid;
use vulntrack_domain::{
    asset::{Criticality, Environment},
    vulnerability::{
        Severity,
        priority::{PriorityInputs, asset_points, priority},
    },
};

use crate::{error::StoreResult, scope::TeamScope};

/// A record's catalogue-derived fields.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Intel {
    pub known_exploited: bool,
    pub epss: Option<f64>,
    pub priority: i16,
}

/// What the catalogue says of one CVE, as far as a priority needs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CveSignal {
    pub known_exploited: bool,
    pub epss: Option<f64>,
}

/// Which records to refresh.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// These records of the team.
    Records(TeamScope, &'a [Uuid]),
    /// Every record of the team on this asset.
    Asset(TeamScope, Uuid),
    /// Every record, of any team, with one of these CVE ids.
    Cves(&'a [String]),
    /// Every record (migration 32).
    All,
}

/// Records read and written per round trip.
const CHUNK: usize = 500;

/// The catalogue's signals for `cve_ids` (ids it does not hold are absent).
pub async fn signals(db: &impl ConnectionTrait, cve_ids: &[String]) -> StoreResult<HashMap<String, CveSignal>> {
    let mut found = HashMap::new();
    for chunk in cve_ids.chunks(CHUNK) {
        let query = Query::select()
            .columns([Alias::new("id"), Alias::new("kev_date_added"), Alias::new("epss_score")])
            .from(Alias::new("cves"))
            .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().cloned()))
            .to_owned();
        for row in db.query_all(&query).await? {
            let id: String = row.try_get_by_index(0)?;
            let added: Option<chrono::NaiveDate> = row.try_get_by_index(1)?;
            let epss: Option<f64> = row.try_get_by_index(2)?;
            found.insert(id, CveSignal { known_exploited: added.is_some(), epss });
        }
    }
    Ok(found)
}

/// The most critical (and most exposed) of each record's assets.
async fn assets_of(db: &impl ConnectionTrait, ids: &[Uuid]) -> StoreResult<HashMap<Uuid, (Criticality, Environment)>> {
    let mut found: HashMap<Uuid, (Criticality, Environment)> = HashMap::new();
    let query = Query::select()
        .column((Alias::new("l"), Alias::new("vulnerability_id")))
        .column((Alias::new("a"), Alias::new("criticality")))
        .column((Alias::new("a"), Alias::new("environment")))
        .from_as(Alias::new("vulnerability_assets"), Alias::new("l"))
        .join_as(
            JoinType::InnerJoin,
            Alias::new("assets"),
            Alias::new("a"),
            Expr::col((Alias::new("a"), Alias::new("id"))).equals((Alias::new("l"), Alias::new("asset_id"))).and(
                Expr::col((Alias::new("a"), Alias::new("team_id"))).equals((Alias::new("l"), Alias::new("team_id"))),
            ),
        )
        .and_where(Expr::col((Alias::new("l"), Alias::new("vulnerability_id"))).is_in(ids.iter().copied()))
        .to_owned();
    for row in db.query_all(&query).await? {
        let id: Uuid = row.try_get_by_index(0)?;
        let criticality: String = row.try_get_by_index(1)?;
        let environment: String = row.try_get_by_index(2)?;
        let (Ok(criticality), Ok(environment)) =
            (Criticality::from_str(&criticality), Environment::from_str(&environment))
        else {
            continue;
        };
        let candidate = (criticality, environment);
        found
            .entry(id)
            .and_modify(|best| {
                if asset_points(candidate.0, candidate.1) > asset_points(best.0, best.1) {
                    *best = candidate;
                }
            })
            .or_insert(candidate);
    }
    Ok(found)
}

/// One record as a priority needs it.
struct Row {
    id: Uuid,
    severity: Severity,
    cvss_score: Option<f64>,
    cve_id: Option<String>,
    stored: Intel,
}

fn select_rows() -> SelectStatement {
    Query::select()
        .columns(
            ["id", "severity", "cvss_score", "cve_id", "known_exploited", "epss_score", "priority"].map(Alias::new),
        )
        .from(Alias::new("vulnerabilities"))
        .to_owned()
}

async fn read_rows(db: &impl ConnectionTrait, query: &SelectStatement) -> StoreResult<Vec<Row>> {
    let mut rows = Vec::new();
    for row in db.query_all(query).await? {
        let severity: String = row.try_get_by_index(1)?;
        rows.push(Row {
            id: row.try_get_by_index(0)?,
            severity: Severity::from_str(&severity).unwrap_or(Severity::Info),
            cvss_score: row.try_get_by_index(2)?,
            cve_id: row.try_get_by_index(3)?,
            stored: Intel {
                known_exploited: row.try_get_by_index(4)?,
                epss: row.try_get_by_index(5)?,
                priority: row.try_get_by_index(6)?,
            },
        });
    }
    Ok(rows)
}

/// The fields of a record with these inputs.
pub fn intel_of(
    severity: Severity,
    cvss_score: Option<f64>,
    signal: Option<CveSignal>,
    asset: Option<(Criticality, Environment)>,
) -> Intel {
    let signal = signal.unwrap_or_default();
    let inputs =
        PriorityInputs { severity, cvss_score, known_exploited: signal.known_exploited, epss: signal.epss, asset };
    Intel { known_exploited: signal.known_exploited, epss: signal.epss, priority: priority(&inputs) }
}

/// Recomputes the fields of `rows` and writes those that changed; returns
/// every row's fields.
async fn refresh_rows(db: &impl ConnectionTrait, rows: Vec<Row>) -> StoreResult<HashMap<Uuid, Intel>> {
    let mut cve_ids: Vec<String> = rows.iter().filter_map(|r| r.cve_id.clone()).collect();
    cve_ids.sort_unstable();
    cve_ids.dedup();
    let signals = signals(db, &cve_ids).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let assets = assets_of(db, &ids).await?;
    let mut computed = HashMap::with_capacity(rows.len());
    // Records that end with the same fields are written by one UPDATE.
    let mut changed: HashMap<(bool, Option<u64>, i16), Vec<Uuid>> = HashMap::new();
    for row in rows {
        let signal = row.cve_id.as_ref().and_then(|id| signals.get(id)).copied();
        let intel = intel_of(row.severity, row.cvss_score, signal, assets.get(&row.id).copied());
        if intel != row.stored {
            changed
                .entry((intel.known_exploited, intel.epss.map(f64::to_bits), intel.priority))
                .or_default()
                .push(row.id);
        }
        computed.insert(row.id, intel);
    }
    for ((known_exploited, epss, priority), ids) in changed {
        let update = Query::update()
            .table(Alias::new("vulnerabilities"))
            .value(Alias::new("known_exploited"), known_exploited)
            .value(Alias::new("epss_score"), epss.map(f64::from_bits))
            .value(Alias::new("priority"), priority)
            .and_where(Expr::col(Alias::new("id")).is_in(ids))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(computed)
}

/// Recomputes the catalogue fields and priority of `target`'s records and
/// writes those that changed; returns each record's fields.
pub async fn refresh(db: &impl ConnectionTrait, target: Target<'_>) -> StoreResult<HashMap<Uuid, Intel>> {
    let mut all = HashMap::new();
    match target {
        Target::Records(scope, ids) => {
            for chunk in ids.chunks(CHUNK) {
                let query = select_rows()
                    .and_where(Expr::col(Alias::new("team_id")).eq(scope.team_id().as_uuid()))
                    .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().copied()))
                    .to_owned();
                all.extend(refresh_rows(db, read_rows(db, &query).await?).await?);
            }
        }
        Target::Asset(scope, asset) => {
            let on_asset = Query::select()
                .column(Alias::new("vulnerability_id"))
                .from(Alias::new("vulnerability_assets"))
                .and_where(Expr::col(Alias::new("team_id")).eq(scope.team_id().as_uuid()))
                .and_where(Expr::col(Alias::new("asset_id")).eq(asset))
                .to_owned();
            let ids: Vec<Uuid> =
                db.query_all(&on_asset).await?.iter().map(|r| r.try_get_by_index(0)).collect::<Result<_, _>>()?;
            return Box::pin(refresh(db, Target::Records(scope, &ids))).await;
        }
        Target::Cves(cve_ids) => {
            for chunk in cve_ids.chunks(CHUNK) {
                let query =
                    select_rows().and_where(Expr::col(Alias::new("cve_id")).is_in(chunk.iter().cloned())).to_owned();
                all.extend(refresh_rows(db, read_rows(db, &query).await?).await?);
            }
        }
        Target::All => {
            let mut after: Option<Uuid> = None;
            loop {
                let mut query = select_rows().order_by(Alias::new("id"), Order::Asc).limit(CHUNK as u64).to_owned();
                if let Some(after) = after {
                    query.and_where(Expr::col(Alias::new("id")).gt(after));
                }
                let rows = read_rows(db, &query).await?;
                let Some(last) = rows.last().map(|r| r.id) else { break };
                refresh_rows(db, rows).await?;
                after = Some(last);
            }
        }
    }
    Ok(all)
}

/// An open record, in any team, whose CVE is one of those asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenWithCve {
    pub scope: TeamScope,
    pub id: Uuid,
    pub number: i64,
    pub title: String,
    pub cve_id: String,
    pub assignee_id: Option<vulntrack_domain::UserId>,
}

/// The open records (OPEN, IN_PROGRESS) of every team with one of
/// `cve_ids`, by the CVE index.
pub async fn open_with_cves(db: &impl ConnectionTrait, cve_ids: &[String]) -> StoreResult<Vec<OpenWithCve>> {
    let mut found = Vec::new();
    for chunk in cve_ids.chunks(CHUNK) {
        let query = Query::select()
            .columns(["team_id", "id", "number", "title", "cve_id", "assignee_id"].map(Alias::new))
            .from(Alias::new("vulnerabilities"))
            .and_where(Expr::col(Alias::new("cve_id")).is_in(chunk.iter().cloned()))
            .and_where(Expr::col(Alias::new("status")).is_in(["OPEN", "IN_PROGRESS"]))
            .order_by(Alias::new("team_id"), Order::Asc)
            .order_by(Alias::new("number"), Order::Asc)
            .to_owned();
        for row in db.query_all(&query).await? {
            let team: Uuid = row.try_get_by_index(0)?;
            let assignee: Option<Uuid> = row.try_get_by_index(5)?;
            found.push(OpenWithCve {
                scope: TeamScope::new(vulntrack_domain::TeamId::from_uuid(team)),
                id: row.try_get_by_index(1)?,
                number: row.try_get_by_index(2)?,
                title: row.try_get_by_index(3)?,
                cve_id: row.try_get_by_index(4)?,
                assignee_id: assignee.map(vulntrack_domain::UserId::from_uuid),
            });
        }
    }
    Ok(found)
}

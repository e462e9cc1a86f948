//! Scanner imports: the history of each team's imports, which records each
//! one created, changed, reopened or closed, and the bulk reads and writes
//! an import makes on the findings already known on its asset.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;
use uuid::Uuid;
use vulntrack_domain::{
    UserId,
    vulnerability::{Resolution, Severity, VulnStatus, scanner::ScannerFields},
};

use crate::{
    entity::{finding_sightings, import_findings, imports, vulnerabilities as vulns},
    error::{StoreError, StoreResult},
    scope::TeamScope,
    vulnerabilities::{self, Vulnerability, fill_scan, from_row},
};

/// Rows per bulk statement: well under both backends' parameter limits.
const CHUNK: usize = 500;

/// What an import did, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub reopened: u64,
    pub closed: u64,
    /// Distinct findings in the report (after merging repeats).
    pub total: u64,
    /// Findings left out (below the minimum severity).
    pub skipped: u64,
}

/// One import, as its history shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub format: String,
    pub scanner: Option<String>,
    pub file_name: String,
    pub file_size: u64,
    pub sha256: String,
    /// `USER`, `TOKEN` or `CLI`, as the audit log names actors.
    pub actor_kind: String,
    pub actor_id: Option<UserId>,
    pub close_missing: bool,
    pub minimum_severity: Option<Severity>,
    pub tags: Vec<String>,
    pub counts: ImportCounts,
    pub duration_ms: u64,
    pub warnings: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// What an import did to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Created,
    Updated,
    Reopened,
    Closed,
}

impl Outcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Reopened => "reopened",
            Outcome::Closed => "closed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Outcome::Created, Outcome::Updated, Outcome::Reopened, Outcome::Closed]
            .into_iter()
            .find(|o| o.as_str() == text)
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

impl From<imports::Model> for Import {
    fn from(row: imports::Model) -> Self {
        Self {
            id: row.id,
            asset_id: row.asset_id,
            scanner: row.scanner,
            file_name: row.file_name,
            file_size: count(row.file_size),
            sha256: row.sha256,
            actor_kind: row.actor_kind,
            actor_id: row.actor_id.map(UserId::from_uuid),
            close_missing: row.close_missing,
            minimum_severity: row.minimum_severity.and_then(|s| s.parse().ok()),
            tags: strings(&row.tags),
            counts: ImportCounts {
                created: count(row.created),
                updated: count(row.updated),
                unchanged: count(row.unchanged),
                reopened: count(row.reopened),
                closed: count(row.closed),
                total: count(row.total),
                skipped: count(row.skipped),
            },
            duration_ms: count(row.duration_ms),
            warnings: strings(&row.warnings),
            format: row.format,
            created_at: row.created_at,
        }
    }
}

/// Records an import and what it did to each record it touched.
pub async fn insert(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    import: &Import,
    outcomes: &[(Uuid, Outcome)],
) -> StoreResult<()> {
    let team = scope.team_id().as_uuid();
    let c = import.counts;
    imports::Entity::insert(imports::ActiveModel {
        id: Set(import.id),
        team_id: Set(team),
        asset_id: Set(import.asset_id),
        format: Set(import.format.clone()),
        scanner: Set(import.scanner.clone()),
        file_name: Set(import.file_name.clone()),
        file_size: Set(signed(import.file_size)),
        sha256: Set(import.sha256.clone()),
        actor_kind: Set(import.actor_kind.clone()),
        actor_id: Set(import.actor_id.map(|u| u.as_uuid())),
        close_missing: Set(import.close_missing),
        minimum_severity: Set(import.minimum_severity.map(|s| s.as_str().to_owned())),
        tags: Set(json!(import.tags)),
        created: Set(signed(c.created)),
        updated: Set(signed(c.updated)),
        unchanged: Set(signed(c.unchanged)),
        reopened: Set(signed(c.reopened)),
        closed: Set(signed(c.closed)),
        total: Set(signed(c.total)),
        skipped: Set(signed(c.skipped)),
        duration_ms: Set(signed(import.duration_ms)),
        warnings: Set(json!(import.warnings)),
        created_at: Set(import.created_at),
    })
    .exec_without_returning(db)
    .await?;
    let rows = outcomes.iter().map(|(vulnerability, outcome)| import_findings::ActiveModel {
        import_id: Set(import.id),
        team_id: Set(team),
        vulnerability_id: Set(*vulnerability),
        outcome: Set(outcome.as_str().to_owned()),
    });
    crate::bulk::insert(db, rows.collect(), None, None).await
}

/// One import of the team.
pub async fn get(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<Import> {
    imports::Entity::find()
        .filter(imports::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(imports::Column::Id.eq(id))
        .one(db)
        .await?
        .map(Import::from)
        .ok_or(StoreError::NotFound)
}

/// Which imports to list.
#[derive(Debug, Clone, Default)]
pub struct ImportQuery {
    pub asset: Option<Uuid>,
    /// Continue after this import (newest first).
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u64,
}

/// The team's imports, newest first.
pub async fn list(db: &impl ConnectionTrait, scope: TeamScope, query: &ImportQuery) -> StoreResult<Vec<Import>> {
    let mut select = imports::Entity::find().filter(imports::Column::TeamId.eq(scope.team_id().as_uuid()));
    if let Some(asset) = query.asset {
        select = select.filter(imports::Column::AssetId.eq(asset));
    }
    if let Some((at, id)) = query.after {
        select = select.filter(
            sea_orm::Condition::any()
                .add(imports::Column::CreatedAt.lt(at))
                .add(sea_orm::Condition::all().add(imports::Column::CreatedAt.eq(at)).add(imports::Column::Id.lt(id))),
        );
    }
    let rows = select
        .order_by_desc(imports::Column::CreatedAt)
        .order_by_desc(imports::Column::Id)
        .limit(query.limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Import::from).collect())
}

/// The records an import created, changed, reopened or closed, with what
/// it did to each (at most `limit`, by key).
pub async fn outcomes(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    import: Uuid,
    limit: u64,
) -> StoreResult<Vec<(Outcome, Vulnerability)>> {
    let team = scope.team_id().as_uuid();
    let asset = get(db, scope, import).await?.asset_id;
    // The records it created name it (read by its asset's findings index);
    // what it did to others is in `import_findings`.
    let created = vulns::Entity::find()
        .filter(vulns::Column::TeamId.eq(team))
        .filter(vulns::Column::FindingAssetId.eq(asset))
        .filter(vulns::Column::CreatedByImport.eq(import))
        .order_by_asc(vulns::Column::Number)
        .limit(limit)
        .all(db)
        .await?;
    let links = import_findings::Entity::find()
        .filter(import_findings::Column::TeamId.eq(team))
        .filter(import_findings::Column::ImportId.eq(import))
        .all(db)
        .await?;
    let mut by_id: std::collections::HashMap<Uuid, Outcome> =
        links.iter().filter_map(|l| Some((l.vulnerability_id, Outcome::parse(&l.outcome)?))).collect();
    by_id.extend(created.iter().map(|row| (row.id, Outcome::Created)));
    let mut found = created;
    let linked: Vec<Uuid> = links.iter().map(|l| l.vulnerability_id).collect();
    for chunk in linked.chunks(CHUNK) {
        let rows = vulns::Entity::find()
            .filter(vulns::Column::TeamId.eq(team))
            .filter(vulns::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        found.extend(rows);
    }
    found.sort_by_key(|row| row.number);
    found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let records = vulnerabilities::hydrate(db, scope, found).await?;
    Ok(records.into_iter().filter_map(|v| Some((*by_id.get(&v.id)?, v))).collect())
}

/// The findings already known on an asset (records with a fingerprint
/// there), without tags or asset links: what an import compares against.
pub async fn known_findings(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    asset: Uuid,
) -> StoreResult<Vec<Vulnerability>> {
    let rows = vulns::Entity::find()
        .filter(vulns::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(vulns::Column::FindingAssetId.eq(asset))
        .filter(vulns::Column::Fingerprint.is_not_null())
        .all(db)
        .await?;
    rows.into_iter().map(|row| from_row(row, Vec::new())).collect()
}

/// A change an import makes to a record it found again.
#[derive(Debug, Clone)]
pub struct Refresh<'a> {
    pub current: &'a Vulnerability,
    pub scan: ScannerFields,
    /// The report's severity, when a person has not set one.
    pub severity: Severity,
    /// Reopen a resolved record.
    pub reopen: bool,
}

/// Writes each refresh (one UPDATE per record: each differs), bumping the
/// version so an edit computed before the import is refused as stale.
pub async fn refresh(db: &impl ConnectionTrait, scope: TeamScope, refreshes: &[Refresh<'_>]) -> StoreResult<()> {
    let now = Utc::now();
    // A new severity moves the record's SLA deadlines.
    let resevered = refreshes.iter().any(|c| c.severity != c.current.record.severity);
    let sla = if resevered { Some(crate::teams::get(db, scope).await?.sla) } else { None };
    for change in refreshes {
        let mut model = vulns::ActiveModel {
            severity: Set(change.severity.as_str().to_owned()),
            severity_rank: Set(change.severity.rank()),
            updated_at: Set(now),
            version: Set(change.current.version + 1),
            ..Default::default()
        };
        fill_scan(&mut model, &change.scan);
        if let Some(sla) = sla.as_ref().filter(|_| change.severity != change.current.record.severity) {
            crate::vulnerabilities::deadlines::fill(&mut model, sla, change.severity, change.current.window_start());
        }
        // Where the fingerprint lives does not change on a refresh.
        model.finding_asset_id = sea_orm::ActiveValue::NotSet;
        if change.reopen {
            model.status = Set(VulnStatus::Open.as_str().to_owned());
            model.resolved_at = Set(None);
            model.resolution = Set(None);
            model.resolution_note = Set(None);
            model.duplicate_of = Set(None);
            model.risk_accepted_until = Set(None);
        }
        let result = vulns::Entity::update_many()
            .set(model)
            .filter(vulns::Column::Id.eq(change.current.id))
            .filter(vulns::Column::TeamId.eq(scope.team_id().as_uuid()))
            .filter(vulns::Column::Version.eq(change.current.version))
            .exec(db)
            .await?;
        if result.rows_affected == 0 {
            return Err(StoreError::Stale);
        }
    }
    let resevered: Vec<Uuid> =
        refreshes.iter().filter(|c| c.severity != c.current.record.severity).map(|c| c.current.id).collect();
    crate::vulnerabilities::priority::refresh(db, crate::vulnerabilities::priority::Target::Records(scope, &resevered))
        .await?;
    Ok(())
}

/// Notes that a report listed these records again, unchanged (in the
/// narrow sightings table: see migration 19).
pub async fn mark_seen(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    ids: &[Uuid],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let rows = ids.iter().map(|id| finding_sightings::ActiveModel {
        vulnerability_id: Set(*id),
        team_id: Set(scope.team_id().as_uuid()),
        last_seen_at: Set(at),
    });
    let upsert = crate::bulk::Upsert { key: "vulnerability_id", update: &["last_seen_at"] };
    crate::bulk::insert(db, rows.collect(), None, Some(upsert)).await
}

/// Resolves records for `resolution`: FIXED for those a complete report
/// no longer lists, NOT_APPLICABLE for those it dismisses itself.
pub async fn resolve(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    ids: &[Uuid],
    resolution: Resolution,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    for chunk in ids.chunks(CHUNK) {
        vulns::Entity::update_many()
            .col_expr(vulns::Column::Status, Expr::value(VulnStatus::Resolved.as_str()))
            .col_expr(vulns::Column::Resolution, Expr::value(resolution.as_str()))
            .col_expr(vulns::Column::ResolutionNote, Expr::value(Option::<String>::None))
            .col_expr(vulns::Column::DuplicateOf, Expr::value(Option::<Uuid>::None))
            .col_expr(vulns::Column::RiskAcceptedUntil, Expr::value(Option::<chrono::NaiveDate>::None))
            .col_expr(vulns::Column::ResolvedAt, Expr::value(at))
            .col_expr(vulns::Column::UpdatedAt, Expr::value(at))
            .col_expr(vulns::Column::Version, Expr::col(vulns::Column::Version).add(1))
            .filter(vulns::Column::TeamId.eq(scope.team_id().as_uuid()))
            .filter(vulns::Column::Id.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    Ok(())
}

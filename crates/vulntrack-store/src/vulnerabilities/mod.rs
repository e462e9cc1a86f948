//! The team's vulnerability register. Every function takes the team's
//! [`TeamScope`] and filters by it; another team's record is `NotFound`.

pub(crate) mod deadlines;
mod list;
pub mod priority;
pub(crate) mod search;
mod stats;

pub use search::merge_pending as merge_search_index;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};
use serde_json::json;
use uuid::Uuid;
use vulntrack_domain::{
    TeamId, UserId,
    vulnerability::{
        record::VulnerabilityRecord,
        risk::{Dread, Stride},
        scanner::{Component, Location, ScannerFields},
    },
};

pub use list::{Assignees, Direction, ListQuery, Page, Position, Sort, count_matching};

pub use stats::{COMPLIANCE_DAYS, SeverityStatusCount, SlaCompliance, Stats, TrendDay, open_trend};

use crate::{
    entity::{finding_sightings as sightings, teams, vulnerabilities as vulns, vulnerability_tags as tags},
    error::{StoreError, StoreResult},
    scope::TeamScope,
};

/// The prefix of the short per-team keys (`VT-42`).
pub const KEY_PREFIX: &str = "VT-";

/// A stored vulnerability.
#[derive(Debug, Clone, PartialEq)]
pub struct Vulnerability {
    pub id: Uuid,
    pub team_id: TeamId,
    pub number: i64,
    pub record: VulnerabilityRecord,
    pub reporter_id: Option<UserId>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change; the `ETag` that `If-Match` is checked against.
    pub version: i64,
    /// The asset records the `assets` names resolve to.
    pub asset_ids: Vec<Uuid>,
    /// What a scanner reported (`source = "manual"` for a typed record).
    pub scan: ScannerFields,
    /// The asset an imported finding's fingerprint is known on.
    pub finding_asset_id: Option<Uuid>,
    /// A person set the severity, so imports leave it alone.
    pub severity_overridden: bool,
    /// The SLA's due time and when it is due soon, if its severity has one.
    pub deadlines: Option<vulntrack_domain::vulnerability::sla::Deadlines>,
    /// What the CVE catalogue says of it, and its priority.
    pub intel: priority::Intel,
}

impl Vulnerability {
    /// The short key people use: `VT-42`.
    pub fn key(&self) -> String {
        format!("{KEY_PREFIX}{}", self.number)
    }
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn scan_of(row: &vulns::Model) -> ScannerFields {
    let component = row.component_name.clone().map(|name| Component {
        name,
        version: row.component_version.clone(),
        purl: row.component_purl.clone(),
        ecosystem: row.component_ecosystem.clone(),
    });
    ScannerFields {
        source: row.source.clone(),
        scanner: row.scanner.clone(),
        tool: row.scanner_tool.clone(),
        rule_id: row.rule_id.clone(),
        cwe_ids: row
            .cwe_ids
            .as_ref()
            .and_then(|v| v.as_array())
            .map(|items| items.iter().filter_map(|n| n.as_u64().and_then(|n| u32::try_from(n).ok())).collect())
            .unwrap_or_default(),
        component,
        fixed_version: row.fixed_version.clone(),
        location: Location {
            file: row.location_file.clone(),
            line: row.location_line.and_then(|n| u32::try_from(n).ok()),
            url: row.location_url.clone(),
            host: row.location_host.clone(),
            port: row.location_port.and_then(|n| u16::try_from(n).ok()),
            protocol: row.location_protocol.clone(),
        },
        fingerprint: row.fingerprint.clone(),
        first_seen_at: row.first_seen_at,
        last_seen_at: row.last_seen_at,
        occurrences: row.occurrences.and_then(|n| u32::try_from(n).ok()),
    }
}

/// Writes the scanner's fields into an active model.
pub(crate) fn fill_scan(model: &mut vulns::ActiveModel, scan: &ScannerFields) {
    let component = scan.component.as_ref();
    model.source = Set(scan.source.clone());
    model.scanner = Set(scan.scanner.clone());
    model.scanner_tool = Set(scan.tool.clone());
    model.rule_id = Set(scan.rule_id.clone());
    model.cwe_ids = Set((!scan.cwe_ids.is_empty()).then(|| json!(scan.cwe_ids)));
    model.component_name = Set(component.map(|c| c.name.clone()));
    model.component_version = Set(component.and_then(|c| c.version.clone()));
    model.component_purl = Set(component.and_then(|c| c.purl.clone()));
    model.component_ecosystem = Set(component.and_then(|c| c.ecosystem.clone()));
    model.fixed_version = Set(scan.fixed_version.clone());
    model.location_file = Set(scan.location.file.clone());
    model.location_line = Set(scan.location.line.and_then(|n| i32::try_from(n).ok()));
    model.location_url = Set(scan.location.url.clone());
    model.location_host = Set(scan.location.host.clone());
    model.location_port = Set(scan.location.port.map(i32::from));
    model.location_protocol = Set(scan.location.protocol.clone());
    model.fingerprint = Set(scan.fingerprint.clone());
    model.first_seen_at = Set(scan.first_seen_at);
    model.last_seen_at = Set(scan.last_seen_at);
    model.occurrences = Set(scan.occurrences.and_then(|n| i32::try_from(n).ok()));
}

impl Vulnerability {
    /// When its SLA window started: first seen by a scanner, else created.
    pub fn window_start(&self) -> chrono::DateTime<Utc> {
        self.scan.first_seen_at.unwrap_or(self.created_at)
    }
}

pub(crate) fn from_row(row: vulns::Model, tags: Vec<String>) -> StoreResult<Vulnerability> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("vulnerability {} has a bad {what}", row.id));
    let factor = |v: Option<i16>| v.and_then(|n| u8::try_from(n).ok());
    let dread = match (
        factor(row.dread_damage),
        factor(row.dread_reproducibility),
        factor(row.dread_exploitability),
        factor(row.dread_affected_users),
        factor(row.dread_discoverability),
    ) {
        (Some(damage), Some(reproducibility), Some(exploitability), Some(affected_users), Some(discoverability)) => {
            Some(Dread { damage, reproducibility, exploitability, affected_users, discoverability })
        }
        _ => None,
    };
    let scan = scan_of(&row);
    let deadlines = deadlines::of(&row);
    let record = VulnerabilityRecord {
        severity: row.severity.parse().map_err(|_| corrupt("severity"))?,
        status: row.status.parse().map_err(|_| corrupt("status"))?,
        kind: row.kind.parse().map_err(|_| corrupt("kind"))?,
        title: row.title,
        description: row.description,
        cve_id: row.cve_id,
        cvss_vector: row.cvss_vector,
        cvss_version: row.cvss_version,
        cvss_score: row.cvss_score,
        dread,
        stride: Stride {
            spoofing: row.stride_spoofing,
            tampering: row.stride_tampering,
            repudiation: row.stride_repudiation,
            information_disclosure: row.stride_information_disclosure,
            denial_of_service: row.stride_denial_of_service,
            elevation_of_privilege: row.stride_elevation_of_privilege,
        },
        assets: strings(&row.assets),
        references: strings(&row.reference_links),
        remediation: row.remediation,
        assignee_id: row.assignee_id.map(UserId::from_uuid),
        tags,
        resolution: row.resolution.as_deref().map(str::parse).transpose().map_err(|_| corrupt("resolution"))?,
        resolution_note: row.resolution_note,
        duplicate_of: row.duplicate_of,
        risk_accepted_until: row.risk_accepted_until,
    };
    Ok(Vulnerability {
        id: row.id,
        team_id: TeamId::from_uuid(row.team_id),
        number: row.number,
        record,
        reporter_id: row.reporter_id.map(UserId::from_uuid),
        resolved_at: row.resolved_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
        asset_ids: Vec::new(),
        scan,
        finding_asset_id: row.finding_asset_id,
        severity_overridden: row.severity_overridden,
        deadlines,
        intel: priority::Intel { known_exploited: row.known_exploited, epss: row.epss_score, priority: row.priority },
    })
}

/// Writes the record's fields into an active model.
fn fill(model: &mut vulns::ActiveModel, record: &VulnerabilityRecord) {
    let factor = |pick: fn(&Dread) -> u8| record.dread.as_ref().map(|d| i16::from(pick(d)));
    model.title = Set(record.title.clone());
    model.description = Set(record.description.clone());
    model.severity = Set(record.severity.as_str().to_string());
    model.severity_rank = Set(record.severity.rank());
    model.status = Set(record.status.as_str().to_string());
    model.kind = Set(record.kind.as_str().to_string());
    model.cve_id = Set(record.cve_id.clone());
    model.cvss_vector = Set(record.cvss_vector.clone());
    model.cvss_version = Set(record.cvss_version.clone());
    model.cvss_score = Set(record.cvss_score);
    model.dread_damage = Set(factor(|d| d.damage));
    model.dread_reproducibility = Set(factor(|d| d.reproducibility));
    model.dread_exploitability = Set(factor(|d| d.exploitability));
    model.dread_affected_users = Set(factor(|d| d.affected_users));
    model.dread_discoverability = Set(factor(|d| d.discoverability));
    model.dread_score = Set(record.dread_score());
    model.stride_spoofing = Set(record.stride.spoofing);
    model.stride_tampering = Set(record.stride.tampering);
    model.stride_repudiation = Set(record.stride.repudiation);
    model.stride_information_disclosure = Set(record.stride.information_disclosure);
    model.stride_denial_of_service = Set(record.stride.denial_of_service);
    model.stride_elevation_of_privilege = Set(record.stride.elevation_of_privilege);
    model.assets = Set(json!(record.assets));
    model.reference_links = Set(json!(record.references));
    model.remediation = Set(record.remediation.clone());
    model.assignee_id = Set(record.assignee_id.map(|id| id.as_uuid()));
    model.resolution = Set(record.resolution.map(|r| r.as_str().to_owned()));
    model.resolution_note = Set(record.resolution_note.clone());
    model.duplicate_of = Set(record.duplicate_of);
    model.risk_accepted_until = Set(record.risk_accepted_until);
}

/// Reserves `count` consecutive key numbers of the team and returns the
/// first (inside the caller's transaction, which holds the row lock).
async fn reserve_numbers(db: &impl ConnectionTrait, scope: TeamScope, count: i64) -> StoreResult<i64> {
    let update = Query::update()
        .table(teams::Entity)
        .value(teams::Column::NextVulnNumber, Expr::col(teams::Column::NextVulnNumber).add(count))
        .and_where(Expr::col(teams::Column::Id).eq(scope.team_id().as_uuid()))
        .returning_col(teams::Column::NextVulnNumber)
        .to_owned();
    let row = db.query_one(&update).await?.ok_or(StoreError::NotFound)?;
    let next: i64 = row.try_get_by_index(0)?;
    Ok(next - count)
}

/// Rows per INSERT: well under both backends' bound-parameter limits.
const BATCH_ROWS: usize = 500;

/// What [`create_many`] wrote.
#[derive(Debug, Default)]
pub struct CreatedMany {
    /// The new records' ids, in the order of the records given.
    pub ids: Vec<Uuid>,
    /// Assets the records named that did not exist yet (for the caller's
    /// audit rows).
    pub new_assets: Vec<crate::assets::Asset>,
}

/// Records many vulnerabilities at once (imports, seeding): numbers are
/// reserved in one step and rows go in multi-row INSERTs; the asset names
/// resolve to asset records (created when new) and are linked. On
/// PostgreSQL the rows of a large batch wait in the search index's pending
/// list: call [`merge_search_index`] once the transaction has committed.
pub async fn create_many(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    records: &[VulnerabilityRecord],
    reporter: Option<UserId>,
) -> StoreResult<CreatedMany> {
    create_findings(db, scope, records.to_vec(), None, reporter).await
}

/// What an import adds to the records it creates: each record's scanner
/// fields (in the order of the records), the asset their fingerprints are
/// known on, and the import (kept as the records' `created_by_import`).
#[derive(Debug)]
pub struct Findings {
    pub scans: Vec<ScannerFields>,
    pub asset: Uuid,
    pub import: Option<Uuid>,
}

/// [`create_many`], with each record's scanner fields when `findings` is
/// given. The rows are built on a blocking thread, a batch ahead of the
/// database writing them: on PostgreSQL building them was a quarter of a
/// 10 000-finding import, and it now overlaps the INSERTs.
pub async fn create_findings(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    records: Vec<VulnerabilityRecord>,
    findings: Option<Findings>,
    reporter: Option<UserId>,
) -> StoreResult<CreatedMany> {
    if records.is_empty() {
        return Ok(CreatedMany::default());
    }
    let first = reserve_numbers(db, scope, i64::try_from(records.len()).unwrap_or(i64::MAX)).await?;
    let first_fts = first_fts_rowid(db).await?;
    let asset_names: Vec<Vec<String>> = records.iter().map(|record| record.assets.clone()).collect();
    let bulk = records.len() >= search::BULK_ROWS;
    if bulk {
        search::defer_merges(db).await?;
    }
    let sla = crate::teams::get(db, scope).await?.sla;
    let mut cve_ids: Vec<String> = records.iter().filter_map(|r| r.cve_id.clone()).collect();
    cve_ids.sort_unstable();
    cve_ids.dedup();
    let signals = priority::signals(db, &cve_ids).await?;
    // An import's asset is known now; names of other records' assets
    // resolve below, and those records' priorities follow them there.
    let finding_asset = match &findings {
        Some(findings) => {
            let asset = crate::assets::get(db, scope, findings.asset).await?;
            Some((asset.criticality, asset.environment))
        }
        None => None,
    };
    let rows = NewRows {
        backend: db.get_database_backend(),
        scope,
        first,
        first_fts,
        reporter,
        now: Utc::now(),
        findings,
        sla,
        signals,
        finding_asset,
    };
    let (sender, mut batches) = tokio::sync::mpsc::channel(2);
    let builder = tokio::task::spawn_blocking(move || rows.build(records, &sender));
    while let Some(statements) = batches.recv().await {
        for statement in statements? {
            db.execute_raw(statement).await?;
        }
    }
    let (ids, tag_rows) =
        builder.await.map_err(|e| StoreError::Corrupt(format!("the rows could not be built: {e}")))?;
    if bulk {
        search::end_deferral(db).await?;
    }
    crate::bulk::insert(db, tag_rows, None, None).await?;
    let new_assets = link_assets(db, scope, &ids, &asset_names).await?;
    if finding_asset.is_none() {
        let on_assets: Vec<Uuid> =
            ids.iter().zip(&asset_names).filter(|(_, names)| !names.is_empty()).map(|(id, _)| *id).collect();
        priority::refresh(db, priority::Target::Records(scope, &on_assets)).await?;
    }
    Ok(CreatedMany { ids, new_assets })
}

/// What the rows of [`create_findings`] are made of, beside the records.
struct NewRows {
    backend: DbBackend,
    scope: TeamScope,
    first: i64,
    first_fts: Option<i64>,
    reporter: Option<UserId>,
    now: chrono::DateTime<Utc>,
    findings: Option<Findings>,
    /// The team's SLA policy, for each record's deadlines.
    sla: vulntrack_domain::vulnerability::sla::SlaPolicy,
    /// What the CVE catalogue says of the records' CVEs.
    signals: HashMap<String, priority::CveSignal>,
    /// An import's asset (criticality, environment), for the priorities.
    finding_asset: Option<(vulntrack_domain::asset::Criticality, vulntrack_domain::asset::Environment)>,
}

impl NewRows {
    /// Sends each batch's statements (its rows, and on SQLite its search
    /// terms) as they are built; returns the new ids and the tag rows.
    /// Stops when the receiver has gone (a write failed).
    fn build(
        self,
        records: Vec<VulnerabilityRecord>,
        batches: &tokio::sync::mpsc::Sender<StoreResult<Vec<sea_orm::Statement>>>,
    ) -> (Vec<Uuid>, Vec<tags::ActiveModel>) {
        let scope = self.scope;
        let mut ids = Vec::with_capacity(records.len());
        let mut tag_rows = Vec::new();
        for (offset, chunk) in records.chunks(BATCH_ROWS).enumerate() {
            let mut fts_rows = Vec::new();
            let models: Vec<vulns::ActiveModel> = chunk
                .iter()
                .enumerate()
                .map(|(i, record)| {
                    let id = Uuid::now_v7();
                    ids.push(id);
                    tag_rows.extend(record.tags.iter().map(|tag| tags::ActiveModel {
                        team_id: Set(scope.team_id().as_uuid()),
                        vulnerability_id: Set(id),
                        tag: Set(tag.clone()),
                    }));
                    let index = i64::try_from(offset * BATCH_ROWS + i).unwrap_or(0);
                    let fts_rowid = self.first_fts.map(|rowid| rowid + index);
                    if let Some(rowid) = fts_rowid {
                        fts_rows.push((rowid, search::indexed_terms(scope.team_id(), record)));
                    }
                    self.model(id, index, fts_rowid, record)
                })
                .collect();
            // PostgreSQL's search terms go in the row; SQLite's to its FTS
            // table, batch by batch (all of a large import's terms at once
            // would hold a copy of its text).
            let extra = search_terms(self.backend, scope, chunk);
            let statements = crate::bulk::statements(self.backend, models, extra, None).map(|mut statements| {
                statements.extend(search::sqlite_index_statements(fts_rows));
                statements
            });
            let failed = statements.is_err();
            if batches.blocking_send(statements).is_err() || failed {
                break;
            }
        }
        (ids, tag_rows)
    }

    fn model(&self, id: Uuid, index: i64, fts_rowid: Option<i64>, record: &VulnerabilityRecord) -> vulns::ActiveModel {
        let mut model = vulns::ActiveModel {
            id: Set(id),
            team_id: Set(self.scope.team_id().as_uuid()),
            number: Set(self.first + index),
            fts_rowid: Set(fts_rowid),
            reporter_id: Set(self.reporter.map(|r| r.as_uuid())),
            resolved_at: Set(record.is_resolved().then_some(self.now)),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            ..Default::default()
        };
        fill(&mut model, record);
        let scan = self.findings.as_ref().and_then(|f| Some((f, f.scans.get(usize::try_from(index).ok()?)?)));
        let since = scan.and_then(|(_, scan)| scan.first_seen_at).unwrap_or(self.now);
        deadlines::fill(&mut model, &self.sla, record.severity, since);
        let signal = record.cve_id.as_ref().and_then(|id| self.signals.get(id)).copied();
        let intel = priority::intel_of(record.severity, record.cvss_score, signal, self.finding_asset);
        model.known_exploited = Set(intel.known_exploited);
        model.epss_score = Set(intel.epss);
        model.priority = Set(intel.priority);
        match scan {
            Some((findings, scan)) => {
                fill_scan(&mut model, scan);
                model.finding_asset_id = Set(Some(findings.asset));
                model.created_by_import = Set(findings.import);
            }
            None => {
                fill_scan(&mut model, &ScannerFields::default());
                model.created_by_import = Set(None);
            }
        }
        model
    }
}

/// The lexemes PostgreSQL indexes `record` under, in `tsvector`'s input
/// form (for a benchmark's plain INSERT of the same rows).
pub fn search_lexemes(team: TeamId, record: &VulnerabilityRecord) -> String {
    search::tsvector_text(&search::indexed_terms(team, record))
}

/// Inserts rows built from `records` (one each, in order). On PostgreSQL
/// each row carries its search terms in the same INSERT (SQLite's go to
/// its FTS table).
async fn insert_rows(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    models: Vec<vulns::ActiveModel>,
    records: &[VulnerabilityRecord],
) -> StoreResult<()> {
    crate::bulk::insert(db, models, search_terms(db.get_database_backend(), scope, records), None).await
}

/// PostgreSQL's search terms of `records`, a column of their rows.
fn search_terms(
    backend: DbBackend,
    scope: TeamScope,
    records: &[VulnerabilityRecord],
) -> Option<crate::bulk::Extra<'static>> {
    (backend == DbBackend::Postgres).then(|| crate::bulk::Extra {
        name: "search_vector",
        cast: "tsvector",
        values: records.iter().map(|record| search_lexemes(scope.team_id(), record)).collect(),
    })
}

/// Links each record to the assets it names, each distinct name resolved
/// once; returns the assets that had to be created.
async fn link_assets(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    ids: &[Uuid],
    names: &[Vec<String>],
) -> StoreResult<Vec<crate::assets::Asset>> {
    let mut known: HashMap<String, Uuid> = HashMap::new();
    let mut created = Vec::new();
    let mut rows = Vec::new();
    for (id, names) in ids.iter().zip(names) {
        let mut linked: Vec<Uuid> = Vec::new();
        for name in names {
            let key = vulntrack_domain::asset::name_key(name);
            if key.is_empty() {
                continue;
            }
            let asset = match known.get(&key) {
                Some(asset) => *asset,
                None => {
                    let (asset, new) =
                        crate::assets::ensure_named(db, scope, std::slice::from_ref(name)).await?.remove(0);
                    known.insert(key, asset.id);
                    let asset_id = asset.id;
                    if new {
                        created.push(asset);
                    }
                    asset_id
                }
            };
            if !linked.contains(&asset) {
                linked.push(asset);
                rows.push(crate::entity::vulnerability_assets::ActiveModel {
                    team_id: Set(scope.team_id().as_uuid()),
                    vulnerability_id: Set(*id),
                    asset_id: Set(asset),
                });
            }
        }
    }
    crate::bulk::insert(db, rows, None, None).await?;
    Ok(created)
}

/// On SQLite, the first free row id of the FTS table; PostgreSQL indexes
/// through a generated column and needs none.
async fn first_fts_rowid(db: &impl ConnectionTrait) -> StoreResult<Option<i64>> {
    match db.get_database_backend() {
        DbBackend::Sqlite => Ok(Some(search::next_fts_rowid(db).await?)),
        _ => Ok(None),
    }
}

async fn replace_tags(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid, new_tags: &[String]) -> StoreResult<()> {
    tags::Entity::delete_many().filter(tags::Column::VulnerabilityId.eq(id)).exec(db).await?;
    let rows = new_tags.iter().map(|tag| tags::ActiveModel {
        team_id: Set(scope.team_id().as_uuid()),
        vulnerability_id: Set(id),
        tag: Set(tag.clone()),
    });
    tags::Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(())
}

/// The tags of each of `ids`, in one query.
pub(crate) async fn tags_of(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    ids: &[Uuid],
) -> StoreResult<HashMap<Uuid, Vec<String>>> {
    let mut by_id: HashMap<Uuid, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(by_id);
    }
    let rows = tags::Entity::find()
        .filter(tags::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(tags::Column::VulnerabilityId.is_in(ids.iter().copied()))
        .order_by_asc(tags::Column::Tag)
        .all(db)
        .await?;
    for row in rows {
        by_id.entry(row.vulnerability_id).or_default().push(row.tag);
    }
    Ok(by_id)
}

pub async fn hydrate(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    rows: Vec<vulns::Model>,
) -> StoreResult<Vec<Vulnerability>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut tags = tags_of(db, scope, &ids).await?;
    let mut assets = crate::assets::of_vulnerabilities(db, scope, &ids).await?;
    let mut sightings = sightings_of(db, scope, &ids).await?;
    rows.into_iter()
        .map(|row| {
            let row_tags = tags.remove(&row.id).unwrap_or_default();
            let asset_ids = assets.remove(&row.id).unwrap_or_default();
            let seen = sightings.remove(&row.id);
            from_row(row, row_tags).map(|mut v| {
                v.scan.last_seen_at = Ord::max(v.scan.last_seen_at, seen);
                Vulnerability { asset_ids, ..v }
            })
        })
        .collect()
}

/// When reimports last saw these records unchanged (see `imports::mark_seen`).
async fn sightings_of(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    ids: &[Uuid],
) -> StoreResult<HashMap<Uuid, DateTime<Utc>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sightings::Entity::find()
        .filter(sightings::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(sightings::Column::VulnerabilityId.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (row.vulnerability_id, row.last_seen_at)).collect())
}

/// Records a new vulnerability with the team's next key.
pub async fn create(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    record: &VulnerabilityRecord,
    reporter: Option<UserId>,
) -> StoreResult<Vulnerability> {
    let number = reserve_numbers(db, scope, 1).await?;
    let fts_rowid = first_fts_rowid(db).await?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let mut model = vulns::ActiveModel {
        id: Set(id),
        team_id: Set(scope.team_id().as_uuid()),
        number: Set(number),
        fts_rowid: Set(fts_rowid),
        reporter_id: Set(reporter.map(|r| r.as_uuid())),
        resolved_at: Set(record.is_resolved().then_some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    fill(&mut model, record);
    fill_scan(&mut model, &ScannerFields::default());
    let policy = crate::teams::get(db, scope).await?.sla;
    deadlines::fill(&mut model, &policy, record.severity, now);
    insert_rows(db, scope, vec![model], std::slice::from_ref(record)).await?;
    if let Some(rowid) = fts_rowid {
        search::index_sqlite(db, vec![(rowid, search::indexed_terms(scope.team_id(), record))]).await?;
    }
    replace_tags(db, scope, id, &record.tags).await?;
    get(db, scope, id).await
}

/// How a read inside a write transaction holds the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    Read,
    /// `SELECT … FOR UPDATE` on PostgreSQL; on SQLite the write transaction
    /// (`BEGIN IMMEDIATE`) already holds the database's write lock.
    ForUpdate,
}

async fn fetch(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    condition: sea_orm::Condition,
    hold: Hold,
) -> StoreResult<Vulnerability> {
    let mut select =
        vulns::Entity::find().filter(vulns::Column::TeamId.eq(scope.team_id().as_uuid())).filter(condition);
    if hold == Hold::ForUpdate {
        select = select.lock_exclusive();
    }
    let row = select.one(db).await?.ok_or(StoreError::NotFound)?;
    Ok(hydrate(db, scope, vec![row]).await?.remove(0))
}

/// A vulnerability of the team by id.
pub async fn get(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<Vulnerability> {
    fetch(db, scope, sea_orm::Condition::all().add(vulns::Column::Id.eq(id)), Hold::Read).await
}

/// A vulnerability of the team by its `VT-n` number.
pub async fn get_by_number(db: &impl ConnectionTrait, scope: TeamScope, number: i64) -> StoreResult<Vulnerability> {
    fetch(db, scope, sea_orm::Condition::all().add(vulns::Column::Number.eq(number)), Hold::Read).await
}

/// The condition that picks a record by UUID or by key (`VT-42`, any
/// letter case).
fn id_or_key_condition(id_or_key: &str) -> StoreResult<sea_orm::Condition> {
    if let Ok(id) = Uuid::parse_str(id_or_key) {
        return Ok(sea_orm::Condition::all().add(vulns::Column::Id.eq(id)));
    }
    let number = id_or_key
        .get(..KEY_PREFIX.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(KEY_PREFIX))
        .and_then(|_| id_or_key[KEY_PREFIX.len()..].parse::<i64>().ok())
        .ok_or(StoreError::NotFound)?;
    Ok(sea_orm::Condition::all().add(vulns::Column::Number.eq(number)))
}

/// Finds a vulnerability by UUID or by key (`VT-42`, any letter case).
pub async fn find(db: &impl ConnectionTrait, scope: TeamScope, id_or_key: &str) -> StoreResult<Vulnerability> {
    fetch(db, scope, id_or_key_condition(id_or_key)?, Hold::Read).await
}

/// Like [`find`], inside a write transaction, holding the row until it
/// ends so that a read-modify-write cannot lose a concurrent change.
pub async fn find_for_update(
    txn: &sea_orm::DatabaseTransaction,
    scope: TeamScope,
    id_or_key: &str,
) -> StoreResult<Vulnerability> {
    fetch(txn, scope, id_or_key_condition(id_or_key)?, Hold::ForUpdate).await
}

/// An SLA notice to send: 1 when a record became due soon, 2 when overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaNotice {
    pub scope: TeamScope,
    pub id: Uuid,
    pub level: i16,
}

/// Open records, in every team, whose due-soon (1) or due (2) time has
/// come at `now` and whose people have not had that notice for their
/// current due time; at most `limit`.
pub async fn sla_notices_due(db: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> StoreResult<Vec<SlaNotice>> {
    let backend = db.get_database_backend();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let (sql, values): (&str, Vec<sea_orm::Value>) = match backend {
        DbBackend::Postgres => (
            "SELECT team_id, id, CASE WHEN due_at <= $1 THEN 2 ELSE 1 END AS level FROM vulnerabilities \
             WHERE status IN ('OPEN', 'IN_PROGRESS') AND due_soon_at <= $1 \
             AND NOT (sla_notice IS NOT NULL AND sla_notice_due_at = due_at \
                      AND sla_notice >= CASE WHEN due_at <= $1 THEN 2 ELSE 1 END) \
             ORDER BY due_at LIMIT $2",
            vec![now.into(), limit.into()],
        ),
        _ => (
            "SELECT team_id, id, CASE WHEN due_at <= ?1 THEN 2 ELSE 1 END AS level FROM vulnerabilities \
             WHERE status IN ('OPEN', 'IN_PROGRESS') AND due_soon_at <= ?1 \
             AND NOT (sla_notice IS NOT NULL AND sla_notice_due_at = due_at \
                      AND sla_notice >= CASE WHEN due_at <= ?1 THEN 2 ELSE 1 END) \
             ORDER BY due_at LIMIT ?2",
            vec![now.into(), limit.into()],
        ),
    };
    let rows = db.query_all_raw(sea_orm::Statement::from_sql_and_values(backend, sql, values)).await?;
    rows.iter()
        .map(|row| {
            let team: Uuid = row.try_get("", "team_id")?;
            let id: Uuid = row.try_get("", "id")?;
            let level: i32 = row.try_get("", "level")?;
            Ok(SlaNotice {
                scope: TeamScope::new(TeamId::from_uuid(team)),
                id,
                level: i16::try_from(level).unwrap_or(2),
            })
        })
        .collect()
}

/// Notes that the record's people had notice `level` for its current due time.
pub async fn mark_sla_notice(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid, level: i16) -> StoreResult<()> {
    vulns::Entity::update_many()
        .col_expr(vulns::Column::SlaNotice, Expr::value(level))
        .col_expr(vulns::Column::SlaNoticeDueAt, Expr::col(vulns::Column::DueAt))
        .filter(vulns::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(vulns::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records whose risk acceptance ended before `today`, in every team
/// (the expiry job), the longest expired first, at most `limit`.
pub async fn expired_acceptances(
    db: &impl ConnectionTrait,
    today: chrono::NaiveDate,
    limit: u64,
) -> StoreResult<Vec<(TeamScope, Uuid)>> {
    use vulntrack_domain::vulnerability::{Resolution, VulnStatus};
    let rows: Vec<(Uuid, Uuid)> = vulns::Entity::find()
        .select_only()
        .column(vulns::Column::TeamId)
        .column(vulns::Column::Id)
        .filter(vulns::Column::RiskAcceptedUntil.lt(today))
        .filter(vulns::Column::Resolution.eq(Resolution::RiskAccepted.as_str()))
        .filter(vulns::Column::Status.is_in([VulnStatus::Resolved.as_str(), VulnStatus::Closed.as_str()]))
        .order_by_asc(vulns::Column::RiskAcceptedUntil)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(team, id)| (TeamScope::new(TeamId::from_uuid(team)), id)).collect())
}

/// Replaces the editable fields with `record` and bumps the version;
/// `Stale` if `current` is no longer the stored version. `resolved_at` is set when the
/// record becomes resolved and cleared when it is reopened.
pub async fn update(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    current: &Vulnerability,
    record: &VulnerabilityRecord,
) -> StoreResult<Vulnerability> {
    let now = Utc::now();
    let resolved_at = match (current.record.is_resolved(), record.is_resolved()) {
        (false, true) => Some(now),
        (true, true) => current.resolved_at,
        _ => None,
    };
    let mut model = vulns::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(current.id),
        resolved_at: Set(resolved_at),
        updated_at: Set(now),
        version: Set(current.version + 1),
        ..Default::default()
    };
    fill(&mut model, record);
    if record.severity != current.record.severity {
        model.severity_overridden = Set(true);
        let policy = crate::teams::get(db, scope).await?.sla;
        deadlines::fill(&mut model, &policy, record.severity, current.window_start());
    }
    // The version condition makes a change computed from a stale read a
    // no-op that the caller sees, never a silent overwrite.
    let mut change = vulns::Entity::update_many().set(model);
    if db.get_database_backend() == DbBackend::Postgres && search::indexed_text_differs(&current.record, record) {
        change = change.col_expr(
            sea_orm::sea_query::Alias::new("search_vector"),
            search::postgres_vector(scope.team_id(), record),
        );
    }
    let result = change
        .filter(vulns::Column::Id.eq(current.id))
        .filter(vulns::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(vulns::Column::Version.eq(current.version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::Stale);
    }
    if db.get_database_backend() == DbBackend::Sqlite && search::indexed_text_differs(&current.record, record) {
        search::reindex_sqlite(db, current.id, search::indexed_terms(scope.team_id(), record)).await?;
    }
    if record.tags != current.record.tags {
        replace_tags(db, scope, current.id, &record.tags).await?;
    }
    get(db, scope, current.id).await
}

/// Clears `duplicate_of` where it names `original` (about to be deleted).
pub async fn forget_duplicate_of(db: &impl ConnectionTrait, scope: TeamScope, original: Uuid) -> StoreResult<()> {
    vulns::Entity::update_many()
        .col_expr(vulns::Column::DuplicateOf, Expr::value(Option::<Uuid>::None))
        .filter(vulns::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(vulns::Column::DuplicateOf.eq(original))
        .exec(db)
        .await?;
    Ok(())
}

/// Writes the scanner fields a person may set ([`scanner::INPUT_FIELDS`]:
/// rule, CWE ids, component, fixed version, location) of a record the
/// caller holds (created or read for update in this transaction).
///
/// [`scanner::INPUT_FIELDS`]: vulntrack_domain::vulnerability::scanner::INPUT_FIELDS
pub async fn set_scan_input(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    id: Uuid,
    scan: &ScannerFields,
) -> StoreResult<()> {
    let mut full = vulns::ActiveModel::default();
    fill_scan(&mut full, scan);
    let model = vulns::ActiveModel {
        rule_id: full.rule_id,
        cwe_ids: full.cwe_ids,
        component_name: full.component_name,
        component_version: full.component_version,
        component_purl: full.component_purl,
        component_ecosystem: full.component_ecosystem,
        fixed_version: full.fixed_version,
        location_file: full.location_file,
        location_line: full.location_line,
        location_url: full.location_url,
        location_host: full.location_host,
        location_port: full.location_port,
        location_protocol: full.location_protocol,
        ..Default::default()
    };
    vulns::Entity::update_many()
        .set(model)
        .filter(vulns::Column::Id.eq(id))
        .filter(vulns::Column::TeamId.eq(scope.team_id().as_uuid()))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes a vulnerability (its comments, tags and notifications go with
/// it); false when the team has no such record.
pub async fn delete(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<bool> {
    let result = vulns::Entity::delete_many()
        .filter(vulns::Column::Id.eq(id))
        .filter(vulns::Column::TeamId.eq(scope.team_id().as_uuid()))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// How many vulnerabilities the team has (for seeding and tests).
pub async fn count(db: &impl ConnectionTrait, scope: TeamScope) -> StoreResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(vulns::Entity::find()
        .filter(vulns::Column::TeamId.eq(scope.team_id().as_uuid()))
        .select_only()
        .column(vulns::Column::Id)
        .count(db)
        .await?)
}

pub use list::list;
pub use stats::stats;

//! Importing a scanner report onto an asset: parse (any of 22 formats),
//! deduplicate against the findings already known there by fingerprint,
//! create the new ones, refresh the ones found again, reopen the resolved
//! ones that reappear and resolve the open ones a complete report no longer
//! lists — all in one transaction, with one audit row for the import and
//! one per record it reopened or closed.
//!
//! What a person decided is never overwritten: status (other than the
//! automatic resolve/reopen above; a CLOSED record is never reopened),
//! assignee, a severity a person set, title, description, DREAD/STRIDE,
//! tags and comments.

use std::{collections::HashMap, time::Instant};

use chrono::Utc;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use vulntrack_domain::{
    Action, AuditAction, FieldError, UserId, ValidationErrors,
    vulnerability::{Resolution, Severity, VulnStatus, input::tag, scanner::ScannerFields},
};
use vulntrack_scanners::{Format, ParseError, Report, UnpackError};
use vulntrack_store::{
    Database, TeamScope,
    assets::{self, Asset},
    audit::{self, Actor, AuditEvent, RequestContext},
    imports::{self, Import, ImportCounts, Outcome, Refresh},
    notifications,
    vulnerabilities::{self, Findings, Vulnerability},
};

use crate::{
    app::AppState,
    auth::Principal,
    services::{ServiceError, import_mapping},
};

/// Who imports: a signed-in member (through the API or a page) or the
/// operator (the `vulntrack import` command).
#[derive(Debug, Clone)]
pub struct Importer {
    pub scope: TeamScope,
    pub actor: Actor,
    pub user: Option<UserId>,
}

impl Importer {
    /// A member, once their role is checked (ANALYST or ADMIN).
    pub async fn member(
        state: &AppState,
        principal: &Principal,
        context: &RequestContext,
    ) -> Result<Self, ServiceError> {
        principal.require(state, context, Action::WriteVulnerabilities).await?;
        Ok(Self { scope: principal.scope(), actor: principal.actor(), user: Some(principal.user.id) })
    }

    fn actor_kind(&self) -> &'static str {
        match self.actor {
            Actor::Token { .. } => "TOKEN",
            Actor::Cli => "CLI",
            _ => "USER",
        }
    }
}

/// Where a report to import is.
#[derive(Debug, Clone)]
pub enum ReportFile {
    /// Received in memory (an upload).
    Bytes(Vec<u8>),
    /// A file (the command line): a report of a format that streams is
    /// read from it as it is parsed, never held whole in memory.
    Path(std::path::PathBuf),
}

/// An upload and how to import it.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub file_name: String,
    pub data: ReportFile,
    /// `None` for `auto`.
    pub format: Option<Format>,
    /// The asset's id or name (created when the name is new).
    pub asset: String,
    pub close_missing: bool,
    pub minimum_severity: Option<Severity>,
    pub tags: Vec<String>,
}

/// The raw request fields as the API form and the CLI give them, checked
/// together so every bad one is reported at once.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions<'a> {
    pub format: Option<&'a str>,
    pub asset: Option<&'a str>,
    pub close_missing: Option<&'a str>,
    pub minimum_severity: Option<&'a str>,
    pub tags: Option<&'a str>,
}

/// The options made into a request for `file_name` holding `data`.
/// `data` is `None` when no file came (an empty file is a report with
/// nothing in it, which some tools write).
pub fn request(
    file_name: &str,
    data: Option<ReportFile>,
    options: &ImportOptions<'_>,
) -> Result<ImportRequest, ServiceError> {
    let mut errors = ValidationErrors::default();
    let format = match options.format.map(str::trim).filter(|f| !f.is_empty() && *f != "auto") {
        None => None,
        Some(name) => match name.parse::<Format>() {
            Ok(format) => Some(format),
            Err(unknown) => {
                errors.push(FieldError::new("format", "invalid", unknown.to_string()));
                None
            }
        },
    };
    let asset = options.asset.map(str::trim).unwrap_or("").to_owned();
    if asset.is_empty() {
        errors.push(FieldError::new("asset", "required", "is required: the id or name of the asset scanned"));
    } else if asset.chars().count() > vulntrack_domain::asset::NAME_MAX_CHARS {
        let max = vulntrack_domain::asset::NAME_MAX_CHARS;
        errors.push(FieldError::new("asset", "length", format!("must be at most {max} characters")));
    }
    let close_missing = match options.close_missing.map(|v| v.trim().to_ascii_lowercase()) {
        None => true,
        Some(v) if matches!(v.as_str(), "" | "true" | "on" | "1" | "yes") => true,
        Some(v) if matches!(v.as_str(), "false" | "off" | "0" | "no") => false,
        Some(_) => {
            errors.push(FieldError::new("close_missing", "invalid", "must be true or false"));
            true
        }
    };
    let minimum_severity = match options.minimum_severity.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => match text.to_ascii_uppercase().parse::<Severity>() {
            Ok(severity) => Some(severity),
            Err(e) => {
                errors.push(FieldError::new("minimum_severity", "invalid", e.to_string()));
                None
            }
        },
    };
    let mut tags: Vec<String> = Vec::new();
    for (index, text) in options.tags.unwrap_or("").split(',').map(str::trim).filter(|t| !t.is_empty()).enumerate() {
        match tag(text) {
            Some(tag) if !tags.contains(&tag) => tags.push(tag),
            Some(_) => {}
            None => errors.push(FieldError::new(
                format!("tags[{index}]"),
                "invalid",
                vulntrack_domain::vulnerability::input::tag_rule(),
            )),
        }
    }
    if tags.len() > vulntrack_domain::vulnerability::input::TAGS_MAX {
        errors.push(FieldError::new("tags", "too_many", "must be at most 20 tags"));
    }
    if data.is_none() {
        errors.push(FieldError::new("file", "required", "is required: the scanner's report"));
    }
    let data = data.unwrap_or(ReportFile::Bytes(Vec::new()));
    let file_name = import_mapping::clean(file_name, 255);
    let file_name = if file_name.is_empty() { "report".to_owned() } else { file_name };
    Ok(errors.into_result(ImportRequest { file_name, data, format, asset, close_missing, minimum_severity, tags })?)
}

fn file_error(code: &str, message: String) -> ServiceError {
    ServiceError::Invalid(FieldError::new("file", code, message).into())
}

/// Unpacks, detects and parses the report (CPU work and file reads, off
/// the async threads).
async fn read_report(
    data: ReportFile,
    format: Option<Format>,
    limit: u64,
) -> Result<(Report, u64, String), ServiceError> {
    let work = move || match data {
        ReportFile::Bytes(data) => read_bytes(data, format, limit),
        ReportFile::Path(path) => read_path(&path, format, limit),
    };
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("the parser stopped: {e}")))?
}

fn read_bytes(data: Vec<u8>, format: Option<Format>, limit: u64) -> Result<(Report, u64, String), ServiceError> {
    let size = data.len() as u64;
    if size > limit {
        return Err(ServiceError::TooLarge { limit });
    }
    let sha256 = hex::encode(Sha256::digest(&data));
    let report = vulntrack_scanners::unpack(data, limit).map_err(|e| match e {
        UnpackError::TooLarge { limit } => ServiceError::TooLarge { limit },
        other => file_error("unreadable", other.to_string()),
    })?;
    let format = format_of(format, &report)?;
    let parsed = vulntrack_scanners::parse(format, &report).map_err(|e| malformed(&e))?;
    Ok((parsed, size, sha256))
}

/// The format asked for, when the report is not plainly another, or the
/// one detected from the report's first bytes.
fn format_of(format: Option<Format>, head: &[u8]) -> Result<Format, ServiceError> {
    match format {
        Some(format) => {
            check_format(format, head)?;
            Ok(format)
        }
        None => vulntrack_scanners::detect(head).map_err(|e| file_error("unknown_format", e.to_string())),
    }
}

/// A report file: its digest in one pass, its format from its first
/// bytes, then parsed from the file as it is read (a compressed one is
/// unpacked in memory, as an upload is).
fn read_path(
    path: &std::path::Path,
    format: Option<Format>,
    limit: u64,
) -> Result<(Report, u64, String), ServiceError> {
    use std::io::{Read, Seek};
    let unreadable = |e: std::io::Error| file_error("unreadable", format!("the file cannot be read: {e}"));
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let size = file.metadata().map_err(unreadable)?.len();
    if size > limit {
        return Err(ServiceError::TooLarge { limit });
    }
    let mut digest = Sha256::new();
    let mut head = Vec::new();
    let mut buffer = vec![0_u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer).map_err(unreadable)?;
        if read == 0 {
            break;
        }
        digest.update(&buffer[..read]);
        let wanted = vulntrack_scanners::detect::HEAD_BYTES.saturating_sub(head.len()).min(read);
        head.extend_from_slice(&buffer[..wanted]);
    }
    drop(buffer);
    let sha256 = hex::encode(digest.finalize());
    file.rewind().map_err(unreadable)?;
    if vulntrack_scanners::unpack::is_compressed(&head) {
        let mut data = Vec::new();
        file.take(limit.saturating_add(1)).read_to_end(&mut data).map_err(unreadable)?;
        let (report, _, _) = read_bytes(data, format, limit)?;
        return Ok((report, size, sha256));
    }
    let format = format_of(format, &head)?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let parsed = vulntrack_scanners::parse_reader(format, reader).map_err(|e| malformed(&e))?;
    Ok((parsed, size, sha256))
}

/// A named format that the file plainly is not: another format's report.
fn check_format(format: Format, report: &[u8]) -> Result<(), ServiceError> {
    match vulntrack_scanners::detect(report) {
        Ok(found) if found != format => Err(file_error(
            "format_mismatch",
            format!(
                "expected a {} report ({}), found a {} report ({})",
                format.name(),
                format.label(),
                found.name(),
                found.label()
            ),
        )),
        _ => Ok(()),
    }
}

fn malformed(error: &ParseError) -> ServiceError {
    file_error("malformed", error.to_string())
}

/// The asset an import is for: by id (another team's is not found), or by
/// name, created when new (audited).
async fn resolve_asset(
    txn: &impl sea_orm::ConnectionTrait,
    importer: &Importer,
    context: &RequestContext,
    reference: &str,
) -> Result<Asset, ServiceError> {
    let scope = importer.scope;
    match assets::find(txn, scope, reference).await {
        Ok(asset) => return Ok(asset),
        Err(vulntrack_store::StoreError::NotFound) if Uuid::parse_str(reference).is_ok() => {
            return Err(ServiceError::NotFound);
        }
        Err(vulntrack_store::StoreError::NotFound) => {}
        Err(other) => return Err(other.into()),
    }
    let (asset, created) = assets::ensure_named(txn, scope, &[reference.to_owned()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ServiceError::field("asset", "required", "is required"))?;
    if created {
        let event = AuditEvent::new(scope, importer.actor.clone(), AuditAction::AssetCreated, context)
            .entity("asset", asset.id)
            .details(json!({ "name": asset.name, "named_by": "import" }));
        audit::append(txn, event).await?;
    }
    Ok(asset)
}

/// How the findings of a report are taken.
struct Options<'a> {
    close_missing: bool,
    minimum_severity: Option<Severity>,
    tags: &'a [String],
}

/// What the comparison of a report with the known findings decided.
#[derive(Default)]
struct Plan<'a> {
    new_records: Vec<vulntrack_domain::vulnerability::record::VulnerabilityRecord>,
    new_scans: Vec<ScannerFields>,
    refreshes: Vec<Refresh<'a>>,
    refresh_outcomes: Vec<Option<Outcome>>,
    seen: Vec<Uuid>,
    /// Open records the report no longer lists (resolved as FIXED).
    closes: Vec<&'a Vulnerability>,
    /// Open records the report itself dismisses (resolved as NOT_APPLICABLE).
    dismissals: Vec<&'a Vulnerability>,
    counts: ImportCounts,
}

/// Imports a report. Bad input is a field error on `file`, `format` or
/// `asset`; a report over the size limit (or unpacking past it) is
/// `TooLarge`; nothing is written unless the whole import is.
pub async fn import(
    db: &Database,
    limit: u64,
    importer: &Importer,
    context: &RequestContext,
    request: ImportRequest,
) -> Result<Import, ServiceError> {
    let started = Instant::now();
    let scope = importer.scope;
    // An id of another team's asset is "not found" before the file is read.
    if Uuid::parse_str(&request.asset).is_ok() {
        assets::find(db.conn(), scope, &request.asset).await?;
    }
    let ImportRequest { file_name, data, format, asset: asset_ref, close_missing, minimum_severity, tags } = request;
    let (mut report, size, sha256) = read_report(data, format, limit).await?;
    let options = Options { close_missing, minimum_severity, tags: &tags };
    let now = Utc::now();
    let txn = db.begin().await?;
    let asset = resolve_asset(&txn, importer, context, &asset_ref).await?;
    // One import per asset at a time: a second waits for this one, then
    // sees what it wrote.
    let asset = assets::get_for_update(&txn, scope, asset.id).await?;
    let known = imports::known_findings(&txn, scope, asset.id).await?;
    let mut warnings = std::mem::take(&mut report.warnings);
    let import_id = Uuid::now_v7();
    // New records are written a batch at a time as the findings are
    // compared, so a large report's records are never all held at once.
    let mut findings = std::mem::take(&mut report.findings).into_iter();
    let origin = import_mapping::Origin::of(&report);
    let mut comparison = Comparison::new(&known);
    let mut created = 0_u64;
    loop {
        for finding in findings.by_ref().take(WRITE_BATCH) {
            comparison.take(finding, origin, &asset, &options, now, &mut warnings);
        }
        let done = findings.len() == 0;
        let plan = &mut comparison.plan;
        if !plan.new_records.is_empty() && (done || plan.new_records.len() >= WRITE_BATCH) {
            let scans = std::mem::take(&mut plan.new_scans);
            let written = vulnerabilities::create_findings(
                &txn,
                scope,
                std::mem::take(&mut plan.new_records),
                Some(Findings { scans, asset: asset.id, import: Some(import_id) }),
                importer.user,
            )
            .await?;
            created += written.ids.len() as u64;
        }
        if done {
            break;
        }
    }
    drop(findings);
    let plan = comparison.finish(&known, origin, &options);
    let Plan { refreshes, refresh_outcomes, seen, closes, dismissals, mut counts, .. } = plan;

    imports::refresh(&txn, scope, &refreshes).await?;
    imports::mark_seen(&txn, scope, &seen, now).await?;
    for (records, resolution) in [(&closes, Resolution::Fixed), (&dismissals, Resolution::NotApplicable)] {
        let ids: Vec<Uuid> = records.iter().map(|v| v.id).collect();
        imports::resolve(&txn, scope, &ids, resolution, now).await?;
    }

    // The records it created name the import themselves.
    let mut outcomes: Vec<(Uuid, Outcome)> = Vec::new();
    let mut events = Vec::new();
    for (change, outcome) in refreshes.iter().zip(&refresh_outcomes) {
        if let Some(outcome) = outcome {
            outcomes.push((change.current.id, *outcome));
        }
        if *outcome == Some(Outcome::Reopened) {
            events.push(status_event(importer, context, change.current, None, import_id));
        }
    }
    for (records, resolution) in [(&closes, Resolution::Fixed), (&dismissals, Resolution::NotApplicable)] {
        for record in records.iter() {
            outcomes.push((record.id, Outcome::Closed));
            events.push(status_event(importer, context, record, Some(resolution), import_id));
        }
    }
    counts.created = created;
    let import = Import {
        id: import_id,
        asset_id: asset.id,
        format: report.format.name().to_owned(),
        scanner: report.scanner.clone().map(|s| import_mapping::clean(&s, 200)),
        file_name,
        file_size: size,
        sha256,
        actor_kind: importer.actor_kind().to_owned(),
        actor_id: importer.user,
        close_missing,
        minimum_severity,
        tags: tags.clone(),
        counts,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        warnings: warnings.into_iter().map(|w| import_mapping::clean(&w, 500)).collect(),
        created_at: now,
    };
    imports::insert(&txn, scope, &import, &outcomes).await?;
    let summary = AuditEvent::new(scope, importer.actor.clone(), AuditAction::ImportCompleted, context)
        .entity("import", import.id)
        .details(json!({
            "asset": asset.name, "asset_id": asset.id, "format": import.format, "scanner": import.scanner,
            "file_name": import.file_name, "file_size": import.file_size, "sha256": import.sha256,
            "created": counts.created, "updated": counts.updated, "unchanged": counts.unchanged,
            "reopened": counts.reopened, "closed": counts.closed, "total": counts.total, "skipped": counts.skipped,
        }));
    let data = json!({
        "import_id": import.id, "asset": asset.name, "asset_id": asset.id, "format": import.format,
        "file_name": import.file_name, "created": counts.created, "updated": counts.updated,
        "unchanged": counts.unchanged, "reopened": counts.reopened, "closed": counts.closed, "total": counts.total,
    });
    events.insert(0, summary);
    audit::append_many(&txn, events).await?;
    super::webhooks::emit(&txn, scope, "import.completed", data).await?;
    notify_owner(&txn, scope, importer, &asset, &import).await?;
    let reopened = refreshes.iter().zip(&refresh_outcomes).filter(|(_, o)| **o == Some(Outcome::Reopened));
    for (change, _) in reopened {
        notify_reopened(&txn, scope, importer, change.current).await?;
    }
    txn.commit().await?;
    if counts.created > 0 {
        merge_search_index_later(db);
    }
    metrics::counter!("vulntrack_imports_total", "format" => import.format.clone()).increment(1);
    Ok(import)
}

/// The new records wait in PostgreSQL's search index's pending list (found
/// all the same); the merge that moves them into the index takes 0.4–0.5 s
/// per 10 000, so it runs after the import has answered.
fn merge_search_index_later(db: &Database) {
    let db = db.clone();
    tokio::spawn(async move {
        if let Err(error) = vulnerabilities::merge_search_index(db.conn()).await {
            tracing::warn!(%error, "could not merge the search index's pending list; autovacuum will");
        }
    });
}

/// The audit row of a status an import changed: reopened (`resolution`
/// `None`) or resolved for `resolution`.
fn status_event(
    importer: &Importer,
    context: &RequestContext,
    record: &Vulnerability,
    resolution: Option<Resolution>,
    import: Uuid,
) -> AuditEvent {
    let (to, reason) = match resolution {
        None => (VulnStatus::Open, "reported again by an import"),
        Some(Resolution::NotApplicable) => (VulnStatus::Resolved, "dismissed by the report itself"),
        Some(_) => (VulnStatus::Resolved, "no longer reported by a complete import"),
    };
    AuditEvent::new(importer.scope, importer.actor.clone(), AuditAction::VulnerabilityStatusChanged, context)
        .entity("vulnerability", record.id)
        .details(json!({
            "key": record.key(),
            "status": { "before": record.record.status, "after": to },
            "resolution": { "before": record.record.resolution, "after": resolution },
            "import_id": import,
            "reason": reason,
        }))
}

/// New records written per call of the store while a report is compared.
const WRITE_BATCH: usize = 5_000;

/// Decides, finding by finding, what the import does.
struct Comparison<'a> {
    by_print: HashMap<&'a str, &'a Vulnerability>,
    reported: std::collections::HashSet<String>,
    plan: Plan<'a>,
}

impl<'a> Comparison<'a> {
    fn new(known: &'a [Vulnerability]) -> Self {
        Self {
            by_print: known.iter().filter_map(|v| Some((v.scan.fingerprint.as_deref()?, v))).collect(),
            reported: std::collections::HashSet::new(),
            plan: Plan::default(),
        }
    }

    /// One finding of the report, dropped once mapped.
    fn take(
        &mut self,
        finding: vulntrack_scanners::Finding,
        origin: import_mapping::Origin<'_>,
        asset: &Asset,
        request: &Options<'_>,
        now: chrono::DateTime<Utc>,
        warnings: &mut Vec<String>,
    ) {
        let plan = &mut self.plan;
        self.reported.insert(finding.fingerprint.clone());
        let (record, mut scan) = import_mapping::record_of(&finding, origin, &asset.name, request.tags, now, warnings);
        if request.minimum_severity.is_some_and(|minimum| record.severity.rank() < minimum.rank()) {
            plan.counts.skipped += 1;
            return;
        }
        plan.counts.total += 1;
        let Some(current) = self.by_print.get(finding.fingerprint.as_str()).copied() else {
            plan.new_records.push(record);
            plan.new_scans.push(scan);
            return;
        };
        scan.first_seen_at = current.scan.first_seen_at.or(Some(now));
        let severity = if current.severity_overridden { current.record.severity } else { record.severity };
        let open = !current.record.is_resolved();
        if open && finding.dismissed.is_some() {
            plan.dismissals.push(current);
            return;
        }
        // Only a fix can regress, and an accepted risk is open again once
        // its acceptance has run out: a person's other reasons stand.
        let regressed = current.record.resolution.is_none_or(Resolution::reopens_when_found_again)
            || current.record.acceptance_expired(now.date_naive());
        let reopen = current.record.is_resolved() && regressed && finding.dismissed.is_none();
        let changed = scan.differs_in_content(&current.scan) || severity != current.record.severity;
        let outcome = if reopen {
            plan.counts.reopened += 1;
            Some(Outcome::Reopened)
        } else if changed {
            plan.counts.updated += 1;
            Some(Outcome::Updated)
        } else {
            plan.counts.unchanged += 1;
            None
        };
        if outcome.is_none() && scan.occurrences == current.scan.occurrences {
            plan.seen.push(current.id);
        } else {
            plan.refreshes.push(Refresh { current, scan, severity, reopen });
            plan.refresh_outcomes.push(outcome);
        }
    }

    /// The plan once every finding is taken: with `close_missing`, the
    /// open findings of this scanner the report no longer lists close.
    fn finish(self, known: &'a [Vulnerability], origin: import_mapping::Origin<'_>, request: &Options<'_>) -> Plan<'a> {
        let Self { reported, mut plan, .. } = self;
        if request.close_missing {
            // Only this scanner's findings: a Trivy report says nothing about
            // what ZAP found on the same asset.
            let same_scanner =
                |v: &Vulnerability| v.scan.source == origin.format.name() && v.scan.tool.as_deref() == origin.tool;
            for current in known {
                let Some(print) = current.scan.fingerprint.as_deref() else { continue };
                let open = matches!(current.record.status, VulnStatus::Open | VulnStatus::InProgress);
                let below_minimum = request.minimum_severity.is_some_and(|m| current.record.severity.rank() < m.rank());
                if open && !reported.contains(print) && !below_minimum && same_scanner(current) {
                    plan.closes.push(current);
                }
            }
        }
        plan.counts.closed = (plan.closes.len() + plan.dismissals.len()) as u64;
        plan
    }
}

/// Tells the assignee of a record an import reopened.
async fn notify_reopened(
    txn: &impl sea_orm::ConnectionTrait,
    scope: TeamScope,
    importer: &Importer,
    record: &Vulnerability,
) -> Result<(), ServiceError> {
    let Some(assignee) = record.record.assignee_id.filter(|a| Some(*a) != importer.user) else { return Ok(()) };
    let message = format!("{} was reported again by an import and reopened: {}", record.key(), record.record.title);
    notifications::notify(txn, scope, &[assignee], Some(record.id), "REOPENED", &message).await?;
    Ok(())
}

/// Tells the asset's owner what the import found (not when they ran it).
async fn notify_owner(
    txn: &impl sea_orm::ConnectionTrait,
    scope: TeamScope,
    importer: &Importer,
    asset: &Asset,
    import: &Import,
) -> Result<(), ServiceError> {
    let Some(owner) = asset.owner_id.filter(|owner| Some(*owner) != importer.user) else { return Ok(()) };
    let c = import.counts;
    let message = format!(
        "{} import on {}: {} new, {} reopened, {} closed ({} findings)",
        import.format, asset.name, c.created, c.reopened, c.closed, c.total
    );
    notifications::notify(txn, scope, &[owner], None, "IMPORT", &message).await?;
    Ok(())
}

//! `vulntrack import`: scanner reports onto an asset, through the same
//! service as the API, audited as the command line. Each file imports on
//! its own (one failing does not stop the others); on a terminal a progress
//! bar runs while they do.

use std::{io::IsTerminal, path::PathBuf};

use uuid::Uuid;
use vulntrack_domain::TeamId;
use vulntrack_store::{Database, StoreError, TeamScope, audit::Actor, audit::RequestContext};

use super::Failure;
use crate::{
    api::v1::imports::ImportView,
    services::{
        ServiceError,
        imports::{self, ImportOptions, Importer, ReportFile},
    },
};

/// What `vulntrack import` was asked.
#[derive(Debug)]
pub struct ImportArgs {
    pub team: String,
    pub asset: String,
    pub format: Option<String>,
    pub close_missing: bool,
    pub minimum_severity: Option<String>,
    pub tags: Option<String>,
    pub json: bool,
    pub files: Vec<PathBuf>,
}

/// The team by id, or by name when exactly one team has it.
async fn team_scope(db: &Database, team: &str) -> Result<TeamScope, Failure> {
    if let Ok(id) = Uuid::parse_str(team.trim()) {
        let teams = vulntrack_store::operator::teams(db.conn())
            .await
            .map_err(|e| Failure::runtime(format!("cannot read the teams: {e}")))?;
        let wanted = TeamId::from_uuid(id);
        return teams
            .iter()
            .find(|t| t.id == wanted)
            .map(|t| t.scope())
            .ok_or_else(|| Failure::input(format!("no team has the id {team}")));
    }
    match vulntrack_store::operator::team_by_name(db.conn(), team).await {
        Ok(Some(found)) => Ok(found.scope()),
        Ok(None) => Err(Failure::input(format!("no team is named {team:?}"))),
        Err(StoreError::Ambiguous { .. }) => {
            Err(Failure::input(format!("several teams are named {team:?}; give the team's id instead")))
        }
        Err(other) => Err(Failure::runtime(format!("cannot read the teams: {other}"))),
    }
}

/// A service's refusal as one line.
fn describe(error: &ServiceError) -> String {
    match error {
        ServiceError::Invalid(errors) => errors.to_string(),
        ServiceError::NotFound => "the asset is not one of the team's (no asset has this id)".to_owned(),
        ServiceError::TooLarge { limit } => {
            format!("the report, or what it unpacks to, is larger than VULNTRACK_IMPORT_MAX_BYTES ({limit} bytes)")
        }
        other => other.to_string(),
    }
}

/// Imports each file; exit 1 if any failed.
pub async fn run(db: &Database, limit: u64, args: ImportArgs) -> Result<(), Failure> {
    let scope = team_scope(db, &args.team).await?;
    let importer = Importer { scope, actor: Actor::Cli, user: None };
    let close_missing = if args.close_missing { "true" } else { "false" };
    let options = ImportOptions {
        format: args.format.as_deref(),
        asset: Some(&args.asset),
        close_missing: Some(close_missing),
        minimum_severity: args.minimum_severity.as_deref(),
        tags: args.tags.as_deref(),
    };
    // Bad options are bad arguments (exit 2), found before any file is read.
    if let Err(error) = imports::request("", Some(ReportFile::Bytes(Vec::new())), &options) {
        return Err(Failure::input(describe(&error)));
    }
    let progress = if std::io::stderr().is_terminal() && !args.json {
        let bar = indicatif::ProgressBar::new(args.files.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} [{pos}/{len}] {wide_msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut failed = 0usize;
    for path in &args.files {
        let shown = path.display().to_string();
        progress.set_message(format!("importing {shown}"));
        let outcome = import_one(db, limit, &importer, &options, path).await;
        progress.inc(1);
        match outcome {
            Ok(view) if args.json => {
                let line = serde_json::to_string(&view).map_err(|e| Failure::runtime(e.to_string()))?;
                progress.suspend(|| println!("{line}"));
            }
            Ok(view) => progress.suspend(|| println!("{}", summary(&shown, &view))),
            Err(message) => {
                failed += 1;
                progress.suspend(|| eprintln!("error: {shown}: {}", message.replace(['\n', '\r'], " ")));
            }
        }
    }
    progress.finish_and_clear();
    match failed {
        0 => Ok(()),
        n => Err(Failure::runtime(format!("{n} of {} files did not import", args.files.len()))),
    }
}

async fn import_one(
    db: &Database,
    limit: u64,
    importer: &Importer,
    options: &ImportOptions<'_>,
    path: &std::path::Path,
) -> Result<ImportView, String> {
    let too_large = || describe(&ServiceError::TooLarge { limit });
    let size = tokio::fs::metadata(path).await.map_err(|e| format!("cannot read the file: {e}"))?.len();
    if size > limit {
        return Err(too_large());
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let context = RequestContext::default();
    let request =
        imports::request(&name, Some(ReportFile::Path(path.to_owned())), options).map_err(|e| describe(&e))?;
    let import = imports::import(db, limit, importer, &context, request).await.map_err(|e| describe(&e))?;
    let asset = vulntrack_store::assets::get(db.conn(), importer.scope, import.asset_id)
        .await
        .map_err(|e| format!("cannot read the asset: {e}"))?;
    Ok(ImportView::new(import, asset.name))
}

/// The one line a person reads per file.
fn summary(file: &str, view: &ImportView) -> String {
    let scanner = view.scanner.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
    let mut line = format!(
        "{file}: {}{scanner} onto {}: {} findings: {} created, {} updated, {} unchanged, {} reopened, {} closed",
        view.format,
        view.asset.name,
        view.total,
        view.created,
        view.updated,
        view.unchanged,
        view.reopened,
        view.closed
    );
    if view.skipped > 0 {
        line.push_str(&format!(", {} skipped", view.skipped));
    }
    if !view.warnings.is_empty() {
        line.push_str(&format!(", {} warnings", view.warnings.len()));
    }
    line.push_str(&format!(" in {} ms", view.duration_ms));
    line
}

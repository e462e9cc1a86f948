//! `vulntrack cve import`: NVD, CISA KEV and FIRST EPSS files into the CVE
//! catalogue, in any order and as often as wanted (a record already there
//! unchanged is counted, not written). Each file loads whole or not at all;
//! one failing does not stop the others.

use std::{collections::BTreeMap, io::IsTerminal, path::PathBuf, time::Duration};

use serde::Serialize;
use vulntrack_scanners::cve_feeds::Feed;
use vulntrack_store::Database;

use super::Failure;
use crate::services::cve_catalogue::{self, LoadError, Loaded};

/// What `vulntrack cve import` was asked.
#[derive(Debug)]
pub struct CveImportArgs {
    pub feed: Option<String>,
    pub json: bool,
    pub files: Vec<PathBuf>,
}

/// One file's outcome as `--json` prints it.
#[derive(Debug, Serialize)]
struct LoadedView<'a> {
    file: &'a str,
    source: &'static str,
    version: Option<&'a str>,
    read: u64,
    inserted: u64,
    updated: u64,
    unchanged: u64,
    skipped: u64,
    skipped_reasons: &'a [String],
    newly_known_exploited: usize,
    duration_ms: u64,
}

/// The feed named by `--feed`.
fn feed(name: &str) -> Result<Feed, Failure> {
    Feed::ALL
        .into_iter()
        .find(|f| f.name().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| Failure::input(format!("--feed must be one of nvd, kev, epss; got {name:?}")))
}

/// Loads each file; exit 1 if any failed.
pub async fn import(db: &Database, args: CveImportArgs) -> Result<(), Failure> {
    let feed = args.feed.as_deref().map(feed).transpose()?;
    let terminal = std::io::stderr().is_terminal() && !args.json;
    let mut failed = 0usize;
    let mut totals: BTreeMap<&'static str, (u64, u64, u64)> = BTreeMap::new();
    for path in &args.files {
        let shown = path.display().to_string();
        let bar = if terminal {
            let bar = indicatif::ProgressBar::new_spinner();
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {wide_msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar.set_message(format!("{shown}: reading"));
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        let shown_in_bar = shown.clone();
        let progress_bar = bar.clone();
        let progress = move |read: u64| progress_bar.set_message(format!("{shown_in_bar}: {read} records"));
        let outcome = match cve_catalogue::open(path) {
            Ok(reader) => cve_catalogue::load(db, feed, reader, progress).await,
            Err(error) => Err(error),
        };
        bar.finish_and_clear();
        match outcome {
            Ok(loaded) => {
                let total = totals.entry(loaded.feed.title()).or_default();
                total.0 += loaded.applied.inserted;
                total.1 += loaded.applied.updated;
                total.2 += loaded.applied.unchanged;
                if args.json {
                    let line =
                        serde_json::to_string(&view(&shown, &loaded)).map_err(|e| Failure::runtime(e.to_string()))?;
                    println!("{line}");
                } else {
                    println!("{}", summary(&shown, &loaded));
                }
            }
            Err(error) => {
                failed += 1;
                eprintln!("error: {shown}: {}", describe(&error).replace(['\n', '\r'], " "));
            }
        }
    }
    if !args.json && args.files.len() > 1 {
        for (source, (inserted, updated, unchanged)) in &totals {
            println!("{source} in all: {inserted} inserted, {updated} updated, {unchanged} unchanged");
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(Failure::runtime(format!(
            "{n} of {} files did not load; nothing of them was written",
            args.files.len()
        ))),
    }
}

fn describe(error: &LoadError) -> String {
    match error {
        LoadError::Malformed(parse) => format!("not loaded: {parse}"),
        other => other.to_string(),
    }
}

fn view<'a>(file: &'a str, loaded: &'a Loaded) -> LoadedView<'a> {
    LoadedView {
        file,
        source: loaded.feed.name(),
        version: loaded.version.as_deref(),
        read: loaded.read,
        inserted: loaded.applied.inserted,
        updated: loaded.applied.updated,
        unchanged: loaded.applied.unchanged,
        skipped: loaded.skipped,
        skipped_reasons: &loaded.skipped_reasons,
        newly_known_exploited: loaded.applied.newly_known_exploited.len(),
        duration_ms: loaded.duration_ms,
    }
}

/// The one line a person reads per file.
fn summary(file: &str, loaded: &Loaded) -> String {
    let version = loaded.version.as_deref().map(|v| format!(" {v}")).unwrap_or_default();
    let applied = &loaded.applied;
    let mut line = format!(
        "{file}: {}{version}: {} records: {} inserted, {} updated, {} unchanged",
        loaded.feed.title(),
        loaded.read,
        applied.inserted,
        applied.updated,
        applied.unchanged
    );
    if !applied.newly_known_exploited.is_empty() {
        line.push_str(&format!(", {} newly known exploited", applied.newly_known_exploited.len()));
    }
    if loaded.skipped > 0 {
        let first = loaded.skipped_reasons.first().map(|r| format!(" (first: {r})")).unwrap_or_default();
        line.push_str(&format!(", {} skipped{first}", loaded.skipped));
    }
    line.push_str(&format!(" in {} ms", loaded.duration_ms));
    line
}

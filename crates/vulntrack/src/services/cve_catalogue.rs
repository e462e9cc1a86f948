//! Loading the CVE catalogue from feed files (NVD CVE API 2.0 JSON, CISA
//! KEV JSON, FIRST EPSS CSV; plain or gzip): the command line's
//! `vulntrack cve import` and the sync job both come here.
//!
//! A file is read on a blocking thread as it streams and handed to the
//! database 1 000 records at a time, so memory stays bounded whatever its
//! size; the whole file is one transaction, so a file that turns out to be
//! broken half-way writes nothing. NVD's CVSS vectors are scored by our
//! CVSS code; the NVD's own scores are kept beside ours.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Cursor, Read},
    path::Path,
    time::Instant,
};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;
use vulntrack_domain::vulnerability::cvss_score;
use vulntrack_domain::{AuditAction, UserId};
use vulntrack_scanners::{
    ParseError,
    cve_feeds::{self, Entry, Feed, NvdRecord, NvdScore, Stop},
};
use vulntrack_store::{
    Database, StoreError,
    audit::{self, Actor, AuditEvent, RequestContext},
    cves::{self, Applied, CveCvss, EpssFields, KevFields, NvdFields},
    notifications, users,
    vulnerabilities::priority,
};

/// How much of a file is looked at to tell which feed it is.
const HEAD: usize = 64 * 1024;

/// What loading one file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub feed: Feed,
    /// The file's version: KEV's catalogue version, EPSS's model version
    /// and score date, NVD's format version.
    pub version: Option<String>,
    /// Records read from the file.
    pub read: u64,
    /// Records left out (not a CVE id, a score out of range…), and the
    /// first few reasons.
    pub skipped: u64,
    pub skipped_reasons: Vec<String>,
    pub applied: Applied,
    pub duration_ms: u64,
}

/// Why a file did not load; nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    #[error(
        "not a CVE feed VulnTrack reads: expected NVD CVE API 2.0 JSON, the CISA KEV JSON catalogue or FIRST EPSS CSV"
    )]
    UnknownFeed,
    #[error("{0}")]
    Malformed(ParseError),
    #[error("database error: {0}")]
    Store(#[from] StoreError),
}

/// A file's bytes, decompressed when they are gzip.
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>, LoadError> {
    let file = std::fs::File::open(path).map_err(|e| LoadError::Unreadable(e.to_string()))?;
    reader(Box::new(file))
}

/// `source` decompressed when it starts as gzip.
pub fn reader(source: Box<dyn Read + Send>) -> Result<Box<dyn BufRead + Send>, LoadError> {
    let mut source = BufReader::with_capacity(HEAD, source);
    let gzip = source.fill_buf().map_err(|e| LoadError::Unreadable(e.to_string()))?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(BufReader::with_capacity(HEAD, flate2::read::MultiGzDecoder::new(source)))
    } else {
        Box::new(source)
    })
}

/// The feed `reader` holds (from its first 64 KiB), and a reader that
/// still starts at the beginning.
pub fn detect(mut reader: Box<dyn BufRead + Send>) -> Result<(Feed, Box<dyn BufRead + Send>), LoadError> {
    let mut head = Vec::with_capacity(HEAD);
    (&mut reader).take(HEAD as u64).read_to_end(&mut head).map_err(|e| LoadError::Unreadable(e.to_string()))?;
    let feed = Feed::detect(&head).ok_or(LoadError::UnknownFeed)?;
    Ok((feed, Box::new(BufReader::new(Cursor::new(head).chain(reader)))))
}

/// A batch of one feed's records on its way to the database.
enum Batch {
    Nvd(Vec<(String, NvdFields)>),
    Kev(Vec<(String, KevFields)>),
    Epss(Vec<(String, EpssFields)>),
}

impl Batch {
    fn new(feed: Feed) -> Self {
        match feed {
            Feed::Nvd => Batch::Nvd(Vec::with_capacity(cves::BATCH)),
            Feed::Kev => Batch::Kev(Vec::with_capacity(cves::BATCH)),
            Feed::Epss => Batch::Epss(Vec::with_capacity(cves::BATCH)),
        }
    }

    fn len(&self) -> usize {
        match self {
            Batch::Nvd(rows) => rows.len(),
            Batch::Kev(rows) => rows.len(),
            Batch::Epss(rows) => rows.len(),
        }
    }

    fn push(&mut self, entry: Entry) {
        match (self, entry) {
            (Batch::Nvd(rows), Entry::Nvd(record)) => rows.push((record.id.clone(), nvd_fields(record))),
            (Batch::Kev(rows), Entry::Kev(r)) => rows.push((
                r.id,
                KevFields {
                    date_added: r.date_added,
                    due_date: r.due_date,
                    required_action: r.required_action,
                    known_ransomware: r.known_ransomware,
                    name: r.name,
                    vendor_project: r.vendor_project,
                    product: r.product,
                    short_description: r.short_description,
                },
            )),
            (Batch::Epss(rows), Entry::Epss(r)) => {
                rows.push((r.id, EpssFields { score: r.score, percentile: r.percentile, date: r.date }))
            }
            // The reader of one feed yields that feed's records only.
            _ => {}
        }
    }

    async fn apply(self, db: &impl sea_orm::ConnectionTrait, now: DateTime<Utc>) -> Result<Applied, StoreError> {
        match self {
            Batch::Nvd(rows) => cves::apply(db, rows, now).await,
            Batch::Kev(rows) => cves::apply(db, rows, now).await,
            Batch::Epss(rows) => cves::apply(db, rows, now).await,
        }
    }
}

/// The NVD's record with each vector scored by our CVSS code.
fn nvd_fields(record: NvdRecord) -> NvdFields {
    let scored = |given: Option<NvdScore>| {
        given.map(|given| match cvss_score::assess(&given.vector) {
            Ok(ours) => CveCvss { vector: ours.vector, score: Some(ours.score), nvd_score: given.score },
            // Kept as the NVD wrote it, unscored: our code does not read it.
            Err(_) => CveCvss { vector: given.vector, score: None, nvd_score: given.score },
        })
    };
    NvdFields {
        status: record.status,
        description: record.description,
        published_at: record.published,
        modified_at: record.modified,
        cvss_v3: scored(record.cvss_v3),
        cvss_v4: scored(record.cvss_v4),
        cwe_ids: record.cwe_ids,
        references: record.references,
    }
}

/// Loads `reader` (of `feed`, or detected) into the catalogue in one
/// transaction; `progress` is told the records read so far.
pub async fn load(
    db: &Database,
    feed: Option<Feed>,
    reader: Box<dyn BufRead + Send>,
    progress: impl Fn(u64) + Send + 'static,
) -> Result<Loaded, LoadError> {
    let (feed, reader) = match feed {
        Some(feed) => (feed, reader),
        None => detect(reader)?,
    };
    load_all(db, feed, vec![reader], None, progress).await
}

/// Loads several files of one feed (the pages of an NVD sync) in one
/// transaction: all of them or, if one is broken, none. `cursor` is what
/// the feed's next incremental sync starts from.
pub async fn load_all(
    db: &Database,
    feed: Feed,
    readers: Vec<Box<dyn BufRead + Send>>,
    cursor: Option<&str>,
    progress: impl Fn(u64) + Send + 'static,
) -> Result<Loaded, LoadError> {
    let started = Instant::now();
    let (sender, mut batches) = tokio::sync::mpsc::channel::<Batch>(2);
    let parser = tokio::task::spawn_blocking(move || {
        let mut batch = Batch::new(feed);
        let mut read = 0u64;
        let mut total = cve_feeds::Summary::default();
        for reader in readers {
            let summary = cve_feeds::read(feed, reader, |entry| {
                batch.push(entry);
                read += 1;
                if batch.len() >= cves::BATCH {
                    let full = std::mem::replace(&mut batch, Batch::new(feed));
                    sender.blocking_send(full).map_err(|_| Stop)?;
                    progress(read);
                }
                Ok(())
            })?;
            total.version = summary.version.or(total.version);
            total.read += summary.read;
            total.skipped += summary.skipped;
            let room = 10usize.saturating_sub(total.skipped_reasons.len());
            total.skipped_reasons.extend(summary.skipped_reasons.into_iter().take(room));
        }
        if batch.len() > 0 {
            // The writer gone, its own error is what is reported.
            let _ = sender.blocking_send(batch);
        }
        Ok::<_, ParseError>(total)
    });
    let now = Utc::now();
    let txn = db.conn().begin().await.map_err(StoreError::from)?;
    let mut applied = Applied::default();
    let mut failure = None;
    while let Some(batch) = batches.recv().await {
        match batch.apply(&txn, now).await {
            Ok(done) => applied.add(done),
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    // Dropping the receiver stops a parser still sending.
    drop(batches);
    let parsed = parser.await.map_err(|e| LoadError::Unreadable(format!("the reader stopped: {e}")))?;
    if let Some(error) = failure {
        return Err(error.into());
    }
    let summary = parsed.map_err(|error| match error {
        stop if cve_feeds::is_stop(&stop) => LoadError::Unreadable("the reader was stopped".into()),
        malformed => LoadError::Malformed(malformed),
    })?;
    // The first KEV list an instance loads is its starting state (the list
    // filter shows it); from then on each newly listed CVE is news.
    if feed == Feed::Kev && cves::source(&txn, feed.name()).await?.last_success_at.is_some() {
        tell_known_exploited(&txn, &applied.newly_known_exploited).await?;
    }
    cves::record_success(&txn, feed.name(), summary.version.as_deref(), cursor, now).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(Loaded {
        feed,
        version: summary.version,
        read: summary.read,
        skipped: summary.skipped,
        skipped_reasons: summary.skipped_reasons,
        applied,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// For each open record whose CVE CISA has just listed as exploited: an
/// activity entry, and a notification to its assignee and its team's
/// ADMINs.
async fn tell_known_exploited(txn: &impl ConnectionTrait, cve_ids: &[String]) -> Result<(), StoreError> {
    if cve_ids.is_empty() {
        return Ok(());
    }
    let listed = cves::get_many(txn, cve_ids).await?;
    let context = RequestContext::default();
    let mut admins: HashMap<vulntrack_domain::TeamId, Vec<UserId>> = HashMap::new();
    for record in priority::open_with_cves(txn, cve_ids).await? {
        let kev = listed.get(&record.cve_id).and_then(|cve| cve.kev.clone());
        let due = kev.as_ref().and_then(|k| k.due_date);
        let key = format!("{}{}", vulntrack_store::vulnerabilities::KEY_PREFIX, record.number);
        let event = AuditEvent::new(record.scope, Actor::System, AuditAction::VulnerabilityKnownExploited, &context)
            .entity("vulnerability", record.id)
            .details(json!({
                "key": key,
                "cve_id": record.cve_id,
                "kev_date_added": kev.as_ref().map(|k| k.date_added),
                "kev_due_date": due,
                "required_action": kev.as_ref().and_then(|k| k.required_action.clone()),
            }));
        audit::append(txn, event).await?;
        let team_admins = match admins.get(&record.scope.team_id()) {
            Some(found) => found.clone(),
            None => {
                let found = users::active_admins(txn, record.scope).await?;
                admins.insert(record.scope.team_id(), found.clone());
                found
            }
        };
        let recipients: Vec<UserId> = team_admins.into_iter().chain(record.assignee_id).collect();
        let due = due.map(|d| format!(" (CISA's due date {d})")).unwrap_or_default();
        let message = format!("{key}: CISA lists {} as known exploited{due}: {}", record.cve_id, record.title);
        notifications::notify(txn, record.scope, &recipients, Some(record.id), "KNOWN_EXPLOITED", &message).await?;
    }
    Ok(())
}

/// What a new record's form takes from the catalogue's record of its CVE
/// (the page fills only the fields still empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Prefill {
    pub cve_id: String,
    pub title: String,
    pub description: Option<String>,
    /// The NVD's CVSS v3.x vector, else its v4.0 one (scored by us on save).
    pub cvss_vector: Option<String>,
    pub references: Vec<String>,
    /// CISA's required action, for a known exploited CVE.
    pub remediation: Option<String>,
}

/// Longest title taken from a description.
const PREFILL_TITLE_CHARS: usize = 120;
/// References a new record takes.
const PREFILL_REFERENCES: usize = 10;

/// The form's fields for `cve`.
pub fn prefill(cve: &cves::Cve) -> Prefill {
    let nvd = cve.nvd.clone().unwrap_or_default();
    let description = nvd.description.clone().or_else(|| cve.kev.as_ref().and_then(|k| k.short_description.clone()));
    let title = match (cve.kev.as_ref().and_then(|k| k.name.clone()), &description) {
        (Some(name), _) => format!("{}: {name}", cve.id),
        (None, Some(text)) => format!("{}: {}", cve.id, first_words(text, PREFILL_TITLE_CHARS)),
        (None, None) => cve.id.clone(),
    };
    Prefill {
        cve_id: cve.id.clone(),
        title,
        description,
        cvss_vector: nvd.cvss_v3.or(nvd.cvss_v4).map(|c| c.vector),
        references: nvd.references.into_iter().take(PREFILL_REFERENCES).collect(),
        remediation: cve.kev.as_ref().and_then(|k| k.required_action.clone()),
    }
}

/// The text's first sentence, or its first words within `max` characters.
fn first_words(text: &str, max: usize) -> String {
    let sentence = text.split(". ").next().unwrap_or(text).trim().trim_end_matches('.');
    if sentence.chars().count() <= max {
        return sentence.to_owned();
    }
    let cut: String = sentence.chars().take(max).collect();
    let words = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{words}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_the_first_sentence_or_words_that_fit() {
        assert_eq!(first_words("Heap overflow in libwebp. More detail.", 120), "Heap overflow in libwebp");
        let long = "word ".repeat(40);
        let title = first_words(&long, 30);
        assert!(title.ends_with('…') && title.chars().count() <= 31, "{title}");
    }
}

//! The catalogue's optional sync from its servers, or from mirrors inside
//! the network: each of `VULNTRACK_NVD_URL`, `VULNTRACK_KEV_URL` and
//! `VULNTRACK_EPSS_URL` that is set is fetched by a background job every
//! `VULNTRACK_INTEL_SYNC` (one node of a cluster runs it: the job's claim).
//!
//! A feed is downloaded whole to temporary files first, then loaded in one
//! transaction, so a download that fails half-way (a page refused, a body
//! cut short) changes nothing. A 429 or 5xx answer, or no answer, is tried
//! again with growing pauses (or as long as `Retry-After` asks, within
//! bounds). The NVD is read page by page with its API key when one is set,
//! a pause between requests within its published rate limits, and from the
//! last sync's end on (`lastModStartDate`). A feed that fails several syncs
//! in a row raises a security alert for the operator.

use std::{io::Write, path::Path, time::Duration};

use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::ExposeSecret;
use serde_json::json;
use url::Url;
use vulntrack_scanners::cve_feeds::Feed;
use vulntrack_store::{audit::Tenancy, cves, security_alerts::NewAlert};

use super::cve_catalogue::{self, LoadError, Loaded};
use crate::app::AppState;

/// Pauses before the attempts after the first (a 429, a 5xx, no answer).
const RETRY_AFTER: [Duration; 3] = [Duration::from_secs(2), Duration::from_secs(10), Duration::from_secs(30)];
/// The longest `Retry-After` honoured; a longer one fails this sync.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(120);
/// How long one request may take (a page, or a whole KEV or EPSS file).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// NVD records asked for per page (the API's maximum).
const NVD_PAGE: u64 = 2000;
/// The NVD answers a `lastModStartDate` range of at most 120 days; an older
/// cursor syncs everything again.
const NVD_RANGE_DAYS: i64 = 120;
/// Failed syncs of one feed in a row that raise a security alert.
pub const FAILURES_BEFORE_ALERT: i32 = 3;
/// The alert's rule.
pub const SYNC_FAILING: &str = vulntrack_domain::AlertRule::CveSyncFailing.as_str();

/// Why a sync of a feed failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{0}")]
    Fetch(String),
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// The feeds this instance syncs, with their URLs.
pub fn configured(state: &AppState) -> Vec<(Feed, Url)> {
    let config = state.config();
    [(Feed::Kev, &config.kev_url), (Feed::Epss, &config.epss_url), (Feed::Nvd, &config.nvd_url)]
        .into_iter()
        .filter_map(|(feed, url)| url.clone().map(|url| (feed, url)))
        .collect()
}

/// Syncs every configured feed as of `now`; a line for the log. A feed's
/// failure is recorded (and alerted after [`FAILURES_BEFORE_ALERT`]) and
/// does not stop the others.
pub async fn sync(state: &AppState, now: DateTime<Utc>) -> Result<String, super::ServiceError> {
    let mut lines = Vec::new();
    for (feed, url) in configured(state) {
        match sync_feed(state, feed, &url, now).await {
            Ok(loaded) => lines.push(format!(
                "{}: {} read, {} inserted, {} updated, {} unchanged",
                feed.name(),
                loaded.read,
                loaded.applied.inserted,
                loaded.applied.updated,
                loaded.applied.unchanged
            )),
            Err(error) => {
                let message = error.to_string();
                tracing::warn!(feed = feed.name(), %message, "CVE catalogue sync failed");
                let failures = cves::record_failure(state.db().conn(), feed.name(), &message, now).await?;
                if failures == FAILURES_BEFORE_ALERT {
                    let subject = format!("the {} sync failed {failures} times in a row", feed.title());
                    let alert = NewAlert {
                        team: Tenancy::Instance,
                        rule: SYNC_FAILING,
                        severity: "MEDIUM",
                        subject: &subject,
                        window_start: now,
                        evidence: json!({ "feed": feed.name(), "failures": failures, "last_error": message }),
                    };
                    crate::alerts::raise(state, alert).await;
                }
                lines.push(format!("{}: failed ({failures} in a row): {message}", feed.name()));
            }
        }
    }
    Ok(lines.join("; "))
}

/// Downloads `feed` from `url` and loads it.
async fn sync_feed(state: &AppState, feed: Feed, url: &Url, now: DateTime<Utc>) -> Result<Loaded, SyncError> {
    let client = client()?;
    let dir = tempfile::tempdir().map_err(|e| SyncError::Fetch(format!("no temporary directory: {e}")))?;
    if feed != Feed::Nvd {
        let file = dir.path().join("feed");
        fetch_to(&client, url.clone(), None, &file).await?;
        let reader = cve_catalogue::open(&file)?;
        return Ok(cve_catalogue::load(state.db(), Some(feed), reader, |_| {}).await?);
    }
    let config = state.config();
    let api_key = config.nvd_api_key.as_ref().map(|k| k.expose_secret().to_owned());
    let pause = config.nvd_request_interval.unwrap_or(if api_key.is_some() {
        Duration::from_millis(600)
    } else {
        Duration::from_secs(6)
    });
    let cursor = cves::source(state.db().conn(), feed.name())
        .await
        .map_err(|e| SyncError::Fetch(format!("cannot read the sync state: {e}")))?
        .cursor
        .and_then(|c| DateTime::parse_from_rfc3339(&c).ok())
        .map(|c| c.with_timezone(&Utc))
        .filter(|since| now.signed_duration_since(*since).num_days() < NVD_RANGE_DAYS);
    let mut pages = Vec::new();
    let mut start = 0u64;
    loop {
        if start > 0 {
            tokio::time::sleep(pause).await;
        }
        let mut page_url = url.clone();
        {
            let mut query = page_url.query_pairs_mut();
            query.append_pair("resultsPerPage", &NVD_PAGE.to_string()).append_pair("startIndex", &start.to_string());
            if let Some(since) = cursor {
                query
                    .append_pair("lastModStartDate", &since.to_rfc3339_opts(SecondsFormat::Millis, true))
                    .append_pair("lastModEndDate", &now.to_rfc3339_opts(SecondsFormat::Millis, true));
            }
        }
        let file = dir.path().join(format!("page-{}", pages.len()));
        fetch_to(&client, page_url, api_key.as_deref(), &file).await?;
        let (total, count) = page_counts(&file)?;
        pages.push(file);
        start += count;
        if count == 0 || start >= total {
            break;
        }
    }
    let readers = pages.iter().map(|page| cve_catalogue::open(page)).collect::<Result<Vec<_>, _>>()?;
    let cursor = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    Ok(cve_catalogue::load_all(state.db(), feed, readers, Some(&cursor), |_| {}).await?)
}

fn client() -> Result<reqwest::Client, SyncError> {
    // reqwest's rustls has no built-in provider: one per process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("VulnTrack/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SyncError::Fetch(format!("no HTTP client: {e}")))
}

/// GETs `url` into `file`, trying again after a 429, a 5xx or no answer.
async fn fetch_to(client: &reqwest::Client, url: Url, api_key: Option<&str>, file: &Path) -> Result<(), SyncError> {
    let shown = shown(&url);
    let mut attempt = 0;
    loop {
        let mut request = client.get(url.clone());
        if let Some(key) = api_key {
            request = request.header("apiKey", key);
        }
        let failure = match request.send().await {
            Ok(response) if response.status().is_success() => return save(response, file, &shown).await,
            Ok(response) => {
                let status = response.status();
                let retry = status.as_u16() == 429 || status.is_server_error();
                let asked = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                if !retry {
                    return Err(SyncError::Fetch(format!("{shown} answered {status}")));
                }
                (format!("{shown} answered {status}"), asked)
            }
            Err(error) => (format!("{shown} did not answer: {error}"), None),
        };
        let Some(pause) = RETRY_AFTER.get(attempt).copied() else {
            return Err(SyncError::Fetch(format!("{} (after {} attempts)", failure.0, attempt + 1)));
        };
        let pause = match failure.1 {
            Some(asked) if asked > RETRY_AFTER_MAX => {
                return Err(SyncError::Fetch(format!("{}, asking to wait {} s", failure.0, asked.as_secs())));
            }
            Some(asked) => asked,
            None => pause,
        };
        tracing::info!(url = %shown, attempt = attempt + 1, pause_s = pause.as_secs_f64(), reason = %failure.0, "CVE sync retrying");
        tokio::time::sleep(pause).await;
        attempt += 1;
    }
}

/// Streams the body into `file` (bounded memory, whatever its size).
async fn save(mut response: reqwest::Response, file: &Path, shown: &str) -> Result<(), SyncError> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(file).map_err(|e| SyncError::Fetch(format!("cannot write a temporary file: {e}")))?,
    );
    while let Some(chunk) =
        response.chunk().await.map_err(|e| SyncError::Fetch(format!("{shown}: the download broke off: {e}")))?
    {
        out.write_all(&chunk).map_err(|e| SyncError::Fetch(format!("cannot write a temporary file: {e}")))?;
    }
    out.flush().map_err(|e| SyncError::Fetch(format!("cannot write a temporary file: {e}")))?;
    Ok(())
}

/// A URL for the log: no query (it may carry a token a mirror wants).
fn shown(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.to_string()
}

/// An NVD page's `totalResults` and how many records it holds.
fn page_counts(file: &Path) -> Result<(u64, u64), SyncError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Counts {
        total_results: u64,
        #[serde(default)]
        vulnerabilities: Vec<serde::de::IgnoredAny>,
    }
    let reader = cve_catalogue::open(file)?;
    let counts: Counts = serde_json::from_reader(reader)
        .map_err(|e| SyncError::Fetch(format!("an NVD page is not the CVE API 2.0 format: {e}")))?;
    Ok((counts.total_results, counts.vulnerabilities.len() as u64))
}

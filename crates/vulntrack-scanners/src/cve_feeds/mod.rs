//! The public CVE intelligence feeds, read as they stream: NVD's CVE API
//! 2.0 JSON (API pages and the 2.0 feed files), CISA's Known Exploited
//! Vulnerabilities catalogue (JSON) and FIRST's EPSS scores (CSV with its
//! `#model_version` line). Each record is handed over as soon as it is
//! read, so a 250 000-record NVD file is never in memory at once; nothing
//! here touches a database.

mod epss;
mod json;
mod kev;
mod nvd;

use std::io::BufRead;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

pub use epss::EpssRecord;
pub use kev::KevRecord;
pub use nvd::{NvdRecord, NvdScore};

use crate::ParseError;

/// Which feed a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feed {
    Nvd,
    Kev,
    Epss,
}

impl Feed {
    pub const ALL: [Feed; 3] = [Feed::Nvd, Feed::Kev, Feed::Epss];

    /// The name the CLI and the sync state use.
    pub fn name(self) -> &'static str {
        match self {
            Feed::Nvd => "nvd",
            Feed::Kev => "kev",
            Feed::Epss => "epss",
        }
    }

    /// The name a person knows it by.
    pub fn title(self) -> &'static str {
        match self {
            Feed::Nvd => "NVD",
            Feed::Kev => "CISA KEV",
            Feed::Epss => "FIRST EPSS",
        }
    }

    /// The feed a file starting with `head` (decompressed) is, if any.
    pub fn detect(head: &[u8]) -> Option<Feed> {
        let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
        let head = &head[start..];
        if head.starts_with(b"#") || head.get(..4).is_some_and(|s| s.eq_ignore_ascii_case(b"cve,")) {
            return Some(Feed::Epss);
        }
        if !head.starts_with(b"{") {
            return None;
        }
        if contains(head, b"\"cveID\"") || contains(head, b"\"catalogVersion\"") {
            Some(Feed::Kev)
        } else if contains(head, b"\"NVD_CVE\"") || contains(head, b"\"sourceIdentifier\"") {
            Some(Feed::Nvd)
        } else {
            None
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// One record of a feed.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Nvd(NvdRecord),
    Kev(KevRecord),
    Epss(EpssRecord),
}

/// What reading a whole feed file found, besides its records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// KEV's `catalogVersion`, EPSS's `model_version`, NVD's `version`.
    pub version: Option<String>,
    /// Records handed over.
    pub read: u64,
    /// Records left out, and why (the first few reasons).
    pub skipped: u64,
    pub skipped_reasons: Vec<String>,
}

impl Summary {
    const REASONS_KEPT: usize = 10;

    fn skip(&mut self, reason: String) {
        self.skipped += 1;
        if self.skipped_reasons.len() < Self::REASONS_KEPT {
            self.skipped_reasons.push(reason);
        }
    }
}

/// Why the caller asked reading to stop (its own failure, which it keeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop;

/// Reads `reader` (decompressed) as a file of `feed`, handing each record
/// to `each` as it is read. A malformed file is an error with its line and
/// column when known; what was handed over before it stays handed over, so
/// a caller that wants all or nothing writes in one transaction.
pub fn read(
    feed: Feed,
    reader: impl BufRead,
    mut each: impl FnMut(Entry) -> Result<(), Stop>,
) -> Result<Summary, ParseError> {
    let mut summary = Summary::default();
    match feed {
        Feed::Nvd => nvd::read(reader, &mut summary, &mut |r| each(Entry::Nvd(r)))?,
        Feed::Kev => kev::read(reader, &mut summary, &mut |r| each(Entry::Kev(r)))?,
        Feed::Epss => epss::read(reader, &mut summary, &mut |r| each(Entry::Epss(r)))?,
    }
    Ok(summary)
}

/// The message a [`Stop`] ends reading with.
const STOPPED: &str = "reading was stopped";

/// Whether `error` is the caller's [`Stop`] rather than a fault of the file.
pub fn is_stop(error: &ParseError) -> bool {
    error.message.ends_with(STOPPED)
}

/// `CVE-YYYY-NNNN…` in capitals, or why `text` is not a CVE id.
pub fn cve_id(text: &str) -> Result<String, String> {
    let id = text.trim().to_ascii_uppercase();
    let mut parts = id.splitn(3, '-');
    let valid = parts.next() == Some("CVE")
        && parts.next().is_some_and(|year| year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()))
        && parts.next().is_some_and(|n| (4..=19).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()));
    if valid { Ok(id) } else { Err(format!("{:?} is not a CVE id (CVE-YYYY-NNNN)", truncated(text))) }
}

fn truncated(text: &str) -> &str {
    match text.char_indices().nth(40) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// NVD's timestamps (`2021-12-10T10:15:09.143`, UTC without a zone) and
/// RFC 3339 ones.
fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc()))
}

/// A calendar date, `2021-11-03`, or the date of a timestamp.
fn date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .or_else(|| text.get(..10).and_then(|day| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()))
}

/// `CWE-79` → 79; NVD's `NVD-CWE-Other` and `NVD-CWE-noinfo` are not CWEs.
fn cwe_number(text: &str) -> Option<u32> {
    text.trim().strip_prefix("CWE-").and_then(|n| n.parse().ok())
}

/// Text with blank space trimmed; none when nothing is left.
fn text(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_are_told_apart_by_their_first_bytes() {
        assert_eq!(
            Feed::detect(b"#model_version:v2023.03.01,score_date:2024-01-01T00:00:00+0000\ncve,epss"),
            Some(Feed::Epss)
        );
        assert_eq!(Feed::detect(b"cve,epss,percentile\n"), Some(Feed::Epss));
        assert_eq!(
            Feed::detect(b"\xEF\xBB\xBF {\"title\": \"CISA\", \"catalogVersion\": \"2024.01.01\""),
            Some(Feed::Kev)
        );
        assert_eq!(Feed::detect(br#"{"resultsPerPage":1,"format":"NVD_CVE","version":"2.0""#), Some(Feed::Nvd));
        assert_eq!(Feed::detect(br#"{"SchemaVersion": 2, "Results": []}"#), None);
        assert_eq!(Feed::detect(b""), None);
    }

    #[test]
    fn cve_ids_are_checked_and_put_in_capitals() {
        assert_eq!(cve_id(" cve-2021-44228 ").as_deref(), Ok("CVE-2021-44228"));
        assert_eq!(cve_id("CVE-2024-1234567").as_deref(), Ok("CVE-2024-1234567"));
        for bad in ["CVE-21-44228", "CVE-2021-123", "GHSA-xxxx", "CVE-2021-44228x", ""] {
            assert!(cve_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nvd_timestamps_without_a_zone_are_utc() {
        let t = timestamp("2021-12-10T10:15:09.143").expect("parsed");
        assert_eq!(t.to_rfc3339(), "2021-12-10T10:15:09.143+00:00");
        assert!(timestamp("2021-12-10T10:15:09Z").is_some());
        assert!(timestamp("yesterday").is_none());
        assert_eq!(date("2024-11-29T00:00:00+0000"), NaiveDate::from_ymd_opt(2024, 11, 29));
    }
}

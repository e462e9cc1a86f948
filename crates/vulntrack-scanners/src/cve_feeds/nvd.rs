//! NVD's CVE API 2.0 format: an API page or a 2.0 feed file, an object
//! whose `vulnerabilities` list holds `{"cve": {…}}` items. The list is
//! read one item at a time.

use std::{io::BufRead, marker::PhantomData};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Stop, Summary, cve_id, cwe_number, json, text, timestamp};
use crate::ParseError;
/// References kept per CVE: a few records list hundreds of mirrors.
const MAX_REFERENCES: usize = 100;

/// One CVE as the NVD describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NvdRecord {
    pub id: String,
    /// `Analyzed`, `Modified`, `Rejected`, …
    pub status: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    /// The English description (the first one when none is English).
    pub description: Option<String>,
    /// The primary CVSS v3.x metric (v3.1, else v3.0).
    pub cvss_v3: Option<NvdScore>,
    pub cvss_v4: Option<NvdScore>,
    pub cwe_ids: Vec<u32>,
    pub references: Vec<String>,
}

/// A CVSS vector as the NVD gives it, with the NVD's own base score.
#[derive(Debug, Clone, PartialEq)]
pub struct NvdScore {
    pub vector: String,
    pub score: Option<f64>,
}

const LAYOUT: json::Layout<Item, NvdRecord> = json::Layout {
    format: "NVD CVE API 2.0",
    expecting: "an NVD CVE API 2.0 object",
    list: "vulnerabilities",
    version: "version",
    required: Some(("format", "NVD_CVE")),
    refused: &[("CVE_Items", "this is an NVD 1.1 feed; VulnTrack reads the CVE API 2.0 format (the 2.0 feed files)")],
    record: |item| record(item.cve),
    raw: PhantomData,
};

pub(super) fn read(
    reader: impl BufRead,
    summary: &mut Summary,
    each: &mut dyn FnMut(NvdRecord) -> Result<(), Stop>,
) -> Result<(), ParseError> {
    json::read(&LAYOUT, reader, summary, each)
}

#[derive(Deserialize)]
struct Item {
    cve: RawCve,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCve {
    id: String,
    vuln_status: Option<String>,
    published: Option<String>,
    last_modified: Option<String>,
    #[serde(default)]
    descriptions: Vec<LangValue>,
    #[serde(default)]
    metrics: Metrics,
    #[serde(default)]
    weaknesses: Vec<Weakness>,
    #[serde(default)]
    references: Vec<Reference>,
}

#[derive(Deserialize)]
struct LangValue {
    #[serde(default)]
    lang: String,
    value: String,
}

#[derive(Deserialize, Default)]
struct Metrics {
    #[serde(rename = "cvssMetricV40", default)]
    v40: Vec<Metric>,
    #[serde(rename = "cvssMetricV31", default)]
    v31: Vec<Metric>,
    #[serde(rename = "cvssMetricV30", default)]
    v30: Vec<Metric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metric {
    #[serde(rename = "type")]
    kind: Option<String>,
    cvss_data: CvssData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CvssData {
    vector_string: String,
    base_score: Option<f64>,
}

#[derive(Deserialize)]
struct Weakness {
    #[serde(default)]
    description: Vec<LangValue>,
}

#[derive(Deserialize)]
struct Reference {
    url: String,
}

fn record(cve: RawCve) -> Result<NvdRecord, String> {
    let id = cve_id(&cve.id)?;
    let description = cve
        .descriptions
        .iter()
        .find(|d| d.lang.eq_ignore_ascii_case("en"))
        .or_else(|| cve.descriptions.first())
        .and_then(|d| text(Some(d.value.clone())));
    let mut cwe_ids = Vec::new();
    for cwe in cve.weaknesses.iter().flat_map(|w| &w.description).filter_map(|d| cwe_number(&d.value)) {
        if !cwe_ids.contains(&cwe) {
            cwe_ids.push(cwe);
        }
    }
    let mut references: Vec<String> = Vec::new();
    for reference in cve.references {
        let url = reference.url.trim();
        let web = url.starts_with("https://") || url.starts_with("http://");
        if web && references.len() < MAX_REFERENCES && !references.iter().any(|r| r == url) {
            references.push(url.to_owned());
        }
    }
    let v3 = if cve.metrics.v31.is_empty() { cve.metrics.v30 } else { cve.metrics.v31 };
    Ok(NvdRecord {
        id,
        status: text(cve.vuln_status),
        published: cve.published.as_deref().and_then(timestamp),
        modified: cve.last_modified.as_deref().and_then(timestamp),
        description,
        cvss_v3: primary(v3),
        cvss_v4: primary(cve.metrics.v40),
        cwe_ids,
        references,
    })
}

/// The NVD's own (`Primary`) metric, else the first a CNA gave.
fn primary(metrics: Vec<Metric>) -> Option<NvdScore> {
    let index = metrics.iter().position(|m| m.kind.as_deref() == Some("Primary")).unwrap_or(0);
    metrics
        .into_iter()
        .nth(index)
        .map(|m| NvdScore { vector: m.cvss_data.vector_string.trim().to_owned(), score: m.cvss_data.base_score })
        .filter(|s| !s.vector.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cve_feeds::{Entry, Feed};

    fn read_all(data: &str) -> Result<(Summary, Vec<NvdRecord>), ParseError> {
        let mut records = Vec::new();
        let summary = crate::cve_feeds::read(Feed::Nvd, data.as_bytes(), |entry| {
            if let Entry::Nvd(r) = entry {
                records.push(r);
            }
            Ok(())
        })?;
        Ok((summary, records))
    }

    #[test]
    fn an_api_page_gives_each_cve_with_its_primary_metrics() {
        let page = r#"{"resultsPerPage":2,"startIndex":0,"totalResults":2,"format":"NVD_CVE","version":"2.0",
          "vulnerabilities":[
            {"cve":{"id":"CVE-2021-44228","sourceIdentifier":"security@apache.org","published":"2021-12-10T10:15:09.143",
              "lastModified":"2024-04-03T17:51:31.467","vulnStatus":"Analyzed",
              "descriptions":[{"lang":"es","value":"Apache Log4j2 ..."},{"lang":"en","value":"Apache Log4j2 JNDI features ..."}],
              "metrics":{"cvssMetricV31":[
                  {"source":"security@apache.org","type":"Secondary","cvssData":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H","baseScore":10.0}},
                  {"source":"nvd@nist.gov","type":"Primary","cvssData":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H","baseScore":10.0}}]},
              "weaknesses":[{"source":"nvd@nist.gov","type":"Primary","description":[{"lang":"en","value":"CWE-917"},{"lang":"en","value":"NVD-CWE-Other"}]},
                            {"source":"x","type":"Secondary","description":[{"lang":"en","value":"CWE-917"},{"lang":"en","value":"CWE-20"}]}],
              "references":[{"url":"https://logging.apache.org/log4j/2.x/security.html"},{"url":"ftp://old"},{"url":"https://logging.apache.org/log4j/2.x/security.html"}]}},
            {"cve":{"id":"CVE-2099-0001","descriptions":[]}}
          ]}"#;
        let (summary, records) = read_all(page).expect("read");
        assert_eq!(summary.read, 2);
        assert_eq!(summary.version.as_deref(), Some("2.0"));
        let log4j = &records[0];
        assert_eq!(log4j.id, "CVE-2021-44228");
        assert_eq!(log4j.description.as_deref(), Some("Apache Log4j2 JNDI features ..."));
        assert_eq!(log4j.status.as_deref(), Some("Analyzed"));
        assert_eq!(log4j.cvss_v3.as_ref().map(|s| s.score), Some(Some(10.0)));
        assert_eq!(log4j.cwe_ids, vec![917, 20]);
        assert_eq!(log4j.references, vec!["https://logging.apache.org/log4j/2.x/security.html"]);
        assert_eq!(log4j.published.map(|t| t.to_rfc3339()).as_deref(), Some("2021-12-10T10:15:09.143+00:00"));
        assert_eq!(records[1].description, None);
        assert_eq!(records[1].cvss_v3, None);
    }

    #[test]
    fn a_bad_id_is_skipped_and_a_broken_file_is_an_error_with_its_place() {
        let (summary, records) =
            read_all(r#"{"vulnerabilities":[{"cve":{"id":"not-a-cve"}},{"cve":{"id":"CVE-2020-0001"}}]}"#)
                .expect("read");
        assert_eq!((summary.read, summary.skipped, records.len()), (1, 1, 1));
        assert!(summary.skipped_reasons[0].contains("not a CVE id"));
        let error =
            read_all("{\"vulnerabilities\":[{\"cve\":{\"id\":\"CVE-2020-0001\"}},\n{\"cve\":").expect_err("cut short");
        assert_eq!(error.line, Some(2));
        let old = read_all(r#"{"CVE_data_type":"CVE","CVE_Items":[]}"#).expect_err("1.1 feed");
        assert!(old.message.contains("NVD 1.1 feed"), "{old}");
    }

    #[test]
    fn a_stop_from_the_caller_ends_reading() {
        let page = r#"{"vulnerabilities":[{"cve":{"id":"CVE-2020-0001"}},{"cve":{"id":"CVE-2020-0002"}}]}"#;
        let mut seen = 0;
        let error = crate::cve_feeds::read(Feed::Nvd, page.as_bytes(), |_| {
            seen += 1;
            Err(Stop)
        })
        .expect_err("stopped");
        assert_eq!(seen, 1);
        assert!(crate::cve_feeds::is_stop(&error), "{error}");
    }
}

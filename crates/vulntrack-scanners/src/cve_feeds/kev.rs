//! CISA's Known Exploited Vulnerabilities catalogue (JSON): an object with
//! `catalogVersion` and a `vulnerabilities` list of entries keyed by
//! `cveID`, read one entry at a time.

use std::{io::BufRead, marker::PhantomData};

use chrono::NaiveDate;
use serde::Deserialize;

use super::{Stop, Summary, cve_id, cwe_number, date, json, text};
use crate::ParseError;

/// One entry of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct KevRecord {
    pub id: String,
    pub vendor_project: Option<String>,
    pub product: Option<String>,
    pub name: Option<String>,
    pub short_description: Option<String>,
    pub date_added: NaiveDate,
    /// The date by which US federal agencies must act.
    pub due_date: Option<NaiveDate>,
    pub required_action: Option<String>,
    /// `knownRansomwareCampaignUse` is `Known`.
    pub known_ransomware: bool,
    pub notes: Option<String>,
    pub cwe_ids: Vec<u32>,
}

const LAYOUT: json::Layout<RawEntry, KevRecord> = json::Layout {
    format: "CISA KEV",
    expecting: "the CISA KEV catalogue object",
    list: "vulnerabilities",
    version: "catalogVersion",
    required: None,
    refused: &[],
    record,
    raw: PhantomData,
};

pub(super) fn read(
    reader: impl BufRead,
    summary: &mut Summary,
    each: &mut dyn FnMut(KevRecord) -> Result<(), Stop>,
) -> Result<(), ParseError> {
    json::read(&LAYOUT, reader, summary, each)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    vendor_project: Option<String>,
    product: Option<String>,
    vulnerability_name: Option<String>,
    date_added: Option<String>,
    short_description: Option<String>,
    required_action: Option<String>,
    due_date: Option<String>,
    known_ransomware_campaign_use: Option<String>,
    notes: Option<String>,
    #[serde(default)]
    cwes: Vec<String>,
}

fn record(raw: RawEntry) -> Result<KevRecord, String> {
    let id = cve_id(&raw.cve_id)?;
    let date_added =
        raw.date_added.as_deref().and_then(date).ok_or_else(|| format!("{id}: no valid dateAdded (YYYY-MM-DD)"))?;
    let mut cwe_ids = Vec::new();
    for cwe in raw.cwes.iter().filter_map(|c| cwe_number(c)) {
        if !cwe_ids.contains(&cwe) {
            cwe_ids.push(cwe);
        }
    }
    Ok(KevRecord {
        id,
        vendor_project: text(raw.vendor_project),
        product: text(raw.product),
        name: text(raw.vulnerability_name),
        short_description: text(raw.short_description),
        date_added,
        due_date: raw.due_date.as_deref().and_then(date),
        required_action: text(raw.required_action),
        known_ransomware: raw.known_ransomware_campaign_use.is_some_and(|k| k.trim().eq_ignore_ascii_case("known")),
        notes: text(raw.notes),
        cwe_ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cve_feeds::{Entry, Feed};

    #[test]
    fn the_catalogue_gives_each_entry_with_its_dates() {
        let catalogue = r#"{"title":"CISA Catalog of Known Exploited Vulnerabilities","catalogVersion":"2024.11.29",
          "dateReleased":"2024-11-29T17:00:36.6416Z","count":2,"vulnerabilities":[
          {"cveID":"CVE-2021-44228","vendorProject":"Apache","product":"Log4j2","vulnerabilityName":"Apache Log4j2 Remote Code Execution Vulnerability",
           "dateAdded":"2021-12-10","shortDescription":"Apache Log4j2 contains a vulnerability ...","requiredAction":"For all affected software assets ...",
           "dueDate":"2021-12-24","knownRansomwareCampaignUse":"Known","notes":"https://nvd.nist.gov/vuln/detail/CVE-2021-44228","cwes":["CWE-20","CWE-400","CWE-502"]},
          {"cveID":"CVE-2020-0001","dateAdded":"not a date"}]}"#;
        let mut records = Vec::new();
        let summary = crate::cve_feeds::read(Feed::Kev, catalogue.as_bytes(), |entry| {
            if let Entry::Kev(r) = entry {
                records.push(r);
            }
            Ok(())
        })
        .expect("read");
        assert_eq!(summary.version.as_deref(), Some("2024.11.29"));
        assert_eq!((summary.read, summary.skipped), (1, 1));
        let log4j = &records[0];
        assert_eq!(log4j.date_added, NaiveDate::from_ymd_opt(2021, 12, 10).expect("date"));
        assert_eq!(log4j.due_date, NaiveDate::from_ymd_opt(2021, 12, 24));
        assert!(log4j.known_ransomware);
        assert_eq!(log4j.cwe_ids, vec![20, 400, 502]);
        assert_eq!(log4j.product.as_deref(), Some("Log4j2"));
    }
}

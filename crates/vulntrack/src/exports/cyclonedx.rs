//! CycloneDX 1.6 VEX: the records found in a component, each a
//! `vulnerabilities[]` entry whose `affects` names the component, with
//! the team's triage as its `analysis`. The vulnerabilities are written as
//! they arrive; the components they affect follow them (a JSON object's
//! members have no order), one entry per distinct component.
//!
//! Triage → `analysis`: OPEN → in_triage; IN_PROGRESS → exploitable (with
//! `update` as the response when a fixed version is known); FIXED →
//! resolved; FALSE_POSITIVE → false_positive; NOT_APPLICABLE →
//! not_affected; RISK_ACCEPTED and WONT_FIX → exploitable with the
//! response `will_not_fix`; DUPLICATE → no state, the note in `detail`.
//! Rating: one, VulnTrack's: the record's severity (a person may have set
//! it) with the CVSS score, vector and method when the record has them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use vulntrack_domain::vulnerability::{Resolution, VulnStatus};
use vulntrack_store::vulnerabilities::Vulnerability;

use super::TextEncoder;

pub struct Vex {
    now: DateTime<Utc>,
    written: u64,
    /// bom-ref → component, for the list that closes the document.
    components: BTreeMap<String, Value>,
}

impl Vex {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self { now, written: 0, components: BTreeMap::new() }
    }
}

fn component_ref(record: &Vulnerability) -> Option<(String, Value)> {
    let component = record.scan.component.as_ref()?;
    let reference = component.purl.clone().unwrap_or_else(|| match &component.version {
        Some(version) => format!("component:{}@{version}", component.name),
        None => format!("component:{}", component.name),
    });
    let mut entry = json!({ "type": "library", "bom-ref": reference, "name": component.name });
    if let Some(version) = &component.version {
        entry["version"] = json!(version);
    }
    if let Some(purl) = &component.purl {
        entry["purl"] = json!(purl);
    }
    Some((reference, entry))
}

fn method(version: Option<&str>) -> &'static str {
    match version {
        Some("4.0") => "CVSSv4",
        Some("3.0") => "CVSSv3",
        Some(v) if v.starts_with('3') => "CVSSv31",
        _ => "other",
    }
}

/// One rating, VulnTrack's: the record's severity (which a person may
/// have set) with its CVSS score, vector and method when it has them.
fn ratings(record: &Vulnerability) -> Vec<Value> {
    let r = &record.record;
    let mut rating = json!({
        "source": { "name": "VulnTrack" },
        "severity": r.severity.as_str().to_ascii_lowercase(),
        "method": method(r.cvss_score.and(r.cvss_version.as_deref())),
    });
    if let Some(score) = r.cvss_score {
        rating["score"] = json!(score);
    }
    if let Some(vector) = &r.cvss_vector {
        rating["vector"] = json!(vector);
    }
    vec![rating]
}

fn analysis(record: &Vulnerability) -> Value {
    let r = &record.record;
    let (state, response): (Option<&str>, Option<&str>) = match (r.status, r.resolution) {
        (VulnStatus::Open, _) => (Some("in_triage"), None),
        (VulnStatus::InProgress, _) => (Some("exploitable"), record.scan.fixed_version.as_ref().map(|_| "update")),
        (_, Some(Resolution::Fixed)) => (Some("resolved"), Some("update")),
        (_, Some(Resolution::FalsePositive)) => (Some("false_positive"), None),
        (_, Some(Resolution::NotApplicable)) => (Some("not_affected"), None),
        (_, Some(Resolution::RiskAccepted | Resolution::WontFix)) => (Some("exploitable"), Some("will_not_fix")),
        (_, Some(Resolution::Duplicate) | None) => (None, None),
    };
    let mut analysis = json!({});
    if let Some(state) = state {
        analysis["state"] = json!(state);
    }
    if let Some(response) = response {
        analysis["response"] = json!([response]);
    }
    let detail = match (r.resolution, &r.resolution_note) {
        (Some(resolution), Some(note)) => Some(format!("{}: {note}", resolution.label())),
        (Some(resolution), None) => Some(resolution.label().to_owned()),
        (None, _) => None,
    };
    if let Some(detail) = detail {
        analysis["detail"] = json!(detail);
    }
    analysis["lastUpdated"] = json!(record.updated_at);
    analysis
}

/// The component, with the version found and the version that fixes it.
fn affected(record: &Vulnerability, reference: &str) -> Value {
    let mut versions = Vec::new();
    if let Some(version) = record.scan.component.as_ref().and_then(|c| c.version.as_ref()) {
        versions.push(json!({ "version": version, "status": "affected" }));
    }
    if let Some(fixed) = &record.scan.fixed_version {
        versions.push(json!({ "version": fixed, "status": "unaffected" }));
    }
    if versions.is_empty() { json!({ "ref": reference }) } else { json!({ "ref": reference, "versions": versions }) }
}

fn vulnerability(record: &Vulnerability, affects: &str) -> Value {
    let r = &record.record;
    let id = r.cve_id.clone().or_else(|| record.scan.rule_id.clone()).unwrap_or_else(|| record.key());
    let mut entry = json!({
        "bom-ref": format!("vulntrack:{}", record.key()),
        "id": id,
        "ratings": ratings(record),
        "description": r.title,
        "detail": r.description,
        "created": record.created_at,
        "updated": record.updated_at,
        "analysis": analysis(record),
        "affects": [affected(record, affects)],
        "properties": [
            { "name": "vulntrack:key", "value": record.key() },
            { "name": "vulntrack:status", "value": r.status.as_str() },
            { "name": "vulntrack:priority", "value": record.intel.priority.to_string() },
        ],
    });
    if let Some(cve) = &r.cve_id {
        entry["source"] = json!({ "name": "NVD", "url": format!("https://nvd.nist.gov/vuln/detail/{cve}") });
    }
    if !record.scan.cwe_ids.is_empty() {
        entry["cwes"] = json!(record.scan.cwe_ids);
    }
    let recommendation = r.remediation.clone().or_else(|| {
        let fixed = record.scan.fixed_version.as_ref()?;
        let name = record.scan.component.as_ref().map_or("the component", |c| c.name.as_str());
        Some(format!("Upgrade {name} to {fixed}"))
    });
    if let Some(recommendation) = recommendation {
        entry["recommendation"] = json!(recommendation);
    }
    let advisories: Vec<Value> = r.references.iter().map(|url| json!({ "url": url })).collect();
    if !advisories.is_empty() {
        entry["advisories"] = json!(advisories);
    }
    entry
}

impl TextEncoder for Vex {
    fn begin(&mut self) -> Vec<u8> {
        let head = json!({
            "timestamp": self.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "tools": { "components": [{
                "type": "application", "name": "VulnTrack", "version": env!("CARGO_PKG_VERSION"),
            }] },
        });
        let serial = uuid::Uuid::new_v4();
        format!(
            r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:{serial}","version":1,"metadata":{head},"vulnerabilities":["#
        )
        .into_bytes()
    }

    fn page(&mut self, records: &[Vulnerability]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        for record in records {
            let Some((reference, component)) = component_ref(record) else { continue };
            if self.written > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, &vulnerability(record, &reference))?;
            self.components.entry(reference).or_insert(component);
            self.written += 1;
        }
        Ok(out)
    }

    fn end(&mut self) -> std::io::Result<Vec<u8>> {
        let mut out = br#"],"components":["#.to_vec();
        for (n, component) in std::mem::take(&mut self.components).into_values().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, &component)?;
        }
        out.extend_from_slice(b"]}");
        Ok(out)
    }
}

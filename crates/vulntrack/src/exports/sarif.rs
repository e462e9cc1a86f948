//! SARIF 2.1.0: one run of the tool "VulnTrack", one result per record.
//!
//! Results carry everything themselves (level, `security-severity`, CWE
//! tags) instead of pointing into a rules table, so the document can be
//! written as the records arrive. What maps where:
//! - `ruleId`: the scanner's rule id, else the CVE, else the record's key;
//!   `message.text`: the title, a blank line, the description.
//! - `level`: CRITICAL/HIGH → error, MEDIUM → warning, LOW → note, INFO →
//!   none; `properties.security-severity`: the CVSS score when its band is
//!   the record's severity, else the lowest score of the record's band (so a
//!   severity a person set survives a round trip).
//! - Location: a file and line as a physical location, a URL as its
//!   artifact, a host and port as a logical location.
//! - `partialFingerprints`: the record's fingerprint (or id), so importing
//!   the export twice finds the same results.
//! - A false positive, risk accepted, won't fix or not applicable record
//!   carries an accepted external suppression with the person's note.

use serde_json::{Value, json};
use vulntrack_domain::vulnerability::{Resolution, Severity, cvss_score};
use vulntrack_store::vulnerabilities::Vulnerability;

use super::TextEncoder;

const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

#[derive(Default)]
pub struct Sarif {
    written: u64,
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
        Severity::Info => "none",
    }
}

/// GitHub's 0–10 `security-severity`, kept within the record's band.
fn security_severity(record: &Vulnerability) -> String {
    let severity = record.record.severity;
    if let Some(score) = record.record.cvss_score
        && cvss_score::severity_of_rating(cvss_score::rating(score)) == severity
    {
        return format!("{score:.1}");
    }
    match severity {
        Severity::Critical => "9.0",
        Severity::High => "7.0",
        Severity::Medium => "4.0",
        Severity::Low => "0.1",
        Severity::Info => "0.0",
    }
    .to_owned()
}

fn locations(record: &Vulnerability) -> Vec<Value> {
    let location = &record.scan.location;
    if let Some(file) = &location.file {
        let mut physical = json!({ "artifactLocation": { "uri": file } });
        if let Some(line) = location.line.filter(|l| *l > 0) {
            physical["region"] = json!({ "startLine": line });
        }
        return vec![json!({ "physicalLocation": physical })];
    }
    if let Some(url) = &location.url {
        return vec![json!({ "physicalLocation": { "artifactLocation": { "uri": url } } })];
    }
    if let Some(label) = super::register::location_label(location) {
        return vec![json!({ "logicalLocations": [{ "name": label, "kind": "resource" }] })];
    }
    Vec::new()
}

fn suppression(record: &Vulnerability) -> Option<Value> {
    let resolution = record.record.resolution?;
    let judged = matches!(
        resolution,
        Resolution::FalsePositive | Resolution::RiskAccepted | Resolution::WontFix | Resolution::NotApplicable
    );
    judged.then(|| {
        let justification = record.record.resolution_note.clone().unwrap_or_else(|| resolution.label().to_owned());
        json!({ "kind": "external", "status": "accepted", "justification": justification })
    })
}

fn result(record: &Vulnerability) -> Value {
    let r = &record.record;
    let rule_id = record.scan.rule_id.clone().or_else(|| r.cve_id.clone()).unwrap_or_else(|| record.key());
    let message =
        if r.description.trim().is_empty() { r.title.clone() } else { format!("{}\n\n{}", r.title, r.description) };
    let mut tags = vec!["security".to_owned()];
    tags.extend(record.scan.cwe_ids.iter().map(|n| format!("external/cwe/cwe-{n}")));
    for tag in &r.tags {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    let mut vulntrack = json!({
        "key": record.key(),
        "id": record.id,
        "status": r.status.as_str(),
        "severity": r.severity.as_str(),
        "kind": r.kind.as_str(),
        "priority": record.intel.priority,
        "assets": r.assets,
        "created": record.created_at,
        "updated": record.updated_at,
    });
    let optional = [
        ("resolution", r.resolution.map(|x| json!(x.as_str()))),
        ("cve", r.cve_id.as_ref().map(|x| json!(x))),
        ("cvss_vector", r.cvss_vector.as_ref().map(|x| json!(x))),
        ("cvss_score", r.cvss_score.map(|x| json!(x))),
        ("epss", record.intel.epss.map(|x| json!(x))),
        ("component", record.scan.component.as_ref().map(|x| json!(x))),
        ("fixed_version", record.scan.fixed_version.as_ref().map(|x| json!(x))),
        ("scanner", record.scan.scanner.as_ref().map(|x| json!(x))),
        // Not as `fixes`: a SARIF fix must be an edit of the artifact.
        ("remediation", r.remediation.as_ref().map(|x| json!(x))),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            vulntrack[name] = value;
        }
    }
    if record.intel.known_exploited {
        vulntrack["known_exploited"] = json!(true);
    }
    let mut result = json!({
        "ruleId": rule_id,
        "kind": "fail",
        "level": level(r.severity),
        "message": { "text": message },
        "partialFingerprints": {
            "vulntrack/v1": record.scan.fingerprint.clone().unwrap_or_else(|| record.id.to_string()),
        },
        "properties": {
            "security-severity": security_severity(record),
            "tags": tags,
            "vulntrack": vulntrack,
        },
    });
    let places = locations(record);
    if !places.is_empty() {
        result["locations"] = json!(places);
    }
    if let Some(suppression) = suppression(record) {
        result["suppressions"] = json!([suppression]);
    }
    result
}

impl TextEncoder for Sarif {
    fn begin(&mut self) -> Vec<u8> {
        let tool = json!({
            "driver": {
                "name": "VulnTrack",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
            }
        });
        format!(r#"{{"$schema":"{SCHEMA}","version":"2.1.0","runs":[{{"tool":{tool},"results":["#).into_bytes()
    }

    fn page(&mut self, records: &[Vulnerability]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        for record in records {
            if self.written > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, &result(record))?;
            self.written += 1;
        }
        Ok(out)
    }

    fn end(&mut self) -> std::io::Result<Vec<u8>> {
        Ok(br#"],"columnKind":"unicodeCodePoints"}]}"#.to_vec())
    }
}

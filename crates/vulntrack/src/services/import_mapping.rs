//! A scanner's finding as a VulnTrack record: the report's text made safe
//! and cut to the record's limits, its CVSS vector scored by our own code
//! (a report's score is never taken as given), and its severity mapped.

use chrono::{DateTime, Utc};
use vulntrack_domain::{
    control_chars,
    vulnerability::{
        Resolution, Severity, VulnStatus,
        cvss_score::assess,
        input::{
            DESCRIPTION_MAX, REFERENCE_MAX_CHARS, REFERENCES_MAX, REMEDIATION_MAX, RESOLUTION_NOTE_MAX, TITLE_MAX,
        },
        record::VulnerabilityRecord,
        risk::Stride,
        scanner::{Component, Location, ScannerFields},
    },
};
use vulntrack_scanners::{Finding, Format};

/// Longest text kept in a scanner field (rule ids, paths, purls).
const FIELD_MAX: usize = 500;
const URL_MAX: usize = 2000;
const FILE_MAX: usize = 1000;
const SHORT_MAX: usize = 200;

/// `text` without control characters, trimmed, at most `max` characters
/// (an ellipsis marks a cut).
pub fn clean(text: &str, max: usize) -> String {
    let kept: String = text.chars().filter(|c| !control_chars::is_forbidden(*c)).collect();
    let kept = kept.trim();
    if kept.chars().count() <= max {
        return kept.to_owned();
    }
    let mut cut: String = kept.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn field(text: Option<&str>, max: usize) -> Option<String> {
    text.map(|t| clean(t, max)).filter(|t| !t.is_empty())
}

/// The severity a finding gets: the report's own, else its CVSS vector's
/// rating, else INFO.
pub fn severity_of(
    finding: &Finding,
    vector: Option<&vulntrack_domain::vulnerability::cvss_score::CvssAssessment>,
) -> Severity {
    finding.severity.or_else(|| vector.map(|v| v.severity())).unwrap_or(Severity::Info)
}

/// Which report a finding came from: its format and the tool it names.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub format: Format,
    /// The tool and version (`Trivy 0.50.1`).
    pub scanner: Option<&'a str>,
    /// The tool alone (`Trivy`).
    pub tool: Option<&'a str>,
}

impl<'a> Origin<'a> {
    pub fn of(report: &'a vulntrack_scanners::Report) -> Self {
        Self { format: report.format, scanner: report.scanner.as_deref(), tool: report.tool.as_deref() }
    }
}

/// The record and scanner fields of a new finding (or the scanner fields of
/// one found again), and the warnings its values caused.
pub fn record_of(
    finding: &Finding,
    origin: Origin<'_>,
    asset_name: &str,
    tags: &[String],
    now: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> (VulnerabilityRecord, ScannerFields) {
    let vector = finding.cvss_vector.as_deref().and_then(|vector| match assess(vector.trim()) {
        Ok(assessment) => Some(assessment),
        Err(why) => {
            warnings.push(format!("{}: CVSS vector {vector:?} ignored: {why}", clean(&finding.title, 80)));
            None
        }
    });
    let title = clean(&finding.title, TITLE_MAX);
    let mut description = match finding.details.as_deref() {
        Some(details) if finding.description.trim().is_empty() => clean(details, DESCRIPTION_MAX),
        Some(details) => clean(&format!("{}\n\n{details}", finding.description.trim_end()), DESCRIPTION_MAX),
        None => clean(&finding.description, DESCRIPTION_MAX),
    };
    if description.chars().count() < vulntrack_domain::vulnerability::input::DESCRIPTION_MIN {
        // The record needs a description; a report that gives none still
        // says what was found and where.
        let by = origin.scanner.unwrap_or(origin.format.label());
        description = clean(&format!("{title}. Reported by {by}."), DESCRIPTION_MAX);
    }
    let references: Vec<String> = finding
        .references
        .iter()
        .map(|r| r.trim())
        .filter(|r| (r.starts_with("https://") || r.starts_with("http://")) && r.chars().count() <= REFERENCE_MAX_CHARS)
        .filter(|r| !control_chars::contains_forbidden(r))
        .fold(Vec::new(), |mut kept, r| {
            if !kept.iter().any(|k: &String| k == r) && kept.len() < REFERENCES_MAX {
                kept.push(r.to_owned());
            }
            kept
        });
    let record = VulnerabilityRecord {
        title,
        description,
        severity: severity_of(finding, vector.as_ref()),
        status: if finding.dismissed.is_some() { VulnStatus::Resolved } else { VulnStatus::Open },
        kind: finding.kind.into(),
        cve_id: finding.cve_id.clone().filter(|id| vulntrack_scanners::finding::is_cve(id)),
        cvss_vector: vector.as_ref().map(|v| v.vector.clone()),
        cvss_version: vector.as_ref().map(|v| v.version.to_owned()),
        cvss_score: vector.as_ref().map(|v| v.score),
        dread: None,
        stride: Stride::default(),
        assets: vec![asset_name.to_owned()],
        references,
        remediation: field(finding.remediation.as_deref(), REMEDIATION_MAX),
        assignee_id: None,
        tags: tags.to_vec(),
        // What the report dismisses (a VEX `not_affected`, a suppression)
        // is recorded resolved, with the report's reason.
        resolution: finding.dismissed.is_some().then_some(Resolution::NotApplicable),
        resolution_note: field(finding.dismissed.as_deref(), RESOLUTION_NOTE_MAX),
        duplicate_of: None,
        risk_accepted_until: None,
    };
    (record, scan_of(finding, origin, now))
}

/// The scanner's fields of a finding seen at `now`.
pub fn scan_of(finding: &Finding, origin: Origin<'_>, now: DateTime<Utc>) -> ScannerFields {
    let mut cwe_ids = finding.cwe_ids.clone();
    cwe_ids.sort_unstable();
    cwe_ids.dedup();
    cwe_ids.truncate(20);
    ScannerFields {
        source: origin.format.name().to_owned(),
        scanner: field(origin.scanner, SHORT_MAX),
        tool: field(origin.tool, 100),
        rule_id: field(finding.rule_id.as_deref(), FIELD_MAX),
        cwe_ids,
        component: finding.component.as_ref().and_then(|c| {
            Some(Component {
                name: field(Some(&c.name), FIELD_MAX)?,
                version: field(c.version.as_deref(), SHORT_MAX),
                purl: field(c.purl.as_deref(), FILE_MAX),
                ecosystem: field(c.ecosystem.as_deref(), 64),
            })
        }),
        fixed_version: field(finding.fixed_version.as_deref(), FIELD_MAX),
        location: Location {
            file: field(finding.location.file.as_deref(), FILE_MAX),
            line: finding.location.line,
            url: field(finding.location.url.as_deref(), URL_MAX),
            host: field(finding.location.host.as_deref(), 255),
            port: finding.location.port,
            protocol: field(finding.location.protocol.as_deref(), 16),
        },
        fingerprint: Some(finding.fingerprint.clone()),
        first_seen_at: Some(now),
        last_seen_at: Some(now),
        occurrences: Some(finding.occurrences.max(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRIVY: Origin<'static> = Origin { format: Format::Trivy, scanner: None, tool: None };

    #[test]
    fn text_is_cleaned_and_cut() {
        assert_eq!(clean(" a\u{0}b ", 10), "ab");
        assert_eq!(clean("abcdef", 4), "abc…");
    }

    #[test]
    fn a_report_vector_is_scored_here_and_a_bad_one_dropped_with_a_warning() {
        let finding = Finding {
            title: "t".into(),
            cvss_vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
            fingerprint: "f".into(),
            ..Finding::default()
        };
        let mut warnings = Vec::new();
        let (record, scan) = record_of(&finding, TRIVY, "a", &[], Utc::now(), &mut warnings);
        assert_eq!((record.cvss_score, record.severity), (Some(9.8), Severity::Critical));
        assert!(record.description.contains("Reported by"), "{}", record.description);
        assert_eq!(scan.source, "trivy");
        let bad = Finding { cvss_vector: Some("CVSS:3.1/AV:X".into()), ..finding };
        let (record, _) = record_of(&bad, TRIVY, "a", &[], Utc::now(), &mut warnings);
        assert_eq!((record.cvss_vector, record.severity), (None, Severity::Info));
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn the_description_continues_with_the_rule_details() {
        let finding = |description: &str, details: Option<&str>| Finding {
            title: "SQL injection".into(),
            description: description.into(),
            details: details.map(Into::into),
            fingerprint: "f".into(),
            ..Finding::default()
        };
        let describe =
            |finding: Finding| record_of(&finding, TRIVY, "a", &[], Utc::now(), &mut Vec::new()).0.description;
        assert_eq!(
            describe(finding("Query built from `name`.", Some("Database query built from user input."))),
            "Query built from `name`.\n\nDatabase query built from user input."
        );
        assert_eq!(
            describe(finding("  ", Some("Database query built from user input."))),
            "Database query built from user input."
        );
        assert_eq!(describe(finding("Query built from `name`.", None)), "Query built from `name`.");
    }
}

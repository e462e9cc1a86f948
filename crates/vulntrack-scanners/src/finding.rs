//! One finding as every format is read into it.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use vulntrack_domain::vulnerability::{Severity, VulnKind};

/// A finding as a scanner reported it, in VulnTrack's terms.
///
/// Every optional field is `None`/empty when the report does not say; a
/// parser never invents a value. `fingerprint` identifies the finding
/// across reports of the same asset and scanner (see [`Finding::fingerprint_of`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Finding {
    /// A one-line name: the rule's or advisory's title, or what the tool says.
    pub title: String,
    /// What the tool says about this finding (plain text or Markdown),
    /// possibly empty.
    pub description: String,
    /// What the tool says about every finding of its rule, plugin or
    /// advisory (a SARIF rule's descriptions), which the record's
    /// description continues with. Shared like `remediation`.
    pub details: Option<Arc<str>>,
    /// Mapped from the format's scale (each module documents its mapping).
    /// `None` when the report gives none: the importer then takes the CVSS
    /// vector's rating, or INFO.
    pub severity: Option<Severity>,
    pub kind: Kind,
    /// The tool's rule, check, plugin or advisory id.
    pub rule_id: Option<String>,
    /// A CVE id among the finding's ids, upper case.
    pub cve_id: Option<String>,
    pub cwe_ids: Vec<u32>,
    pub component: Option<Component>,
    pub fixed_version: Option<String>,
    pub location: Location,
    /// A CVSS v3.x or v4.0 base vector as the report gives it; the importer
    /// scores it with VulnTrack's own CVSS code and drops it if invalid.
    pub cvss_vector: Option<String>,
    /// Links the report gives (advisories, documentation).
    pub references: Vec<String>,
    /// Shared between the findings of a report that give the same text
    /// (a SARIF rule's help, a Burp issue type's remediation): the report
    /// holds each such text once.
    pub remediation: Option<Arc<str>>,
    /// Why the report itself says this is not a live finding (a SARIF
    /// suppression, a CycloneDX VEX `not_affected`), if it does.
    pub dismissed: Option<String>,
    /// Hex SHA-256 of the format's stable fields.
    pub fingerprint: String,
    /// How many times the report lists it (repeats are merged into one).
    pub occurrences: u32,
}

/// Whether a finding is a flaw in code or a package, or a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    #[default]
    Vulnerability,
    Misconfiguration,
}

impl From<Kind> for VulnKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Vulnerability => VulnKind::Vulnerability,
            Kind::Misconfiguration => VulnKind::Misconfiguration,
        }
    }
}

pub use vulntrack_domain::vulnerability::scanner::{Component, Location};

impl Finding {
    /// The fingerprint of a format's stable fields: the format name and each
    /// part, length-prefixed so `("ab", "c")` and `("a", "bc")` differ.
    /// Parts that are absent are passed as `""`.
    pub fn fingerprint_of(format: &str, parts: &[&str]) -> String {
        let mut hash = Sha256::new();
        for part in std::iter::once(format).chain(parts.iter().copied()) {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        hex::encode(hash.finalize())
    }
}

/// A severity word as scanners write it, in any letter case:
/// critical, high, medium/moderate, low, info/informational/note/none/
/// negligible/unknown. `None` for anything else.
pub fn severity_from_word(word: &str) -> Option<Severity> {
    match word.trim().to_ascii_lowercase().as_str() {
        "critical" | "crit" | "blocker" => Some(Severity::Critical),
        "high" | "error" | "important" => Some(Severity::High),
        "medium" | "moderate" | "warning" | "med" => Some(Severity::Medium),
        "low" | "minor" => Some(Severity::Low),
        "info" | "informational" | "information" | "note" | "none" | "negligible" | "unknown" | "log" => {
            Some(Severity::Info)
        }
        _ => None,
    }
}

/// The CVSS qualitative band of a 0–10 score (0 is INFO).
pub fn severity_from_score(score: f64) -> Severity {
    vulntrack_domain::vulnerability::cvss_score::severity_of_rating(
        vulntrack_domain::vulnerability::cvss_score::rating(score),
    )
}

/// The band of a CVSS score, unless the score is outside 0–10.
pub(crate) fn severity_from_valid_score(score: f64) -> Option<Severity> {
    Some(score).filter(|s| (0.0..=10.0).contains(s)).map(severity_from_score)
}

/// The band of a CVSS vector's base score, when VulnTrack's CVSS code reads the vector.
pub(crate) fn severity_from_vector(vector: &str) -> Option<Severity> {
    vulntrack_domain::vulnerability::cvss_score::assess(vector).ok().map(|a| a.severity())
}

/// Whether a vector is CVSS v3.x or v4.0 (`CVSS:3.1/AV:N/…`), the versions
/// a finding's `cvss_vector` holds.
pub(crate) fn is_v3_or_v4_vector(vector: &str) -> bool {
    vector.starts_with("CVSS:3.") || vector.starts_with("CVSS:4.0/")
}

/// The first `CVE-YYYY-N…` id among `ids`, upper-cased.
pub fn first_cve<'a>(ids: impl IntoIterator<Item = &'a str>) -> Option<String> {
    ids.into_iter().map(str::trim).find(|id| is_cve(id)).map(str::to_ascii_uppercase)
}

/// Whether `id` is a CVE id (`CVE-2021-44228`), in any letter case.
pub fn is_cve(id: &str) -> bool {
    vulntrack_domain::vulnerability::input::is_cve_id(&id.to_ascii_uppercase())
}

/// CWE numbers in text such as `CWE-79`, `CWE-79: Improper…`, `79`.
pub fn cwe_number(text: &str) -> Option<u32> {
    let text = text.trim();
    let digits = text
        .strip_prefix("CWE-")
        .or_else(|| text.strip_prefix("cwe-"))
        .or_else(|| text.strip_prefix("CWE"))
        .unwrap_or(text);
    let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_separate_their_parts() {
        assert_ne!(Finding::fingerprint_of("x", &["ab", "c"]), Finding::fingerprint_of("x", &["a", "bc"]));
        assert_ne!(Finding::fingerprint_of("trivy", &["a"]), Finding::fingerprint_of("grype", &["a"]));
        assert_eq!(Finding::fingerprint_of("x", &["a"]).len(), 64);
    }

    #[test]
    fn words_and_scores_map_to_severities() {
        assert_eq!(severity_from_word("MODERATE"), Some(Severity::Medium));
        assert_eq!(severity_from_word("Informational"), Some(Severity::Info));
        assert_eq!(severity_from_word("bogus"), None);
        assert_eq!(severity_from_score(9.8), Severity::Critical);
        assert_eq!(severity_from_score(6.5), Severity::Medium);
        assert_eq!(severity_from_score(0.0), Severity::Info);
    }

    #[test]
    fn cve_and_cwe_ids_are_recognised() {
        assert_eq!(first_cve(["GHSA-x", "cve-2021-44228"]), Some("CVE-2021-44228".to_owned()));
        assert!(!is_cve("CVE-21-1"));
        assert_eq!(cwe_number("CWE-79: Improper Neutralization"), Some(79));
        assert_eq!(cwe_number("89"), Some(89));
        assert_eq!(cwe_number("none"), None);
    }
}

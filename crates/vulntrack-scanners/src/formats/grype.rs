//! Grype JSON (`grype -o json`): `matches[]`, each a `vulnerability`, the
//! `relatedVulnerabilities` it stands for (the NVD record behind a GHSA or
//! distribution advisory, read for a CVE id, CVSS vector, description and
//! severity when the match has none) and the matched `artifact`.
//!
//! Severity: `vulnerability.severity` (Critical, High, Medium, Low;
//! Negligible is INFO), else the first related record's; Unknown is INFO
//! only when no record says more.
//!
//! Fingerprint: vulnerability id, artifact name, version and type. The
//! artifact's locations are not in it: one package found at several paths
//! (a library copied into two directories) is one finding, counted twice.

use serde::Deserialize;
use vulntrack_domain::vulnerability::Severity;

use super::support::{from_json, is_blank, nullable, text, unique};
use crate::finding::{Kind, first_cve, is_v3_or_v4_vector, severity_from_word};
use crate::{Component, Finding, Location, ParseError, ReportBuilder, detect::Head};

const FORMAT: &str = "grype";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Document {
    #[serde(deserialize_with = "nullable")]
    matches: Vec<Match>,
    descriptor: Option<Descriptor>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Descriptor {
    name: Option<String>,
    version: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Match {
    vulnerability: Vulnerability,
    #[serde(deserialize_with = "nullable")]
    related_vulnerabilities: Vec<Vulnerability>,
    artifact: Artifact,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Vulnerability {
    id: Option<String>,
    data_source: Option<String>,
    severity: Option<String>,
    #[serde(deserialize_with = "nullable")]
    urls: Vec<String>,
    description: Option<String>,
    #[serde(deserialize_with = "nullable")]
    cvss: Vec<Cvss>,
    fix: Option<Fix>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Cvss {
    vector: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Fix {
    #[serde(deserialize_with = "nullable")]
    versions: Vec<String>,
    state: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Artifact {
    name: Option<String>,
    version: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    language: Option<String>,
    purl: Option<String>,
    #[serde(deserialize_with = "nullable")]
    locations: Vec<ArtifactLocation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ArtifactLocation {
    path: Option<String>,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    report.scanner("Grype", None);
    if is_blank(data) {
        return Ok(());
    }
    let document: Document = from_json(FORMAT, data)?;
    if let Some(descriptor) = &document.descriptor {
        let named_grype = descriptor.name.as_deref().is_none_or(|n| n.trim().eq_ignore_ascii_case("grype"));
        if named_grype {
            report.scanner("Grype", descriptor.version.as_deref());
        }
    }
    for found in &document.matches {
        match finding(found) {
            Some(finding) => report.push(finding),
            None => report.warn("a Grype match without a vulnerability id was skipped"),
        }
    }
    Ok(())
}

fn finding(found: &Match) -> Option<Finding> {
    let vulnerability = &found.vulnerability;
    let related = &found.related_vulnerabilities;
    let id = text(vulnerability.id.as_deref())?;
    let artifact = &found.artifact;
    let name = text(artifact.name.as_deref()).unwrap_or_default();
    let version = text(artifact.version.as_deref());
    let kind = text(artifact.kind.as_deref());
    let records = || std::iter::once(vulnerability).chain(related);
    let fixes: Vec<&str> = vulnerability
        .fix
        .iter()
        .filter(|fix| !fix.state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("wont-fix")))
        .flat_map(|fix| &fix.versions)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    let references = unique(records().flat_map(|r| r.data_source.iter().chain(&r.urls)).filter_map(|u| text(Some(u))));
    let fingerprint =
        Finding::fingerprint_of(FORMAT, &[&id, &name, version.as_deref().unwrap_or(""), kind.as_deref().unwrap_or("")]);
    Some(Finding {
        title: [id.as_str(), "in", &name, version.as_deref().unwrap_or("")].join(" "),
        description: records().find_map(|r| text(r.description.as_deref())).unwrap_or_default(),
        severity: severity(records()),
        kind: Kind::Vulnerability,
        cve_id: first_cve(records().filter_map(|r| r.id.as_deref())),
        rule_id: Some(id.clone()),
        component: (!name.is_empty()).then(|| Component {
            name: name.clone(),
            version: version.clone(),
            purl: text(artifact.purl.as_deref()),
            ecosystem: kind.clone().or_else(|| text(artifact.language.as_deref())),
        }),
        fixed_version: fixes.first().map(|v| (*v).to_owned()),
        remediation: (!fixes.is_empty()).then(|| format!("Upgrade {name} to {}.", fixes.join(" or ")).into()),
        location: Location {
            file: artifact.locations.iter().find_map(|l| text(l.path.as_deref())),
            ..Location::default()
        },
        cvss_vector: cvss_vector(records()),
        references,
        fingerprint,
        occurrences: 1,
        ..Finding::default()
    })
}

/// The first record's word that says something; "Unknown" only when none does.
fn severity<'a>(records: impl Iterator<Item = &'a Vulnerability> + Clone) -> Option<Severity> {
    let words = records.filter_map(|r| r.severity.as_deref().map(str::trim));
    let known = words.clone().filter(|w| !w.eq_ignore_ascii_case("unknown")).find_map(severity_from_word);
    known.or_else(|| words.clone().find_map(severity_from_word))
}

/// A v3.x/v4.0 vector, the records' `Primary` (NVD's own) scoring first.
fn cvss_vector<'a>(records: impl Iterator<Item = &'a Vulnerability> + Clone) -> Option<String> {
    let vectors = |primary: bool| {
        records
            .clone()
            .flat_map(|r| &r.cvss)
            .filter(move |c| !primary || c.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("primary")))
            .filter_map(|c| c.vector.as_deref().map(str::trim))
            .find(|v| is_v3_or_v4_vector(v))
    };
    vectors(true).or_else(|| vectors(false)).map(str::to_owned)
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    head.shape == crate::detect::Shape::Json
        && head.has_key("matches")
        && (head.has_key("matchDetails") || head.has_key("relatedVulnerabilities") || head.has_key("descriptor"))
        && (head.has_key("artifact") || head.has_key("source") || head.has_key("descriptor"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    #[test]
    fn a_distribution_advisory_takes_the_cve_and_vector_of_its_related_record() {
        let data = br#"{"matches": [{
            "vulnerability": {"id": "DLA-3051-1", "severity": "Negligible", "urls": [], "cvss": [],
                              "fix": {"versions": ["2.28-10+deb10u2"], "state": "fixed"}},
            "relatedVulnerabilities": [{"id": "CVE-2021-33574", "severity": "Critical",
                "description": "The mq_notify function has a use-after-free.",
                "cvss": [{"version": "2.0", "vector": "AV:N/AC:L/Au:N/C:P/I:P/A:P"},
                         {"type": "Primary", "version": "3.1",
                          "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}],
            "matchDetails": {"matcher": "dpkg-matcher"},
            "artifact": {"name": "libc6", "version": "2.28-10", "type": "deb", "locations": null}}],
            "descriptor": {"name": "grype", "version": "0.74.0"}}"#;
        let report = crate::parse(Format::Grype, data).unwrap();
        assert!(sniff(&Head::of(data)));
        assert_eq!(report.scanner.as_deref(), Some("Grype 0.74.0"));
        let finding = &report.findings[0];
        assert_eq!(finding.rule_id.as_deref(), Some("DLA-3051-1"));
        assert_eq!(finding.cve_id.as_deref(), Some("CVE-2021-33574"));
        assert_eq!(finding.severity, Some(Severity::Info));
        assert_eq!(finding.cvss_vector.as_deref(), Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"));
        assert_eq!(finding.fixed_version.as_deref(), Some("2.28-10+deb10u2"));
        assert_eq!(finding.description, "The mq_notify function has a use-after-free.");
    }

    #[test]
    fn a_malformed_report_names_the_line() {
        let error = crate::parse(Format::Grype, b"{\"matches\": [\n{\"vulnerability\": 3}]}").unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
    }
}

//! Trivy JSON (`trivy image|fs|repo|config|k8s --format json`).
//!
//! Variants: the legacy top-level list of results (Trivy before 0.20;
//! `null` for none); `SchemaVersion` 2 reports, whose `Results[]` hold
//! `Vulnerabilities`, `Misconfigurations`, `Secrets` and `Licenses`; and
//! Kubernetes reports (`ClusterName` with `Resources[]`, or the older
//! top-level `Vulnerabilities[]`/`Misconfigurations[]` lists of resources),
//! whose resources hold `Results[]`. Misconfigurations that `PASS` are
//! skipped; an `EXCEPTION`, or a vulnerability whose VEX `Status` is
//! `not_affected`, is read as dismissed.
//!
//! Severity: Trivy's `Severity` word (CRITICAL, HIGH, MEDIUM, LOW; UNKNOWN is INFO).
//!
//! Fingerprint (each with the Kubernetes `namespace/kind/name` when there is one):
//! vulnerability = VulnerabilityID, PkgName, InstalledVersion, Target;
//! misconfiguration = ID, Target, CauseMetadata.Resource, Message;
//! secret = RuleID, Target, Match (Trivy masks the secret in it);
//! licence = licence Name, PkgName, FilePath, Target.

use std::collections::BTreeMap;

use std::fmt;

use serde::{
    Deserialize, Deserializer,
    de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor},
};

use super::support::{EachElement, List, is_blank, nullable, text, unique, without_bom};
use crate::finding::{Kind, cwe_number, first_cve, is_v3_or_v4_vector, severity_from_word};
use crate::{Component, Finding, Location, ParseError, ReportBuilder, detect::Head};

const FORMAT: &str = "trivy";

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Tool {
    version: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Resource {
    namespace: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    #[serde(deserialize_with = "nullable")]
    results: Vec<TrivyResult>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct TrivyResult {
    target: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    #[serde(deserialize_with = "nullable")]
    vulnerabilities: Vec<Vulnerability>,
    #[serde(deserialize_with = "nullable")]
    misconfigurations: Vec<Misconfiguration>,
    #[serde(deserialize_with = "nullable")]
    secrets: Vec<Secret>,
    #[serde(deserialize_with = "nullable")]
    licenses: Vec<License>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Vulnerability {
    #[serde(rename = "VulnerabilityID")]
    vulnerability_id: Option<String>,
    pkg_name: Option<String>,
    pkg_path: Option<String>,
    pkg_identifier: Option<PkgIdentifier>,
    /// The package URL in reports read from an SBOM before `PkgIdentifier`.
    #[serde(rename = "Ref")]
    reference: Option<String>,
    installed_version: Option<String>,
    fixed_version: Option<String>,
    status: Option<String>,
    severity_source: Option<String>,
    #[serde(rename = "PrimaryURL")]
    primary_url: Option<String>,
    title: Option<String>,
    description: Option<String>,
    severity: Option<String>,
    #[serde(rename = "CweIDs", deserialize_with = "nullable")]
    cwe_ids: Vec<String>,
    #[serde(rename = "CVSS", deserialize_with = "nullable")]
    cvss: BTreeMap<String, Cvss>,
    #[serde(deserialize_with = "nullable")]
    references: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PkgIdentifier {
    #[serde(rename = "PURL")]
    purl: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Cvss {
    #[serde(rename = "V3Vector")]
    v3: Option<String>,
    #[serde(rename = "V40Vector")]
    v40: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Misconfiguration {
    #[serde(rename = "ID")]
    id: Option<String>,
    #[serde(rename = "AVDID")]
    avd_id: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    title: Option<String>,
    description: Option<String>,
    message: Option<String>,
    resolution: Option<String>,
    severity: Option<String>,
    #[serde(rename = "PrimaryURL")]
    primary_url: Option<String>,
    #[serde(deserialize_with = "nullable")]
    references: Vec<String>,
    status: Option<String>,
    cause_metadata: Option<CauseMetadata>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct CauseMetadata {
    resource: Option<String>,
    start_line: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Secret {
    #[serde(rename = "RuleID")]
    rule_id: Option<String>,
    category: Option<String>,
    severity: Option<String>,
    title: Option<String>,
    start_line: Option<u64>,
    #[serde(rename = "Match")]
    matched: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct License {
    severity: Option<String>,
    category: Option<String>,
    pkg_name: Option<String>,
    file_path: Option<String>,
    name: Option<String>,
    link: Option<String>,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    report.scanner("Trivy", None);
    if is_blank(data) {
        return Ok(());
    }
    let data = without_bom(data);
    let is_list = data.trim_ascii_start().starts_with(b"[");
    read(serde_json::Deserializer::from_slice(data), is_list, report)
}

/// [`parse`] of a report read as it comes from `reader`, which starts at
/// the first byte of the JSON (`is_list` when that is `[`).
pub(crate) fn parse_reader(
    reader: impl std::io::Read,
    is_list: bool,
    report: &mut ReportBuilder,
) -> Result<(), ParseError> {
    report.scanner("Trivy", None);
    read(serde_json::Deserializer::from_reader(reader), is_list, report)
}

fn read<'de, R: serde_json::de::Read<'de>>(
    mut json: serde_json::Deserializer<R>,
    is_list: bool,
    report: &mut ReportBuilder,
) -> Result<(), ParseError> {
    let read = if is_list {
        List(ResultsSeed { report, resource: "" }).deserialize(&mut json)
    } else {
        json.deserialize_map(ReportVisitor { report })
    };
    read.and_then(|()| json.end()).map_err(|e| ParseError::json(FORMAT, &e))
}

// The report is read as it streams past: each vulnerability becomes a
// finding as soon as it is read (its result's `Target` and `Type` come
// before `Vulnerabilities` in the order Trivy writes and in sorted order),
// so a 100 MB report never exists as a typed document beside its findings.
// A result whose target or type comes later is held until its end.

/// The top-level object: `Results`, Kubernetes resources, the tool.
struct ReportVisitor<'r> {
    report: &'r mut ReportBuilder,
}

impl<'de> Visitor<'de> for ReportVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Trivy report object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "Results" => map.next_value_seed(List(ResultsSeed { report: &mut *self.report, resource: "" }))?,
                // Kubernetes reports: `Resources` since Trivy 0.35; older
                // ones list resources by what was found in them.
                "Resources" | "Vulnerabilities" | "Misconfigurations" => {
                    let resources: Option<Vec<Resource>> = map.next_value()?;
                    for resource in resources.unwrap_or_default() {
                        let name = [&resource.namespace, &resource.kind, &resource.name]
                            .iter()
                            .filter_map(|part| text(part.as_deref()))
                            .collect::<Vec<_>>()
                            .join("/");
                        for result in &resource.results {
                            read_result(result, &name, self.report);
                        }
                    }
                }
                "Trivy" => {
                    let tool: Option<Tool> = map.next_value()?;
                    self.report.scanner("Trivy", tool.as_ref().and_then(|t| t.version.as_deref()));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A list of results, each read as it comes.
struct ResultsSeed<'r> {
    report: &'r mut ReportBuilder,
    resource: &'r str,
}

impl<'de> EachElement<'de> for ResultsSeed<'_> {
    const EXPECTING: &'static str = "a list of Trivy results";

    fn next<A: SeqAccess<'de>>(&mut self, seq: &mut A) -> Result<bool, A::Error> {
        Ok(seq.next_element_seed(ResultSeed { report: &mut *self.report, resource: self.resource })?.is_some())
    }
}

/// One result: its target and type, then its findings.
struct ResultSeed<'r> {
    report: &'r mut ReportBuilder,
    resource: &'r str,
}

impl<'de> DeserializeSeed<'de> for ResultSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResultSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Trivy result object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // What is read before the target and type are known waits here.
        let mut held = TrivyResult::default();
        let mut target_read = false;
        let mut kind_read = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "Target" => {
                    held.target = map.next_value()?;
                    target_read = true;
                }
                "Type" => {
                    held.kind = map.next_value()?;
                    kind_read = true;
                }
                "Vulnerabilities" if target_read && kind_read => {
                    let target = held.target.as_deref().map(str::trim).unwrap_or_default();
                    let context = Context { target, kind: held.kind.as_deref(), resource: self.resource };
                    map.next_value_seed(List(VulnerabilitiesSeed { report: &mut *self.report, context }))?;
                }
                "Vulnerabilities" => {
                    held.vulnerabilities.extend(map.next_value::<Option<Vec<_>>>()?.unwrap_or_default())
                }
                "Misconfigurations" => {
                    held.misconfigurations.extend(map.next_value::<Option<Vec<_>>>()?.unwrap_or_default());
                }
                "Secrets" => held.secrets.extend(map.next_value::<Option<Vec<_>>>()?.unwrap_or_default()),
                "Licenses" => held.licenses.extend(map.next_value::<Option<Vec<_>>>()?.unwrap_or_default()),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        read_result(&held, self.resource, self.report);
        Ok(())
    }
}

/// Where a result's findings were found.
#[derive(Clone, Copy)]
struct Context<'a> {
    target: &'a str,
    kind: Option<&'a str>,
    resource: &'a str,
}

/// A result's `Vulnerabilities`, each made a finding as it is read.
struct VulnerabilitiesSeed<'r> {
    report: &'r mut ReportBuilder,
    context: Context<'r>,
}

impl<'de> EachElement<'de> for VulnerabilitiesSeed<'_> {
    const EXPECTING: &'static str = "a list of Trivy vulnerabilities";

    fn next<A: SeqAccess<'de>>(&mut self, seq: &mut A) -> Result<bool, A::Error> {
        let Some(vulnerability) = seq.next_element::<Vulnerability>()? else { return Ok(false) };
        push_vulnerability(&vulnerability, self.context, self.report);
        Ok(true)
    }
}

fn push_vulnerability(vulnerability: &Vulnerability, context: Context<'_>, report: &mut ReportBuilder) {
    match vulnerability_finding(vulnerability, context) {
        Some(finding) => report.push(finding),
        None => report.warn("a Trivy vulnerability without a VulnerabilityID was skipped"),
    }
}

fn read_result(result: &TrivyResult, resource: &str, report: &mut ReportBuilder) {
    let target = result.target.as_deref().map(str::trim).unwrap_or_default();
    let context = Context { target, kind: result.kind.as_deref(), resource };
    for vulnerability in &result.vulnerabilities {
        push_vulnerability(vulnerability, context, report);
    }
    for misconfiguration in &result.misconfigurations {
        if let Some(finding) = misconfiguration_finding(misconfiguration, target, resource) {
            report.push(finding);
        }
    }
    for secret in &result.secrets {
        report.push(secret_finding(secret, target, resource));
    }
    for license in &result.licenses {
        report.push(license_finding(license, target, resource));
    }
}

fn vulnerability_finding(v: &Vulnerability, context: Context<'_>) -> Option<Finding> {
    let Context { target, kind, resource } = context;
    let id = text(v.vulnerability_id.as_deref())?;
    let name = text(v.pkg_name.as_deref()).unwrap_or_default();
    let version = text(v.installed_version.as_deref());
    let fixed = text(v.fixed_version.as_deref());
    let description = [text(v.title.as_deref()), text(v.description.as_deref())].into_iter().flatten();
    // Trivy copies some references with a note after the address.
    let first_words = v.primary_url.iter().chain(&v.references).filter_map(|url| url.split_whitespace().next());
    let references = unique(first_words.map(str::to_owned));
    let fingerprint = Finding::fingerprint_of(
        FORMAT,
        &["vulnerability", &id, &name, version.as_deref().unwrap_or(""), target, resource],
    );
    Some(Finding {
        title: [id.as_str(), "in", &name, version.as_deref().unwrap_or("")].join(" "),
        description: description.collect::<Vec<_>>().join("\n\n"),
        details: None,
        severity: v.severity.as_deref().and_then(severity_from_word),
        kind: Kind::Vulnerability,
        cve_id: first_cve([id.as_str()]),
        rule_id: Some(id.clone()),
        cwe_ids: v.cwe_ids.iter().filter_map(|cwe| cwe_number(cwe)).collect(),
        component: (!name.is_empty()).then(|| Component {
            name: name.clone(),
            version: version.clone(),
            purl: v
                .pkg_identifier
                .as_ref()
                .and_then(|p| text(p.purl.as_deref()))
                .or_else(|| text(v.reference.as_deref())),
            ecosystem: text(kind),
        }),
        remediation: fixed.as_ref().map(|fixed| format!("Upgrade {name} to {fixed}.")).map(Into::into),
        fixed_version: fixed,
        location: Location { file: text(v.pkg_path.as_deref()).or_else(|| text(Some(target))), ..Location::default() },
        cvss_vector: cvss_vector(v),
        references,
        dismissed: v
            .status
            .as_deref()
            .filter(|s| s.eq_ignore_ascii_case("not_affected"))
            .map(|_| "Trivy's VEX status: not_affected".to_owned()),
        fingerprint,
        occurrences: 1,
    })
}

/// The vector of the source Trivy took the severity from, else NVD's, GitHub's, Red Hat's, any.
fn cvss_vector(v: &Vulnerability) -> Option<String> {
    let preferred = [v.severity_source.as_deref().unwrap_or("nvd"), "nvd", "ghsa", "redhat"];
    let sources = preferred.iter().filter_map(|s| v.cvss.get(*s)).chain(v.cvss.values());
    sources
        .flat_map(|cvss| [cvss.v3.as_deref(), cvss.v40.as_deref()])
        .flatten()
        .map(str::trim)
        .find(|vector| is_v3_or_v4_vector(vector))
        .map(str::to_owned)
}

fn misconfiguration_finding(m: &Misconfiguration, target: &str, resource: &str) -> Option<Finding> {
    let status = m.status.as_deref().unwrap_or("FAIL").trim().to_ascii_uppercase();
    if status == "PASS" {
        return None;
    }
    let id = text(m.id.as_deref()).or_else(|| text(m.avd_id.as_deref())).unwrap_or_default();
    let cause = m.cause_metadata.as_ref();
    let cause_resource = cause.and_then(|c| text(c.resource.as_deref())).unwrap_or_default();
    let message = text(m.message.as_deref()).unwrap_or_default();
    let title = text(m.title.as_deref()).unwrap_or_else(|| message.clone());
    let description = [text(m.kind.as_deref()), text(m.description.as_deref()), text(Some(&message))];
    let fingerprint =
        Finding::fingerprint_of(FORMAT, &["misconfiguration", &id, target, &cause_resource, &message, resource]);
    Some(Finding {
        title: if id.is_empty() { title } else { format!("{id} - {title}") },
        description: description.into_iter().flatten().collect::<Vec<_>>().join("\n\n"),
        severity: m.severity.as_deref().and_then(severity_from_word),
        kind: Kind::Misconfiguration,
        rule_id: text(Some(&id)),
        location: Location {
            file: text(Some(target)),
            line: cause.and_then(|c| c.start_line).and_then(|l| u32::try_from(l).ok()).filter(|&l| l > 0),
            ..Location::default()
        },
        references: urls(m.primary_url.iter().chain(&m.references)),
        remediation: text(m.resolution.as_deref()).map(Into::into),
        dismissed: (status == "EXCEPTION").then(|| "an exception in the Trivy policy".to_owned()),
        fingerprint,
        occurrences: 1,
        ..Finding::default()
    })
}

fn secret_finding(s: &Secret, target: &str, resource: &str) -> Finding {
    let rule = text(s.rule_id.as_deref()).unwrap_or_default();
    let matched = text(s.matched.as_deref()).unwrap_or_default();
    let title = text(s.title.as_deref()).unwrap_or_else(|| rule.clone());
    let description = [text(s.category.as_deref()).map(|c| format!("Category: {c}")), text(Some(&matched))];
    Finding {
        title: format!("Secret in {target}: {title}"),
        description: description.into_iter().flatten().collect::<Vec<_>>().join("\n"),
        severity: s.severity.as_deref().and_then(severity_from_word),
        kind: Kind::Vulnerability,
        rule_id: text(Some(&rule)),
        location: Location {
            file: text(Some(target)),
            line: s.start_line.and_then(|l| u32::try_from(l).ok()).filter(|&l| l > 0),
            ..Location::default()
        },
        fingerprint: Finding::fingerprint_of(FORMAT, &["secret", &rule, target, &matched, resource]),
        occurrences: 1,
        ..Finding::default()
    }
}

/// A licence Trivy's policy flags: a compliance finding, so read as a misconfiguration.
fn license_finding(l: &License, target: &str, resource: &str) -> Finding {
    let name = text(l.name.as_deref()).unwrap_or_default();
    let package = text(l.pkg_name.as_deref()).unwrap_or_default();
    let file = text(l.file_path.as_deref()).unwrap_or_default();
    let category = text(l.category.as_deref()).map(|c| format!(" ({c})")).unwrap_or_default();
    let place = if package.is_empty() { file.clone() } else { package.clone() };
    Finding {
        title: format!("Licence {name}{category} in {place}"),
        description: format!("Licence {name}{category} of {}", if place.is_empty() { target } else { &place }),
        severity: l.severity.as_deref().and_then(severity_from_word),
        kind: Kind::Misconfiguration,
        rule_id: text(Some(&name)),
        component: (!package.is_empty()).then(|| Component { name: package.clone(), ..Component::default() }),
        location: Location { file: text(Some(&file)).or_else(|| text(Some(target))), ..Location::default() },
        references: urls(l.link.iter()),
        fingerprint: Finding::fingerprint_of(FORMAT, &["license", &name, &package, &file, target, resource]),
        occurrences: 1,
        ..Finding::default()
    }
}

fn urls<'a>(list: impl Iterator<Item = &'a String>) -> Vec<String> {
    unique(list.filter_map(|u| text(Some(u))))
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    if !head.is_json() {
        return false;
    }
    // With its keys sorted (`jq -S`, re-serialised), a large report's
    // `SchemaVersion` comes last, past the head; `ArtifactName` and
    // `ArtifactType` together are Trivy's own.
    let schema_2 = (head.has_key("SchemaVersion") && (head.has_key("ArtifactName") || head.has_key("Results")))
        || (head.has_key("ArtifactName") && head.has_key("ArtifactType") && head.has_key("Results"));
    let kubernetes = head.has_key("ClusterName")
        && (head.has_key("Resources") || head.has_key("Vulnerabilities") || head.has_key("Misconfigurations"));
    let legacy = head.text.trim_start().starts_with('[')
        && head.has_key("Target")
        && (head.has_key("Vulnerabilities") || head.has_key("VulnerabilityID"));
    schema_2 || kubernetes || legacy
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, detect::Head};
    use vulntrack_domain::vulnerability::Severity;

    fn read(data: &str) -> crate::Report {
        crate::parse(Format::Trivy, data.as_bytes()).unwrap()
    }

    #[test]
    fn the_legacy_list_form_is_read() {
        let report = read(
            r#"[{"Target": "alpine:3.10 (alpine 3.10.2)", "Type": "alpine", "Vulnerabilities": [
                {"VulnerabilityID": "CVE-2019-1549", "PkgName": "openssl", "InstalledVersion": "1.1.1c-r0",
                 "FixedVersion": "1.1.1d-r0", "Severity": "MEDIUM", "CweIDs": null, "References": null}]},
               {"Target": "app/Gemfile.lock", "Type": "bundler", "Vulnerabilities": null}]"#,
        );
        assert!(sniff(&Head::of(br#"[{"Target": "x", "Vulnerabilities": null}]"#)));
        let finding = &report.findings[0];
        assert_eq!(report.findings.len(), 1);
        assert_eq!(finding.title, "CVE-2019-1549 in openssl 1.1.1c-r0");
        assert_eq!(finding.severity, Some(Severity::Medium));
        assert_eq!(finding.fixed_version.as_deref(), Some("1.1.1d-r0"));
        assert_eq!(finding.location.file.as_deref(), Some("alpine:3.10 (alpine 3.10.2)"));
    }

    #[test]
    fn kubernetes_resources_keep_their_findings_apart() {
        let vuln = r#"{"Target": "redis:6 (debian 10.4)", "Vulnerabilities": [{"VulnerabilityID": "CVE-2020-27350",
            "PkgName": "apt", "InstalledVersion": "1.8.2.1", "Severity": "MEDIUM", "Status": "not_affected",
            "CVSS": {"redhat": {"V3Vector": "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:C/C:L/I:L/A:L"}}}]}"#;
        let data = format!(
            r#"{{"ClusterName": "prod", "Resources": [
                {{"Namespace": "default", "Kind": "Deployment", "Name": "a", "Results": [{vuln}]}},
                {{"Namespace": "default", "Kind": "Deployment", "Name": "b", "Results": [{vuln},
                  {{"Target": "Deployment/b", "Class": "config", "Misconfigurations": [
                    {{"ID": "KSV001", "Title": "Process can elevate its own privileges", "Severity": "MEDIUM",
                      "Status": "FAIL", "CauseMetadata": {{"StartLine": 132}}}},
                    {{"ID": "KSV002", "Title": "Passing check", "Status": "PASS"}}]}}]}}]}}"#
        );
        assert!(sniff(&Head::of(data.as_bytes())));
        let report = read(&data);
        assert_eq!(report.findings.len(), 3);
        assert_eq!(report.findings[0].dismissed.as_deref(), Some("Trivy's VEX status: not_affected"));
        assert_eq!(report.findings[0].cvss_vector.as_deref(), Some("CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:C/C:L/I:L/A:L"));
        let misconfiguration = &report.findings[2];
        assert_eq!(misconfiguration.kind, Kind::Misconfiguration);
        assert_eq!(misconfiguration.title, "KSV001 - Process can elevate its own privileges");
        assert_eq!(misconfiguration.location.line, Some(132));
    }

    #[test]
    fn secrets_are_read() {
        let report = read(
            r#"{"SchemaVersion": 2, "ArtifactName": ".", "Results": [{"Target": "Dockerfile", "Class": "secret",
                "Secrets": [{"RuleID": "github-pat", "Category": "GitHub", "Severity": "CRITICAL",
                "Title": "GitHub Personal Access Token", "StartLine": 24, "Match": "ENV GITHUB_PAT=*****"}]}]}"#,
        );
        let finding = &report.findings[0];
        assert_eq!(finding.title, "Secret in Dockerfile: GitHub Personal Access Token");
        assert_eq!((finding.severity, finding.location.line), (Some(Severity::Critical), Some(24)));
    }

    #[test]
    fn a_malformed_report_names_the_line() {
        let error = crate::parse(Format::Trivy, b"{\"SchemaVersion\": 2,\n\"Results\": [}").unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
    }
}

//! GitLab security reports (schema 2.x, 14.x and 15.x): SAST, secret
//! detection and dependency scanning, and the container scanning and DAST
//! reports of the same schema. `vulnerabilities[]` with `name`/`message`,
//! `description`, `severity`, `solution`, `identifiers[]`, `links[]`,
//! `location` (`file`, `start_line`, `class`, `method`; `dependency.package
//! .name` and `dependency.version`; `image`; `hostname` and `path`) and
//! `flags[]`; `remediations[]` and `scan.scanner`.
//!
//! - Severity: Critical, High, Medium, Low, Info as themselves; Unknown,
//!   Undefined or none given → INFO (GitLab shows an absent severity as
//!   Unknown).
//! - The first identifier is the rule id (GitLab's primary identifier); the
//!   CVE and CWE come from identifiers of type `cve` and `cwe` (and a CVE in
//!   the old `cve` field). A `remediations[]` summary that names the
//!   finding, else its `solution`, is the remediation. A
//!   `flagged-as-likely-false-positive` flag sets `dismissed`.
//! - The raw secret extract of secret detection (`raw_source_code_extract`)
//!   is never read.
//! - Fingerprint: category, primary identifier, file (or image), start
//!   line, package name and version, DAST URL, and the report's own
//!   comparison key (the old `cve` field) when it is there.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;
use vulntrack_domain::vulnerability::Severity;

use super::support::{each, from_json, is_blank, line_number, string_or_number, text};
use crate::finding::{cwe_number, first_cve, severity_from_word};
use crate::{Component, Finding, Location, ParseError, ReportBuilder, detect::Head};

const FORMAT: &str = "gitlab-sast";

#[derive(Deserialize, Default)]
#[serde(default)]
struct SecurityReport {
    vulnerabilities: Option<Vec<Value>>,
    remediations: Option<Vec<Value>>,
    dependency_files: Option<Vec<Value>>,
    scan: Option<Scan>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Scan {
    scanner: Option<Scanner>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct Scanner {
    name: Option<String>,
    version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Vulnerability {
    id: Option<String>,
    category: Option<String>,
    name: Option<String>,
    message: Option<String>,
    description: Option<String>,
    cve: Option<String>,
    severity: Option<String>,
    solution: Option<String>,
    scanner: Option<Scanner>,
    location: GitlabLocation,
    identifiers: Option<Vec<Identifier>>,
    links: Option<Vec<Link>>,
    flags: Option<Vec<Flag>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GitlabLocation {
    file: Option<String>,
    start_line: Option<Value>,
    class: Option<String>,
    method: Option<String>,
    dependency: Option<Dependency>,
    image: Option<String>,
    operating_system: Option<String>,
    hostname: Option<String>,
    path: Option<String>,
    param: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Dependency {
    package: Option<Package>,
    version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Package {
    name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Identifier {
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
    value: Option<Value>,
    url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Link {
    url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Flag {
    #[serde(rename = "type")]
    kind: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Remediation {
    fixes: Option<Vec<FixReference>>,
    summary: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FixReference {
    id: Option<String>,
    cve: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DependencyFile {
    path: Option<String>,
    package_manager: Option<String>,
}

/// What a report shares among its vulnerabilities.
struct Context {
    /// Remediation summaries by the vulnerability `id` or `cve` they fix.
    fixes: HashMap<String, String>,
    /// Package managers by dependency file path.
    managers: HashMap<String, String>,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    let security_report: SecurityReport = from_json(FORMAT, data)?;
    let mut fixes = HashMap::new();
    for remediation in each::<Remediation>(security_report.remediations.unwrap_or_default(), "remediation", report) {
        let Some(summary) = text(remediation.summary.as_deref()) else { continue };
        for fix in remediation.fixes.iter().flatten() {
            for key in [&fix.id, &fix.cve].into_iter().flatten() {
                fixes.entry(key.clone()).or_insert_with(|| summary.clone());
            }
        }
    }
    let managers = each::<DependencyFile>(security_report.dependency_files.unwrap_or_default(), "file", report)
        .into_iter()
        .filter_map(|f| Some((f.path?, f.package_manager?)))
        .collect();
    let context = Context { fixes, managers };
    let vulnerabilities = each::<Vulnerability>(security_report.vulnerabilities.unwrap_or_default(), "item", report);
    let scanner =
        security_report.scan.and_then(|s| s.scanner).or_else(|| vulnerabilities.iter().find_map(|v| v.scanner.clone()));
    if let Some(scanner) = scanner {
        report.scanner(scanner.name.as_deref().unwrap_or(""), scanner.version.as_deref());
    }
    for vulnerability in vulnerabilities {
        report.push(finding(vulnerability, &context));
    }
    Ok(())
}

fn finding(vulnerability: Vulnerability, context: &Context) -> Finding {
    let identifiers = vulnerability.identifiers.unwrap_or_default();
    let location = vulnerability.location;
    let primary = identifiers.first();
    let rule_id = primary.and_then(rule_id_of);
    let of_kind = |kind: &'static str| {
        identifiers.iter().filter(move |i| i.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(kind)))
    };
    let cve_candidates: Vec<String> = of_kind("cve")
        .flat_map(|i| [string_or_number(i.value.as_ref()), text(i.name.as_deref())])
        .flatten()
        .chain(text(vulnerability.cve.as_deref()))
        .collect();
    let mut cwe_ids: Vec<u32> =
        of_kind("cwe").filter_map(|i| string_or_number(i.value.as_ref()).and_then(|v| cwe_number(&v))).collect();
    cwe_ids.dedup();

    let package = location.dependency.as_ref().and_then(|d| {
        let name = text(d.package.as_ref().and_then(|p| p.name.as_deref()))?;
        Some((name, text(d.version.as_deref())))
    });
    let file = text(location.file.as_deref());
    let component = package.as_ref().map(|(name, version)| Component {
        name: name.clone(),
        version: version.clone(),
        purl: None,
        ecosystem: file.as_ref().and_then(|f| context.managers.get(f)).cloned(),
    });
    let url = text(location.hostname.as_deref())
        .map(|host| format!("{}{}", host.trim_end_matches('/'), location.path.as_deref().unwrap_or("")));
    let line = line_number(location.start_line.as_ref());
    let place = file.clone().or_else(|| text(location.image.as_deref()));

    let name = text(vulnerability.name.as_deref());
    let message = text(vulnerability.message.as_deref());
    let body = text(vulnerability.description.as_deref());
    let title =
        name.clone().or_else(|| message.clone()).or_else(|| body.as_deref().map(first_line)).or(rule_id.clone());
    let description = description_of([&message, &body], title.as_ref(), &location, url.as_deref());
    let references = references_of(&identifiers, vulnerability.links.as_deref().unwrap_or_default());

    let remediation = [&vulnerability.id, &vulnerability.cve]
        .into_iter()
        .flatten()
        .find_map(|key| context.fixes.get(key).cloned())
        .or_else(|| text(vulnerability.solution.as_deref()));
    let dismissed = vulnerability.flags.iter().flatten().find_map(|flag| {
        let kind = flag.kind.as_deref()?;
        kind.contains("false-positive").then(|| text(flag.description.as_deref()).unwrap_or_else(|| kind.to_owned()))
    });

    let primary_key = primary
        .map(|i| {
            format!("{}:{}", i.kind.as_deref().unwrap_or(""), string_or_number(i.value.as_ref()).unwrap_or_default())
        })
        .unwrap_or_default();
    let (package_name, package_version) = package.clone().unwrap_or_default();
    let fingerprint = Finding::fingerprint_of(
        FORMAT,
        &[
            vulnerability.category.as_deref().unwrap_or(""),
            &primary_key,
            place.as_deref().unwrap_or(""),
            &line.map(|l| l.to_string()).unwrap_or_default(),
            &package_name,
            package_version.as_deref().unwrap_or(""),
            url.as_deref().unwrap_or(""),
            vulnerability.cve.as_deref().unwrap_or(""),
        ],
    );
    Finding {
        title: title.unwrap_or_default(),
        description,
        severity: Some(vulnerability.severity.as_deref().and_then(severity_from_word).unwrap_or(Severity::Info)),
        rule_id,
        cve_id: first_cve(cve_candidates.iter().map(String::as_str)),
        cwe_ids,
        component,
        location: Location { file: place, line, url, ..Location::default() },
        references,
        remediation: remediation.map(Into::into),
        dismissed,
        fingerprint,
        ..Finding::default()
    }
}

/// The message and description (unless one is the title), and where in
/// the code, image or site the finding is.
fn description_of(
    texts: [&Option<String>; 2],
    title: Option<&String>,
    location: &GitlabLocation,
    url: Option<&str>,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    for part in texts.into_iter().flatten() {
        if Some(part) != title && !parts.contains(part) {
            parts.push(part.clone());
        }
    }
    let code_object = match (text(location.class.as_deref()), text(location.method.as_deref())) {
        (Some(class), Some(method)) if url.is_none() => Some(format!("{class}#{method}")),
        (Some(class), None) => Some(class),
        (None, Some(method)) if url.is_none() => Some(method),
        _ => None,
    };
    if let Some(object) = code_object {
        parts.push(format!("In: {object}"));
    }
    for (label, value) in [("Image", &location.image), ("Operating system", &location.operating_system)] {
        if let Some(value) = text(value.as_deref()) {
            parts.push(format!("{label}: {value}"));
        }
    }
    if let (Some(_), Some(param)) = (url, text(location.param.as_deref())) {
        parts.push(format!("Parameter: {param}"));
    }
    parts.join("\n\n")
}

fn references_of(identifiers: &[Identifier], links: &[Link]) -> Vec<String> {
    let mut references: Vec<String> = Vec::new();
    let urls = identifiers
        .iter()
        .filter_map(|i| text(i.url.as_deref()))
        .chain(links.iter().filter_map(|l| text(l.url.as_deref())));
    for url in urls {
        if url.starts_with("http") && !references.contains(&url) {
            references.push(url);
        }
    }
    references
}

/// The identifier's value, unless that is a sentence and its name is not
/// (njsscan puts the rule name in `name` and the message in `value`).
fn rule_id_of(identifier: &Identifier) -> Option<String> {
    let value = string_or_number(identifier.value.as_ref());
    let name = text(identifier.name.as_deref());
    let spaced = |s: &String| s.contains(char::is_whitespace);
    match (value, name) {
        (Some(value), Some(name)) if spaced(&value) && !spaced(&name) => Some(name),
        (value, name) => value.or(name),
    }
}

fn first_line(text: &str) -> String {
    text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_owned()
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    if !head.is_json() || !head.has_key("vulnerabilities") || head.has_key("bomFormat") {
        return false;
    }
    head.has_key("remediations")
        || (head.has_key("scan") && head.has_key("scanner"))
        || (head.has_key("identifiers")
            && head.has_key("location")
            && (head.has_key("category") || head.has_key("start_line")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, parse};

    #[test]
    fn a_dependency_scanning_report_names_the_package_and_its_fix() {
        let report = parse(
            Format::GitlabSast,
            br#"{"version":"15.0.4","vulnerabilities":[{"id":"v1","name":"Regular Expression Denial of Service in debug",
                "severity":"Unknown","solution":"Upgrade to version 2.6.9 or above.",
                "location":{"file":"yarn.lock","dependency":{"package":{"name":"debug"},"version":"1.0.5"}},
                "identifiers":[{"type":"gemnasium","name":"Gemnasium-37283ed4","value":"37283ed4","url":"https://gitlab.com/gemnasium-db/1"},
                  {"type":"cve","name":"CVE-2017-16137","value":"CVE-2017-16137","url":"https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2017-16137"}],
                "raw_source_code_extract":"never-read"}],
              "remediations":[{"fixes":[{"id":"v1"}],"summary":"Upgrade debug","diff":"ZGlmZg=="}],
              "dependency_files":[{"path":"yarn.lock","package_manager":"yarn","dependencies":[]}],
              "scan":{"scanner":{"id":"gemnasium","name":"Gemnasium","version":"2.29.8"},"type":"dependency_scanning"}}"#,
        )
        .unwrap();
        assert_eq!(report.scanner.as_deref(), Some("Gemnasium 2.29.8"));
        let finding = &report.findings[0];
        assert_eq!(finding.severity, Some(Severity::Info));
        assert_eq!(finding.cve_id.as_deref(), Some("CVE-2017-16137"));
        assert_eq!(finding.rule_id.as_deref(), Some("37283ed4"));
        let component = finding.component.as_ref().unwrap();
        assert_eq!((component.name.as_str(), component.version.as_deref()), ("debug", Some("1.0.5")));
        assert_eq!(component.ecosystem.as_deref(), Some("yarn"));
        assert_eq!(finding.remediation.as_deref(), Some("Upgrade debug"));
        assert!(!format!("{finding:?}").contains("never-read"));
    }

    #[test]
    fn a_missing_severity_is_info_and_a_malformed_report_names_its_line() {
        let report = parse(
            Format::GitlabSast,
            br#"{"vulnerabilities":[{"message":"Potential XSS vulnerability","location":{"file":"a.js","start_line":3}}]}"#,
        )
        .unwrap();
        assert_eq!(report.findings[0].severity, Some(Severity::Info));
        assert_eq!(report.findings[0].title, "Potential XSS vulnerability");
        let error = parse(Format::GitlabSast, b"{\n\"vulnerabilities\": [\n{\"name\": \"x\"\n]}").unwrap_err();
        assert_eq!(error.line, Some(4), "{error}");
    }
}

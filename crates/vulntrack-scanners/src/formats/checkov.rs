//! Checkov JSON (`checkov -o json`): one report object, or a list of them
//! (one per framework: terraform, kubernetes, dockerfile, secrets,
//! sca_package, …). Each `results.failed_checks[]` is a finding:
//! `check_id`, `check_name`, `file_path`, `file_line_range`, `resource`,
//! `severity`, `guideline`, `description`, `details`; a software-composition
//! check also has `vulnerability_details` (CVE, package, versions). Passed
//! and skipped checks are not findings; a summary-only report (no
//! `results`) has none.
//!
//! - Severity: the check's `severity` word (set by Prisma Cloud); open-source
//!   Checkov leaves it null, and a failed check is then MEDIUM.
//! - Kind: misconfiguration; a vulnerable package (`vulnerability_details`)
//!   is a vulnerability with its component, CVE and fixed version.
//! - The code block (which for the secrets framework holds the secret) is
//!   not copied.
//! - Fingerprint: framework + check id + file + resource (+ the first line
//!   for the secrets framework, whose resource is a hash of the secret).

use serde::Deserialize;
use serde_json::Value;
use vulntrack_domain::vulnerability::Severity;

use super::support::{each, from_json, is_blank, line_number, string_or_number, text};
use crate::finding::{Kind, first_cve, severity_from_score, severity_from_word};
use crate::{Component, Finding, Location, ParseError, ReportBuilder, detect::Head};

const FORMAT: &str = "checkov";

#[derive(Deserialize, Default)]
#[serde(default)]
struct CheckovReport {
    check_type: Option<String>,
    results: Option<Results>,
    summary: Option<Summary>,
    checkov_version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Results {
    failed_checks: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Summary {
    checkov_version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Check {
    check_id: Option<String>,
    bc_check_id: Option<String>,
    check_name: Option<String>,
    file_path: Option<String>,
    repo_file_path: Option<String>,
    file_line_range: Option<Vec<Value>>,
    resource: Option<String>,
    severity: Option<String>,
    guideline: Option<String>,
    description: Option<String>,
    details: Option<Vec<Value>>,
    vulnerability_details: Option<VulnerabilityDetails>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VulnerabilityDetails {
    id: Option<String>,
    severity: Option<String>,
    cvss: Option<Value>,
    package_name: Option<String>,
    package_version: Option<String>,
    fixed_version: Option<String>,
    lowest_fixed_version: Option<String>,
    link: Option<String>,
    description: Option<String>,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    let value: Value = from_json(FORMAT, data)?;
    let reports = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut named = false;
    for checkov in each::<CheckovReport>(reports, "report", report) {
        let version = checkov.summary.as_ref().and_then(|s| s.checkov_version.clone()).or(checkov.checkov_version);
        if !named {
            report.scanner("Checkov", version.as_deref());
            named = true;
        }
        let framework = text(checkov.check_type.as_deref()).unwrap_or_default();
        let failed = checkov.results.and_then(|r| r.failed_checks).unwrap_or_default();
        for check in each::<Check>(failed, "failed check", report) {
            report.push(finding(check, &framework));
        }
    }
    Ok(())
}

fn finding(check: Check, framework: &str) -> Finding {
    let check_id = text(check.check_id.as_deref()).or_else(|| text(check.bc_check_id.as_deref()));
    let file = text(check.file_path.as_deref()).or_else(|| text(check.repo_file_path.as_deref()));
    let resource = text(check.resource.as_deref());
    let lines: Vec<u32> = check.file_line_range.iter().flatten().filter_map(|v| line_number(Some(v))).collect();
    let guideline = text(check.guideline.as_deref());
    let vulnerability = check.vulnerability_details;

    let title = text(check.check_name.as_deref())
        .or_else(|| text(check.description.as_deref()))
        .or_else(|| check_id.clone())
        .unwrap_or_default();
    let mut description = Vec::new();
    if let Some(text) = text(check.description.as_deref()).filter(|d| *d != title) {
        description.push(text);
    }
    if let Some(text) = vulnerability.as_ref().and_then(|v| text(v.description.as_deref())) {
        description.push(text);
    }
    let mut facts = Vec::new();
    if let Some(id) = &check_id {
        facts.push(format!("Check: {id}"));
    }
    if !framework.is_empty() {
        facts.push(format!("Framework: {framework}"));
    }
    if let Some(resource) = &resource {
        facts.push(format!("Resource: {resource}"));
    }
    if let (Some(first), Some(last)) = (lines.first(), lines.last()) {
        facts.push(format!("Lines: {first}–{last}"));
    }
    description.push(facts.join("\n"));
    let details: Vec<String> = check.details.iter().flatten().filter_map(|d| string_or_number(Some(d))).collect();
    if !details.is_empty() {
        description.push(details.join("\n"));
    }

    let severity = check
        .severity
        .as_deref()
        .and_then(severity_from_word)
        .or_else(|| vulnerability.as_ref().and_then(|v| v.severity.as_deref()).and_then(severity_from_word))
        .or_else(|| {
            let cvss = vulnerability.as_ref().and_then(|v| v.cvss.as_ref()).and_then(Value::as_f64)?;
            Some(severity_from_score(cvss))
        })
        .unwrap_or(Severity::Medium);
    let component = vulnerability.as_ref().and_then(|v| {
        Some(Component {
            name: text(v.package_name.as_deref())?,
            version: text(v.package_version.as_deref()),
            purl: None,
            ecosystem: None,
        })
    });
    let fixed_version = vulnerability
        .as_ref()
        .and_then(|v| text(v.fixed_version.as_deref()).or_else(|| text(v.lowest_fixed_version.as_deref())));
    let remediation = match (&component, &fixed_version) {
        (Some(component), Some(fixed)) => Some(format!("Upgrade {} to {fixed} or later.", component.name)),
        _ => guideline.as_ref().map(|g| format!("See {g}")),
    };
    let references: Vec<String> = [guideline.clone(), vulnerability.as_ref().and_then(|v| text(v.link.as_deref()))]
        .into_iter()
        .flatten()
        .filter(|l| l.starts_with("http"))
        .collect();
    // A secret's resource is a hash of it: one secret on two lines is two leaks.
    let line =
        if framework == "secrets" { lines.first().map(u32::to_string).unwrap_or_default() } else { String::new() };
    let fingerprint = Finding::fingerprint_of(
        FORMAT,
        &[
            framework,
            check_id.as_deref().unwrap_or(""),
            file.as_deref().unwrap_or(""),
            resource.as_deref().unwrap_or(""),
            &line,
        ],
    );
    Finding {
        title,
        description: description.join("\n\n"),
        severity: Some(severity),
        kind: if vulnerability.is_some() { Kind::Vulnerability } else { Kind::Misconfiguration },
        cve_id: vulnerability.as_ref().and_then(|v| v.id.as_deref()).and_then(|id| first_cve([id])),
        rule_id: check_id,
        component,
        fixed_version,
        location: Location { file, line: lines.first().copied(), ..Location::default() },
        references,
        remediation: remediation.map(Into::into),
        fingerprint,
        ..Finding::default()
    }
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    head.is_json()
        && (head.has_key("checkov_version")
            || (head.has_key("check_type") && (head.has_key("results") || head.has_key("summary")))
            || (head.has_key("failed_checks") && head.has_key("check_id")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, parse};

    #[test]
    fn a_list_of_frameworks_with_severities_and_a_package_is_read() {
        let report = parse(
            Format::Checkov,
            br#"[{"check_type":"kubernetes","results":{"passed_checks":[{"check_id":"CKV_K8S_1"}],"failed_checks":[
                  {"check_id":"CKV_K8S_20","check_name":"Containers should not run with allowPrivilegeEscalation",
                   "file_path":"/deploy.yaml","file_line_range":[3,40],"resource":"Deployment.default.web","severity":"HIGH",
                   "guideline":"https://docs.prismacloud.io/CKV_K8S_20","code_block":[[4,"password: hunter2"]]}]},
                 "summary":{"checkov_version":"3.2.0"}},
                {"check_type":"sca_package","results":{"failed_checks":[
                  {"check_id":"CKV_CVE_2021_23337","check_name":"lodash: command injection","file_path":"/package.json",
                   "file_line_range":[0,0],"resource":"package.json.lodash","severity":null,
                   "vulnerability_details":{"id":"CVE-2021-23337","severity":"high","package_name":"lodash",
                     "package_version":"4.17.20","fixed_version":"4.17.21","link":"https://nvd.nist.gov/vuln/detail/CVE-2021-23337"}}]}}]"#,
        )
        .unwrap();
        assert_eq!(report.scanner.as_deref(), Some("Checkov 3.2.0"));
        assert_eq!(report.findings.len(), 2);
        let (iac, package) = (&report.findings[0], &report.findings[1]);
        assert_eq!(
            (iac.severity, iac.kind, iac.location.line),
            (Some(Severity::High), Kind::Misconfiguration, Some(3))
        );
        assert!(!format!("{iac:?}").contains("hunter2"));
        assert_eq!((package.kind, package.cve_id.as_deref()), (Kind::Vulnerability, Some("CVE-2021-23337")));
        assert_eq!((package.severity, package.location.line), (Some(Severity::High), None));
        assert_eq!(package.fixed_version.as_deref(), Some("4.17.21"));
    }

    #[test]
    fn a_malformed_report_is_an_error_with_its_line() {
        let error = parse(Format::Checkov, b"{\n\"check_type\": \"terraform\",\n\"results\": {\n").unwrap_err();
        assert!(error.line.is_some(), "{error}");
    }
}

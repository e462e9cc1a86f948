//! `npm audit --json`, both report versions:
//! - npm 6 (and pnpm): the `advisories` map, one finding per advisory, its
//!   component version from the advisory's `findings[]` (each distinct
//!   version listed), the first dependency path as the location;
//! - npm 7+ (`auditReportVersion: 2`): the `vulnerabilities` map, one finding
//!   per vulnerable package as npm counts them, its advisories being the
//!   `via` objects (title, CWE and vector of the first; all their links), or,
//!   for a package vulnerable only through its dependencies, those names.
//!
//! An audit that failed (`{"error": {"code": "ENOAUDIT", …}}`) is an error.
//!
//! Severity: npm's word (critical, high, moderate, low, info); in npm 7+
//! the package's own `severity`, the highest of its advisories.
//!
//! Fingerprint: npm 6 = advisory id (GHSA when given), module name, its
//! versions; npm 7+ = package name, affected `range`, advisory ids (GHSA or
//! npm source number) or the names it is vulnerable through.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::support::{from_json, is_blank, nullable, push_unique, text, unique};
use crate::finding::{Kind, cwe_number, first_cve, is_v3_or_v4_vector, severity_from_word};
use crate::{Component, Finding, Location, ParseError, ReportBuilder, detect::Head};

const FORMAT: &str = "npm-audit";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Audit {
    #[serde(deserialize_with = "nullable")]
    advisories: BTreeMap<String, Advisory>,
    #[serde(deserialize_with = "nullable")]
    vulnerabilities: BTreeMap<String, Package>,
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Advisory {
    id: Value,
    github_advisory_id: Option<String>,
    title: Option<String>,
    module_name: Option<String>,
    #[serde(deserialize_with = "nullable")]
    cves: Vec<String>,
    patched_versions: Option<String>,
    overview: Option<String>,
    recommendation: Option<String>,
    references: Option<String>,
    severity: Option<String>,
    cwe: Value,
    url: Option<String>,
    #[serde(deserialize_with = "nullable")]
    findings: Vec<AdvisoryFinding>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AdvisoryFinding {
    version: Option<String>,
    #[serde(deserialize_with = "nullable")]
    paths: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Package {
    name: Option<String>,
    severity: Option<String>,
    #[serde(deserialize_with = "nullable")]
    via: Vec<Value>,
    range: Option<String>,
    #[serde(deserialize_with = "nullable")]
    nodes: Vec<String>,
    fix_available: Value,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    report.scanner("npm audit", None);
    if is_blank(data) {
        return Ok(());
    }
    let audit: Audit = from_json(FORMAT, data)?;
    if let Some(error) = audit.error.as_ref().filter(|e| !e.is_null()) {
        let field = |key: &str| error.get(key).and_then(Value::as_str).map(str::trim).unwrap_or("");
        let said = [field("code"), field("summary")].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>();
        return Err(ParseError::new(format!(
            "npm audit reported an error instead of findings: {}",
            if said.is_empty() { error.to_string() } else { said.join(": ") }
        )));
    }
    for (key, advisory) in &audit.advisories {
        report.push(advisory_finding(key, advisory));
    }
    for (key, package) in &audit.vulnerabilities {
        report.push(package_finding(key, package));
    }
    Ok(())
}

fn advisory_finding(key: &str, advisory: &Advisory) -> Finding {
    let npm_id = match &advisory.id {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => key.to_owned(),
    };
    let id = text(advisory.github_advisory_id.as_deref()).unwrap_or(npm_id);
    let module = text(advisory.module_name.as_deref()).unwrap_or_else(|| key.to_owned());
    let versions = unique(advisory.findings.iter().filter_map(|f| text(f.version.as_deref())));
    let version = versions.first().cloned();
    let mut references = Vec::new();
    push_unique(&mut references, text(advisory.url.as_deref()));
    push_unique(&mut references, advisory.references.as_deref().map(links).unwrap_or_default());
    let title = text(advisory.title.as_deref()).unwrap_or_else(|| id.clone());
    let patched = text(advisory.patched_versions.as_deref());
    let mut sorted_versions = versions.clone();
    sorted_versions.sort();
    Finding {
        title: format!("{title} in {module} {}", versions.join(", ")),
        description: text(advisory.overview.as_deref()).unwrap_or_default(),
        severity: advisory.severity.as_deref().and_then(severity_from_word),
        kind: Kind::Vulnerability,
        cve_id: first_cve(advisory.cves.iter().map(String::as_str)),
        rule_id: Some(id.clone()),
        cwe_ids: cwes(&advisory.cwe),
        component: Some(Component { name: module.clone(), version, purl: None, ecosystem: Some("npm".to_owned()) }),
        // `>=1.10.2` is one fixed version; a union of ranges is left to the remediation text.
        fixed_version: patched
            .as_deref()
            .and_then(|p| p.strip_prefix(">="))
            .map(str::trim)
            .filter(|v| !v.is_empty() && !v.contains([' ', '|', '<']))
            .map(str::to_owned),
        remediation: text(advisory.recommendation.as_deref())
            .or_else(|| patched.map(|p| format!("Upgrade {module} to {p}.")))
            .map(Into::into),
        location: Location {
            file: advisory.findings.iter().flat_map(|f| &f.paths).find_map(|p| text(Some(p))),
            ..Location::default()
        },
        references,
        fingerprint: Finding::fingerprint_of(FORMAT, &["advisory", &id, &module, &sorted_versions.join(",")]),
        occurrences: 1,
        ..Finding::default()
    }
}

fn package_finding(key: &str, package: &Package) -> Finding {
    let name = text(package.name.as_deref()).unwrap_or_else(|| key.to_owned());
    let advisories: Vec<&Value> = package.via.iter().filter(|v| v.is_object()).collect();
    let through: Vec<&str> = package.via.iter().filter_map(Value::as_str).collect();
    let field = |advisory: &Value, key: &str| advisory.get(key).and_then(Value::as_str).and_then(|s| text(Some(s)));
    let ids: Vec<String> = advisories.iter().filter_map(|a| advisory_id(a)).collect();
    let first = advisories.first();
    let references = unique(advisories.iter().filter_map(|a| field(a, "url")));
    let cwe_ids = unique(advisories.iter().flat_map(|a| cwes(a.get("cwe").unwrap_or(&Value::Null))));
    let cvss_vector = advisories
        .iter()
        .filter_map(|a| a.get("cvss").and_then(|c| c.get("vectorString")).and_then(Value::as_str))
        .map(str::trim)
        .find(|v| is_v3_or_v4_vector(v))
        .map(str::to_owned);
    let title = match first.and_then(|a| field(a, "title")) {
        Some(title) => format!("{title} in {name}"),
        None if !through.is_empty() => format!("{name} is vulnerable through {}", through.join(", ")),
        None => name.clone(),
    };
    let descriptions = advisories.iter().filter_map(|a| {
        let title = field(a, "title")?;
        Some(match field(a, "url") {
            Some(url) => format!("{title} ({url})"),
            None => title,
        })
    });
    let (fixed_version, remediation) = fix(&package.fix_available, &name);
    let range = text(package.range.as_deref()).unwrap_or_default();
    let identity = if ids.is_empty() { through.join(",") } else { ids.join(",") };
    Finding {
        title,
        description: descriptions.collect::<Vec<_>>().join("\n"),
        severity: package.severity.as_deref().and_then(severity_from_word),
        kind: Kind::Vulnerability,
        cve_id: first_cve(ids.iter().map(String::as_str)),
        rule_id: ids.first().cloned(),
        cwe_ids,
        component: Some(Component { name: name.clone(), version: None, purl: None, ecosystem: Some("npm".to_owned()) }),
        fixed_version,
        remediation: remediation.map(Into::into),
        location: Location { file: package.nodes.iter().find_map(|n| text(Some(n))), ..Location::default() },
        cvss_vector,
        references,
        fingerprint: Finding::fingerprint_of(FORMAT, &["package", &name, &range, &identity]),
        occurrences: 1,
        ..Finding::default()
    }
}

/// The GHSA id from the advisory's GitHub link, else npm's source number.
fn advisory_id(advisory: &Value) -> Option<String> {
    let url = advisory.get("url").and_then(Value::as_str).unwrap_or("");
    let ghsa = url.trim_end_matches('/').rsplit('/').next().filter(|last| last.starts_with("GHSA-"));
    ghsa.map(str::to_owned).or_else(|| match advisory.get("source") {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) => text(Some(s)),
        _ => None,
    })
}

fn fix(available: &Value, name: &str) -> (Option<String>, Option<String>) {
    match available {
        Value::Object(fix) => {
            let fix_name = fix.get("name").and_then(Value::as_str).unwrap_or(name);
            let version = fix.get("version").and_then(Value::as_str).and_then(|v| text(Some(v)));
            let major = fix.get("isSemVerMajor").and_then(Value::as_bool).unwrap_or(false);
            let remediation = version.as_ref().map(|v| {
                let note = if major { " (a semver-major change)" } else { "" };
                format!("Upgrade {fix_name} to {v}{note}.")
            });
            ((fix_name == name).then_some(version).flatten(), remediation)
        }
        Value::Bool(true) => (None, Some("Run `npm audit fix`.".to_owned())),
        _ => (None, None),
    }
}

/// CWE ids as npm writes them: `"CWE-94"`, `["CWE-400"]`, or a list encoded as text.
fn cwes(value: &Value) -> Vec<u32> {
    match value {
        Value::String(s) if s.trim_start().starts_with('[') => {
            serde_json::from_str::<Value>(s).map(|list| cwes(&list)).unwrap_or_default()
        }
        Value::String(s) => cwe_number(s).into_iter().collect(),
        Value::Array(list) => list.iter().filter_map(Value::as_str).filter_map(cwe_number).collect(),
        _ => Vec::new(),
    }
}

/// The links in npm 6's Markdown `references` text.
fn links(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '<' | '>' | '[' | ']'))
        .filter(|word| word.starts_with("http://") || word.starts_with("https://"))
        .map(str::to_owned)
        .collect()
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    head.shape == crate::detect::Shape::Json
        && (head.has_key("auditReportVersion")
            || (head.has_key("advisories") && (head.has_key("actions") || head.has_key("muted"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;
    use vulntrack_domain::vulnerability::Severity;

    #[test]
    fn a_package_vulnerable_through_its_dependencies_is_one_finding() {
        let data = br#"{"auditReportVersion": 2, "vulnerabilities": {
          "vercel": {"name": "vercel", "severity": "moderate", "isDirect": true, "via": ["@vercel/fun"],
                     "effects": [], "range": ">=32.0.2", "nodes": ["node_modules/vercel"], "fixAvailable": true},
          "semver": {"name": "semver", "severity": "moderate", "via": [{"source": 1096482, "name": "semver",
             "title": "semver vulnerable to Regular Expression Denial of Service",
             "url": "https://github.com/advisories/GHSA-c2qf-rxjj-qqgw", "severity": "moderate",
             "cwe": ["CWE-1333"], "cvss": {"score": 5.3, "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"},
             "range": ">=7.0.0 <7.5.2"}], "range": "7.0.0 - 7.5.1",
             "nodes": ["node_modules/semver"], "fixAvailable": {"name": "semver", "version": "7.5.2"}}}}"#;
        assert!(sniff(&Head::of(data)));
        let report = crate::parse(Format::NpmAudit, data).unwrap();
        assert_eq!(report.findings.len(), 2);
        let semver = &report.findings[0];
        assert_eq!(semver.rule_id.as_deref(), Some("GHSA-c2qf-rxjj-qqgw"));
        assert_eq!(semver.severity, Some(Severity::Medium));
        assert_eq!(semver.cwe_ids, vec![1333]);
        assert_eq!(semver.fixed_version.as_deref(), Some("7.5.2"));
        assert_eq!(report.findings[1].title, "vercel is vulnerable through @vercel/fun");
    }

    #[test]
    fn cwes_written_as_an_encoded_list_are_read() {
        assert_eq!(cwes(&Value::String("[\"CWE-346\",\"CWE-453\"]".into())), vec![346, 453]);
    }

    #[test]
    fn a_failed_audit_and_a_malformed_report_are_errors() {
        let failed =
            br#"{"error": {"code": "ENOAUDIT", "summary": "Your configured registry does not support audit"}}"#;
        let error = crate::parse(Format::NpmAudit, failed).unwrap_err();
        assert!(error.message.contains("ENOAUDIT"), "{error}");
        let error = crate::parse(Format::NpmAudit, b"{\"advisories\":\n {\"1\": 5}}").unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
    }
}

//! GitHub Dependabot alerts, as teams export them:
//! - the GraphQL API's `vulnerabilityAlerts` (of `repository`, of the
//!   repositories a `search` or an organisation lists, however nested; the
//!   repository is the nearest object around the alerts that names one),
//!   `nodes[]` or `edges[].node`;
//! - the REST API's alert list (`GET /repos/{o}/{r}/dependabot/alerts`,
//!   or the organisation's, whose alerts name their `repository`).
//!
//! A `DISMISSED`, `AUTO_DISMISSED` or `FIXED` alert is read as dismissed.
//!
//! Severity: the vulnerability's (else the advisory's) severity word
//! (CRITICAL, HIGH, MODERATE, LOW).
//!
//! Fingerprint: advisory id (GHSA, else its first identifier), package name,
//! version (from an exact `vulnerableRequirements`), repository, and the
//! manifest path, or the alert's own id when the export leaves the path out
//! (two alerts of one advisory and package are two manifests).

use serde_json::Value;

use super::support::{from_json, is_blank, push_unique, string_or_number};
use crate::finding::{Kind, cwe_number, first_cve, is_v3_or_v4_vector, severity_from_word};
use crate::{Component, Finding, Location, ParseError, ReportBuilder, detect::Head};

const FORMAT: &str = "github-dependabot";

/// The repository an alert belongs to, as far as the export says.
#[derive(Debug, Clone, Default)]
struct Repository {
    name: String,
    url: Option<String>,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    report.scanner("GitHub Dependabot", None);
    if is_blank(data) {
        return Ok(());
    }
    let document: Value = from_json(FORMAT, data)?;
    let errors = document.get("errors").and_then(Value::as_array).filter(|e| !e.is_empty());
    if let Some(errors) = errors.filter(|_| document.get("data").is_none_or(Value::is_null)) {
        let said: Vec<&str> = errors.iter().filter_map(|e| e.get("message").and_then(Value::as_str)).collect();
        return Err(ParseError::new(format!("the GitHub API returned errors instead of alerts: {}", said.join("; "))));
    }
    let mut alerts = Vec::new();
    match &document {
        Value::Array(list) => alerts.extend(list.iter().map(|alert| (alert, rest_repository(alert)))),
        object if is_rest_alert(object) => alerts.push((object, rest_repository(object))),
        object => walk(object, &Repository::default(), &mut alerts),
    }
    for (alert, repository) in alerts {
        match finding(alert, &repository) {
            Some(finding) => report.push(finding),
            None => report.warn("a Dependabot alert without an advisory or package was skipped"),
        }
    }
    Ok(())
}

fn is_rest_alert(value: &Value) -> bool {
    value.get("security_advisory").is_some() || value.get("security_vulnerability").is_some()
}

fn rest_repository(alert: &Value) -> Repository {
    let repository = alert.get("repository");
    Repository {
        name: repository.and_then(|r| str_of(r, &["full_name", "name"])).unwrap_or_default(),
        url: repository.and_then(|r| str_of(r, &["html_url"])),
    }
}

/// Finds every `vulnerabilityAlerts` connection in a GraphQL answer.
fn walk<'a>(value: &'a Value, repository: &Repository, alerts: &mut Vec<(&'a Value, Repository)>) {
    match value {
        Value::Object(object) => {
            let mut here = repository.clone();
            if let Some(name) = str_of(value, &["nameWithOwner"])
                .or_else(|| object.contains_key("vulnerabilityAlerts").then(|| str_of(value, &["name"])).flatten())
            {
                here = Repository { name, url: str_of(value, &["url"]) };
            } else if let Some(url) = str_of(value, &["url"]).filter(|_| here.url.is_none() && !here.name.is_empty()) {
                here.url = Some(url);
            }
            for (key, child) in object {
                if key == "vulnerabilityAlerts" {
                    let nodes = child.get("nodes").and_then(Value::as_array).into_iter().flatten();
                    let edges = child.get("edges").and_then(Value::as_array).into_iter().flatten();
                    let alerts_here = nodes.chain(edges.filter_map(|edge| edge.get("node")));
                    alerts.extend(alerts_here.filter(|a| a.is_object()).map(|alert| (alert, here.clone())));
                } else {
                    walk(child, &here, alerts);
                }
            }
        }
        Value::Array(list) => list.iter().for_each(|item| walk(item, repository, alerts)),
        _ => {}
    }
}

/// The first of `keys` that holds text (GraphQL writes camelCase, REST snake_case).
fn str_of(value: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| string_or_number(value.get(key)))
}

fn at<'a>(value: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|key| value.get(key).filter(|v| !v.is_null()))
}

fn finding(alert: &Value, repository: &Repository) -> Option<Finding> {
    let vulnerability = at(alert, &["securityVulnerability", "security_vulnerability"]);
    let advisory = vulnerability
        .and_then(|v| at(v, &["advisory"]))
        .or_else(|| at(alert, &["securityAdvisory", "security_advisory"]))?;
    let identifiers: Vec<(String, String)> = at(advisory, &["identifiers"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| Some((str_of(i, &["type"]).unwrap_or_default(), str_of(i, &["value"])?)))
        .collect();
    let ghsa = str_of(advisory, &["ghsaId", "ghsa_id"])
        .or_else(|| identifiers.iter().find(|(kind, _)| kind.eq_ignore_ascii_case("GHSA")).map(|(_, v)| v.clone()));
    let id = ghsa.or_else(|| identifiers.first().map(|(_, v)| v.clone()))?;
    let package = vulnerability
        .and_then(|v| at(v, &["package"]))
        .or_else(|| at(alert, &["dependency"]).and_then(|d| at(d, &["package"])));
    let name = package.and_then(|p| str_of(p, &["name"])).unwrap_or_default();
    let requirements = str_of(alert, &["vulnerableRequirements"]).unwrap_or_default();
    // Only `= 1.5.0` names the installed version; a range does not.
    let version = requirements
        .strip_prefix('=')
        .map(|v| v.trim_start_matches('=').trim().to_owned())
        .filter(|v| !v.is_empty() && !v.contains([' ', ',', '<', '>']));
    let manifest = str_of(alert, &["vulnerableManifestPath"])
        .or_else(|| at(alert, &["dependency"]).and_then(|d| str_of(d, &["manifest_path"])))
        .or_else(|| str_of(alert, &["vulnerableManifestFilename"]));
    let alert_key = str_of(alert, &["id", "number"]).unwrap_or_default();
    let number = str_of(alert, &["number"]);
    let fixed = vulnerability
        .and_then(|v| at(v, &["firstPatchedVersion", "first_patched_version"]))
        .and_then(|f| str_of(f, &["identifier"]));
    let severity = vulnerability
        .and_then(|v| str_of(v, &["severity"]))
        .or_else(|| str_of(advisory, &["severity"]))
        .and_then(|s| severity_from_word(&s));
    let summary = str_of(advisory, &["summary"]);
    let mut references = Vec::new();
    let alert_link = str_of(alert, &["html_url"]).or_else(|| {
        let (url, number) = (repository.url.as_deref()?, number.as_deref()?);
        Some(format!("{}/security/dependabot/{number}", url.trim_end_matches('/')))
    });
    let pull_request =
        at(alert, &["dependabotUpdate"]).and_then(|u| at(u, &["pullRequest"])).and_then(|p| str_of(p, &["permalink"]));
    push_unique(
        &mut references,
        [alert_link, str_of(advisory, &["permalink", "html_url"]), pull_request].into_iter().flatten(),
    );
    let listed = at(advisory, &["references"]).and_then(Value::as_array).into_iter().flatten();
    push_unique(&mut references, listed.filter_map(|r| str_of(r, &["url"])));
    let fingerprint = Finding::fingerprint_of(
        FORMAT,
        &[&id, &name, version.as_deref().unwrap_or(""), &repository.name, manifest.as_deref().unwrap_or(&alert_key)],
    );
    Some(Finding {
        title: summary.unwrap_or_else(|| format!("{id} in {name}")),
        description: str_of(advisory, &["description"]).unwrap_or_default(),
        details: None,
        severity,
        kind: Kind::Vulnerability,
        cve_id: first_cve(
            str_of(advisory, &["cve_id"]).iter().map(String::as_str).chain(identifiers.iter().map(|(_, v)| v.as_str())),
        ),
        rule_id: Some(id.clone()),
        cwe_ids: cwes(advisory),
        component: (!name.is_empty()).then(|| Component {
            name: name.clone(),
            version: version.clone(),
            purl: None,
            ecosystem: package.and_then(|p| str_of(p, &["ecosystem"])).map(|e| e.to_ascii_lowercase()),
        }),
        remediation: fixed.as_ref().map(|f| format!("Upgrade {name} to {f}.")).map(Into::into),
        fixed_version: fixed,
        location: Location { file: manifest, url: repository.url.clone(), ..Location::default() },
        cvss_vector: cvss_vector(advisory),
        references,
        dismissed: dismissed(alert),
        fingerprint,
        occurrences: 1,
    })
}

fn dismissed(alert: &Value) -> Option<String> {
    let state = str_of(alert, &["state"])?.to_ascii_uppercase();
    match state.as_str() {
        "DISMISSED" | "AUTO_DISMISSED" => {
            let why = [
                str_of(alert, &["dismissReason", "dismissed_reason"]),
                str_of(alert, &["dismissComment", "dismissed_comment"]),
            ];
            let why: Vec<String> = why.into_iter().flatten().collect();
            Some(if why.is_empty() { format!("{} on GitHub", state.to_ascii_lowercase()) } else { why.join(": ") })
        }
        "FIXED" => Some("fixed, according to GitHub".to_owned()),
        _ => None,
    }
}

fn cvss_vector(advisory: &Value) -> Option<String> {
    let severities = at(advisory, &["cvssSeverities", "cvss_severities"]);
    let candidates = [
        at(advisory, &["cvss"]),
        severities.and_then(|s| at(s, &["cvssV3", "cvss_v3"])),
        severities.and_then(|s| at(s, &["cvssV4", "cvss_v4"])),
    ];
    candidates
        .into_iter()
        .flatten()
        .filter_map(|c| str_of(c, &["vectorString", "vector_string"]))
        .find(|v| is_v3_or_v4_vector(v))
}

/// `cwes.nodes[].cweId` (GraphQL) or `cwes[].cwe_id` (REST).
fn cwes(advisory: &Value) -> Vec<u32> {
    let Some(cwes) = at(advisory, &["cwes"]) else { return Vec::new() };
    let list = cwes.as_array().or_else(|| cwes.get("nodes").and_then(Value::as_array)).into_iter().flatten();
    list.filter_map(|c| str_of(c, &["cweId", "cwe_id"])).filter_map(|c| cwe_number(&c)).collect()
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    head.shape == crate::detect::Shape::Json
        && (head.has_key("vulnerabilityAlerts")
            || (head.has_key("security_advisory")
                && (head.has_key("security_vulnerability") || head.has_key("dependency"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;
    use vulntrack_domain::vulnerability::Severity;

    #[test]
    fn the_rest_alert_list_is_read() {
        let data = br#"[{"number": 2, "state": "dismissed", "dismissed_reason": "tolerable_risk",
          "dependency": {"package": {"ecosystem": "pip", "name": "django"}, "manifest_path": "path/to/requirements.txt"},
          "security_advisory": {"ghsa_id": "GHSA-rf4j-j272-fj86", "cve_id": "CVE-2018-6188",
            "summary": "Django allows remote attackers to obtain potentially sensitive information",
            "severity": "high", "identifiers": [{"value": "GHSA-rf4j-j272-fj86", "type": "GHSA"}],
            "references": [{"url": "https://nvd.nist.gov/vuln/detail/CVE-2018-6188"}],
            "cvss_severities": {"cvss_v3": {"vector_string": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}},
            "cwes": [{"cwe_id": "CWE-200", "name": "Exposure of Sensitive Information"}]},
          "security_vulnerability": {"package": {"ecosystem": "pip", "name": "django"}, "severity": "high",
            "vulnerable_version_range": ">= 2.0.0, < 2.0.2", "first_patched_version": {"identifier": "2.0.2"}},
          "html_url": "https://github.com/octo-org/hello-world/security/dependabot/2"}]"#;
        assert!(sniff(&Head::of(data)));
        let report = crate::parse(Format::GithubDependabot, data).unwrap();
        let finding = &report.findings[0];
        assert_eq!(finding.rule_id.as_deref(), Some("GHSA-rf4j-j272-fj86"));
        assert_eq!(finding.cve_id.as_deref(), Some("CVE-2018-6188"));
        assert_eq!(finding.severity, Some(Severity::High));
        assert_eq!(finding.cwe_ids, vec![200]);
        assert_eq!(finding.fixed_version.as_deref(), Some("2.0.2"));
        assert_eq!(finding.location.file.as_deref(), Some("path/to/requirements.txt"));
        assert_eq!(finding.dismissed.as_deref(), Some("tolerable_risk"));
        assert_eq!(finding.cvss_vector.as_deref(), Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"));
    }

    #[test]
    fn graphql_edges_and_the_repository_are_read() {
        let data = br#"{"data": {"repository": {"nameWithOwner": "o/r", "url": "https://github.com/o/r",
          "vulnerabilityAlerts": {"edges": [{"node": {"id": "RVA_1", "number": 7, "state": "FIXED",
            "vulnerableManifestPath": "pom.xml", "vulnerableRequirements": "= 1.2.17",
            "securityVulnerability": {"severity": "MODERATE", "package": {"name": "log4j:log4j", "ecosystem": "MAVEN"},
              "advisory": {"ghsaId": "GHSA-2qrg-x229-3v8q", "summary": "Deserialization of Untrusted Data in Log4j",
                "identifiers": [{"type": "CVE", "value": "CVE-2019-17571"}]}}}}]}}}}"#;
        let report = crate::parse(Format::GithubDependabot, data).unwrap();
        let finding = &report.findings[0];
        assert_eq!(finding.severity, Some(Severity::Medium));
        assert_eq!(finding.component.as_ref().and_then(|c| c.version.as_deref()), Some("1.2.17"));
        assert_eq!(finding.dismissed.as_deref(), Some("fixed, according to GitHub"));
        assert_eq!(finding.references[0], "https://github.com/o/r/security/dependabot/7");
    }

    #[test]
    fn api_errors_and_malformed_reports_are_errors() {
        let failed = br#"{"data": null, "errors": [{"message": "Could not resolve to a Repository"}]}"#;
        assert!(crate::parse(Format::GithubDependabot, failed).unwrap_err().message.contains("Could not resolve"));
        let error = crate::parse(Format::GithubDependabot, b"{\"data\":\n{]}").unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
    }
}

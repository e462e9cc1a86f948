//! Snyk Open Source and Container JSON (`snyk test --json`,
//! `snyk container test --json`): one project object, or the top-level list
//! `--all-projects` writes; a container report's `applications[]` are read
//! as projects too. Each `vulnerabilities[]` entry is one vulnerable path
//! (`from`) to a package; license issues (`type: license`) and Snyk IaC's
//! `infrastructureAsCodeIssues` are read as misconfigurations. Snyk Code
//! writes SARIF, which is read as SARIF; an `{"ok": false, "error": …}`
//! report is an error.
//!
//! Severity: the band of `cvssScore` when Snyk gives one, else Snyk's
//! `severity` word (critical, high, medium, low).
//!
//! Fingerprint: Snyk id, package name and version, the dependency path
//! (`from`, names without versions, so a new release of the root project
//! keeps it) and the project (`projectName`, `displayTargetFile`); for an
//! IaC issue, its public id, the target file and the resource path.

use serde::Deserialize;
use serde_json::Value;

use super::support::{from_json, is_blank, nullable, push_unique, text, without_bom};
use crate::finding::{Kind, cwe_number, first_cve, is_v3_or_v4_vector, severity_from_valid_score, severity_from_word};
use crate::{Component, Finding, Location, ParseError, ReportBuilder, detect::Head};

const FORMAT: &str = "snyk";

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Project {
    #[serde(deserialize_with = "nullable")]
    vulnerabilities: Vec<Vulnerability>,
    #[serde(deserialize_with = "nullable")]
    applications: Vec<Project>,
    project_name: Option<String>,
    display_target_file: Option<String>,
    target_file: Option<String>,
    package_manager: Option<String>,
    target_file_path: Option<String>,
    /// `snyk iac test --json`.
    #[serde(deserialize_with = "nullable")]
    infrastructure_as_code_issues: Vec<IacIssue>,
    error: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct IacIssue {
    id: Option<String>,
    public_id: Option<String>,
    title: Option<String>,
    severity: Option<String>,
    issue: Option<String>,
    impact: Option<String>,
    resolve: Option<String>,
    documentation: Option<String>,
    #[serde(deserialize_with = "nullable")]
    path: Vec<Value>,
    line_number: Option<i64>,
    is_ignored: Option<bool>,
    #[serde(deserialize_with = "nullable")]
    references: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Vulnerability {
    id: Option<String>,
    title: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    severity: Option<String>,
    cvss_score: Value,
    #[serde(rename = "CVSSv3")]
    cvss_v3: Option<String>,
    #[serde(deserialize_with = "nullable")]
    cvss_sources: Vec<Value>,
    identifiers: Value,
    package_name: Option<String>,
    name: Option<String>,
    version: Option<String>,
    package_manager: Option<String>,
    #[serde(deserialize_with = "nullable")]
    from: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    upgrade_path: Vec<Value>,
    #[serde(deserialize_with = "nullable")]
    fixed_in: Vec<String>,
    nearest_fixed_in_version: Option<String>,
    description: Option<String>,
    #[serde(deserialize_with = "nullable")]
    references: Vec<Reference>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Reference {
    url: Option<String>,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    report.scanner("Snyk", None);
    if is_blank(data) {
        return Ok(());
    }
    let projects: Vec<Project> = if without_bom(data).trim_ascii_start().starts_with(b"[") {
        from_json(FORMAT, data)?
    } else {
        let value: Value = from_json(FORMAT, data)?;
        if value.get("runs").is_some() {
            // `snyk code test --json` writes SARIF.
            return super::sarif::parse(data, report);
        }
        vec![from_json(FORMAT, data)?]
    };
    for project in &projects {
        let empty = project.vulnerabilities.is_empty() && project.infrastructure_as_code_issues.is_empty();
        if let Some(error) = project.error.as_str().filter(|_| empty) {
            let error = format!("Snyk reported an error instead of findings: {}", error.trim());
            // One failed project of `--all-projects` does not void the others.
            if projects.len() == 1 {
                return Err(ParseError::new(error));
            }
            report.warn(error);
        }
        read_project(project, report);
        for application in &project.applications {
            read_project(application, report);
        }
    }
    Ok(())
}

fn read_project(project: &Project, report: &mut ReportBuilder) {
    for vulnerability in &project.vulnerabilities {
        match finding(vulnerability, project) {
            Some(finding) => report.push(finding),
            None => report.warn("a Snyk vulnerability without an id was skipped"),
        }
    }
    for issue in &project.infrastructure_as_code_issues {
        report.push(iac_finding(issue, project));
    }
}

fn iac_finding(issue: &IacIssue, project: &Project) -> Finding {
    let id = text(issue.public_id.as_deref()).or_else(|| text(issue.id.as_deref())).unwrap_or_default();
    let file = text(project.target_file.as_deref()).or_else(|| text(project.target_file_path.as_deref()));
    let path = issue.path.iter().map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned)).collect::<Vec<_>>();
    let title = text(issue.title.as_deref()).unwrap_or_else(|| id.clone());
    let description = [text(issue.issue.as_deref()), text(issue.impact.as_deref()), text(Some(&path.join(" > ")))];
    let references =
        text(issue.documentation.as_deref()).into_iter().chain(issue.references.iter().filter_map(|r| text(Some(r))));
    Finding {
        title: format!("{id} - {title}"),
        description: description.into_iter().flatten().collect::<Vec<_>>().join("\n\n"),
        severity: issue.severity.as_deref().and_then(severity_from_word),
        kind: Kind::Misconfiguration,
        rule_id: text(Some(&id)),
        location: Location {
            file: file.clone(),
            line: issue.line_number.and_then(|l| u32::try_from(l).ok()).filter(|&l| l > 0),
            ..Location::default()
        },
        references: references.collect(),
        remediation: text(issue.resolve.as_deref()).map(Into::into),
        dismissed: issue.is_ignored.filter(|&ignored| ignored).map(|_| "ignored in the Snyk policy".to_owned()),
        fingerprint: Finding::fingerprint_of(FORMAT, &["iac", &id, file.as_deref().unwrap_or(""), &path.join("/")]),
        occurrences: 1,
        ..Finding::default()
    }
}

/// `lodash` from `lodash@4.17.11`, `@babel/core` from `@babel/core@7.0.0`.
fn without_version(entry: &str) -> &str {
    match entry.rsplit_once('@') {
        Some((name, _)) if !name.is_empty() => name,
        _ => entry,
    }
}

fn finding(v: &Vulnerability, project: &Project) -> Option<Finding> {
    let id = text(v.id.as_deref())?;
    let package = text(v.package_name.as_deref()).or_else(|| text(v.name.as_deref())).unwrap_or_default();
    let version = text(v.version.as_deref());
    let identifiers = |kind: &str| -> Vec<String> {
        let list = v.identifiers.get(kind).and_then(Value::as_array).into_iter().flatten();
        list.filter_map(Value::as_str).filter_map(|s| text(Some(s))).collect()
    };
    let path = v.from.iter().map(|entry| without_version(entry.trim())).collect::<Vec<_>>().join(" > ");
    let target = text(project.display_target_file.as_deref()).or_else(|| text(project.target_file.as_deref()));
    let project_name = text(project.project_name.as_deref()).unwrap_or_default();
    let score = match &v.cvss_score {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let title = text(v.title.as_deref()).unwrap_or_else(|| id.clone());
    let root = v.from.first().filter(|_| v.from.len() > 1).map(|r| format!(" ({})", r.trim())).unwrap_or_default();
    let fixed = text(v.nearest_fixed_in_version.as_deref()).or_else(|| v.fixed_in.iter().find_map(|f| text(Some(f))));
    let upgrade = v.upgrade_path.iter().rev().find_map(Value::as_str).and_then(|s| text(Some(s)));
    let remediation = match (upgrade, v.fixed_in.is_empty()) {
        (Some(upgrade), _) => Some(format!("Upgrade to {upgrade}.")),
        (None, false) => Some(format!("Upgrade {package} to {}.", v.fixed_in.join(" or "))),
        (None, true) => None,
    };
    let mut references: Vec<String> = Vec::new();
    if id.starts_with("SNYK-") {
        references.push(format!("https://security.snyk.io/vuln/{id}"));
    }
    push_unique(&mut references, v.references.iter().filter_map(|r| text(r.url.as_deref())));
    let ids = std::iter::once(id.clone()).chain(identifiers("CVE")).collect::<Vec<_>>();
    let location = [target.clone(), text(Some(&path))].into_iter().flatten().collect::<Vec<_>>().join(": ");
    let is_license = v.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("license"));
    Some(Finding {
        title: format!("{title} in {package} {}{root}", version.as_deref().unwrap_or("")),
        description: text(v.description.as_deref()).unwrap_or_default(),
        severity: score
            .and_then(severity_from_valid_score)
            .or_else(|| v.severity.as_deref().and_then(severity_from_word)),
        kind: if is_license { Kind::Misconfiguration } else { Kind::Vulnerability },
        cve_id: first_cve(ids.iter().map(String::as_str)),
        rule_id: Some(id.clone()),
        cwe_ids: identifiers("CWE").iter().filter_map(|c| cwe_number(c)).collect(),
        component: (!package.is_empty()).then(|| Component {
            name: package.clone(),
            version: version.clone(),
            purl: None,
            ecosystem: text(v.package_manager.as_deref()).or_else(|| text(project.package_manager.as_deref())),
        }),
        fixed_version: fixed,
        remediation: remediation.map(Into::into),
        location: Location { file: text(Some(&location)), ..Location::default() },
        cvss_vector: cvss_vector(v),
        references,
        fingerprint: Finding::fingerprint_of(
            FORMAT,
            &[&id, &package, version.as_deref().unwrap_or(""), &path, &project_name, target.as_deref().unwrap_or("")],
        ),
        occurrences: 1,
        ..Finding::default()
    })
}

/// `CVSSv3`, else the primary (then any) of `cvssSources`.
fn cvss_vector(v: &Vulnerability) -> Option<String> {
    let source_vector = |primary: bool| {
        v.cvss_sources
            .iter()
            .filter(|s| !primary || s.get("type").and_then(Value::as_str) == Some("primary"))
            .filter_map(|s| s.get("vector").and_then(Value::as_str).map(str::trim))
            .find(|vector| is_v3_or_v4_vector(vector))
    };
    v.cvss_v3
        .as_deref()
        .map(str::trim)
        .filter(|vector| is_v3_or_v4_vector(vector))
        .or_else(|| source_vector(true))
        .or_else(|| source_vector(false))
        .map(str::to_owned)
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    head.shape == crate::detect::Shape::Json
        && head.has_key("packageManager")
        && (head.has_key("vulnerabilities")
            || head.has_key("dependencyCount")
            || head.has_key("uniqueCount")
            || head.has_key("infrastructureAsCodeIssues"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;
    use vulntrack_domain::vulnerability::Severity;

    const VULN: &str = r#"{"id": "SNYK-JS-LODASH-1040724", "title": "Command Injection", "severity": "high",
        "cvssScore": 7.2, "CVSSv3": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H/E:P/RL:U/RC:C",
        "identifiers": {"CVE": ["CVE-2021-23337"], "CWE": ["CWE-78"]}, "packageName": "lodash",
        "version": "4.17.11", "from": ["app@1.0.0", "@angular/localize@9.0.0", "lodash@4.17.11"],
        "upgradePath": [false, "@angular/localize@10.0.0"], "fixedIn": ["4.17.21"]}"#;

    #[test]
    fn a_container_report_reads_its_applications_and_merges_repeated_paths() {
        let data = format!(
            r#"{{"ok": false, "packageManager": "deb", "projectName": "docker-image|app", "vulnerabilities": [],
                "applications": [{{"packageManager": "npm", "displayTargetFile": "/app/package-lock.json",
                "projectName": "app", "vulnerabilities": [{VULN}, {VULN}]}}]}}"#
        );
        assert!(sniff(&Head::of(data.as_bytes())));
        let report = crate::parse(Format::Snyk, data.as_bytes()).unwrap();
        assert_eq!(report.findings.len(), 1);
        let finding = &report.findings[0];
        assert_eq!(finding.occurrences, 2);
        assert_eq!(finding.title, "Command Injection in lodash 4.17.11 (app@1.0.0)");
        assert_eq!(finding.severity, Some(Severity::High));
        assert_eq!(finding.cve_id.as_deref(), Some("CVE-2021-23337"));
        assert_eq!(finding.cwe_ids, vec![78]);
        assert_eq!(finding.location.file.as_deref(), Some("/app/package-lock.json: app > @angular/localize > lodash"));
        assert_eq!(finding.remediation.as_deref(), Some("Upgrade to @angular/localize@10.0.0."));
        assert_eq!(finding.component.as_ref().and_then(|c| c.ecosystem.as_deref()), Some("npm"));
    }

    #[test]
    fn iac_issues_are_misconfigurations() {
        let data = br#"{"ok": false, "packageManager": "terraformconfig", "targetFile": "main.tf",
          "projectName": "infra", "vulnerabilities": [], "infrastructureAsCodeIssues": [
            {"id": "SNYK-CC-TF-4", "publicId": "SNYK-CC-TF-4", "title": "Non-encrypted S3 Bucket",
             "severity": "medium", "path": ["resource", "aws_s3_bucket[logs]"], "lineNumber": 12,
             "resolve": "Set server_side_encryption_configuration", "isIgnored": false}]}"#;
        assert!(sniff(&Head::of(data)));
        let finding = &crate::parse(Format::Snyk, data).unwrap().findings[0];
        assert_eq!(finding.kind, Kind::Misconfiguration);
        assert_eq!((finding.location.file.as_deref(), finding.location.line), (Some("main.tf"), Some(12)));
        assert_eq!(finding.severity, Some(Severity::Medium));
    }

    #[test]
    fn an_error_report_and_a_malformed_one_are_errors() {
        let failed = br#"{"ok": false, "error": "Could not detect supported target files in /src", "path": "/src"}"#;
        assert!(crate::parse(Format::Snyk, failed).unwrap_err().message.contains("Could not detect"));
        let error = crate::parse(Format::Snyk, b"[{\"vulnerabilities\":\n {}}]").unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
    }
}

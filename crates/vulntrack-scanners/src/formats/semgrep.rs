//! Semgrep JSON (`semgrep --json`): `results[]` with `check_id`, `path`,
//! `start.line` and `extra` (`message`, `severity`, `metadata`, `fix`,
//! `fix_regex`, `lines`, `is_ignored`, `sca_info`). Also the Semgrep App
//! supply-chain export (`vulns[]` with `advisory`, `matchedDependency`,
//! `dependencyFileLocation`).
//!
//! - Severity: ERROR→HIGH, WARNING→MEDIUM, INFO→LOW, and the newer
//!   CRITICAL/HIGH/MEDIUM/LOW as themselves; EXPERIMENT and INVENTORY→INFO.
//! - CWE ids from `metadata.cwe` (a string or a list); references from
//!   `metadata.references` and `metadata.source`; remediation from `fix`
//!   (or `fix_regex`); a supply-chain match gives the component, its CVE
//!   and the fixed version; `is_ignored` (a `nosemgrep` comment) sets
//!   `dismissed`.
//! - Fingerprint: rule id + path + start line (so one rule reported twice at
//!   one place is one finding with two occurrences); the supply-chain
//!   export: advisory rule id + dependency file + line.

use serde::Deserialize;
use serde_json::{Map, Value};
use vulntrack_domain::vulnerability::Severity;

use super::support::{each, from_json, is_blank, is_secrets_rule, is_url, line_number, string_or_number, text, unique};
use crate::finding::{cwe_number, first_cve, severity_from_word};
use crate::{Component, Finding, Location, ParseError, ReportBuilder, detect::Head};

const FORMAT: &str = "semgrep";

#[derive(Deserialize, Default)]
#[serde(default)]
struct Output {
    results: Option<Vec<Value>>,
    vulns: Option<Vec<Value>>,
    version: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SemgrepResult {
    check_id: Option<String>,
    path: Option<String>,
    start: Option<Position>,
    extra: Option<Extra>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Position {
    line: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Extra {
    message: Option<String>,
    severity: Option<String>,
    metadata: Option<Map<String, Value>>,
    fix: Option<String>,
    fix_regex: Option<Value>,
    lines: Option<String>,
    is_ignored: Option<bool>,
    sca_info: Option<ScaInfo>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScaInfo {
    dependency_match: Option<DependencyMatch>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DependencyMatch {
    found_dependency: Option<Dependency>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Dependency {
    package: Option<String>,
    version: Option<String>,
    ecosystem: Option<String>,
}

/// One item of the Semgrep App supply-chain export.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Vuln {
    title: Option<String>,
    advisory: Advisory,
    matched_dependency: Option<NamedVersion>,
    closest_safe_dependency: Option<NamedVersion>,
    dependency_file_location: Option<FileLocation>,
    triage: Option<Triage>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Advisory {
    rule_id: Option<String>,
    title: Option<String>,
    description: Option<String>,
    ecosystem: Option<String>,
    severity: Option<String>,
    references: AdvisoryReferences,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct AdvisoryReferences {
    cve_ids: Option<Value>,
    cwe_ids: Option<Value>,
    urls: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct NamedVersion {
    name: Option<String>,
    version_specifier: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct FileLocation {
    path: Option<String>,
    start_line: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Triage {
    status: Option<String>,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    let output: Output = from_json(FORMAT, data)?;
    report.scanner("Semgrep", string_or_number(output.version.as_ref()).as_deref());
    for result in each::<SemgrepResult>(output.results.unwrap_or_default(), "result", report) {
        report.push(finding(result));
    }
    for vuln in each::<Vuln>(output.vulns.unwrap_or_default(), "vulnerability", report) {
        report.push(supply_chain_finding(vuln));
    }
    Ok(())
}

fn finding(result: SemgrepResult) -> Finding {
    let extra = result.extra.unwrap_or_default();
    let metadata = extra.metadata.unwrap_or_default();
    let message = text(extra.message.as_deref());
    let rule_id = text(result.check_id.as_deref());
    let line = result.start.as_ref().and_then(|p| line_number(p.line.as_ref()));
    let file = text(result.path.as_deref());

    let dependency = extra.sca_info.and_then(|s| s.dependency_match).and_then(|m| m.found_dependency);
    let component = dependency.as_ref().and_then(|d| {
        Some(Component {
            name: text(d.package.as_deref())?,
            version: text(d.version.as_deref()),
            purl: None,
            ecosystem: text(d.ecosystem.as_deref()),
        })
    });
    let fixed_version = component.as_ref().and_then(|c| fix_version(metadata.get("sca-fix-versions"), &c.name));
    let cve_id = ["sca-vuln-database-identifier", "cve", "cve-id"]
        .iter()
        .flat_map(|key| strings(metadata.get(*key)))
        .find_map(|id| first_cve([id.as_str()]));

    let cwe_ids = cwes(metadata.get("cwe"));
    // The matched line of a secrets rule is the secret.
    let about_secrets = is_secrets_rule(rule_id.as_deref(), &cwe_ids) || metadata.contains_key("secret_type");
    let snippet = text(extra.lines.as_deref()).filter(|l| l != "requires login" && !about_secrets);
    let mut description: Vec<String> = message.iter().cloned().collect();
    if let Some(snippet) = snippet {
        description.push(format!("```\n{snippet}\n```"));
    }
    for key in ["confidence", "likelihood", "impact"] {
        if let Some(value) = string_or_number(metadata.get(key)) {
            description.push(format!("{}: {value}", capitalised(key)));
        }
    }
    let owasp = strings(metadata.get("owasp"));
    if !owasp.is_empty() {
        description.push(format!("OWASP: {}", owasp.join("; ")));
    }

    let mut references: Vec<String> = strings(metadata.get("references")).into_iter().filter(|r| is_url(r)).collect();
    for key in ["source", "shortlink", "source-rule-url"] {
        references.extend(strings(metadata.get(key)).into_iter().filter(|r| is_url(r)));
    }
    let references = unique(references);

    let remediation = text(extra.fix.as_deref()).or_else(|| {
        extra.fix_regex.as_ref().filter(|v| !v.is_null()).map(|regex| format!("Apply the fix regex: {regex}"))
    });

    let fingerprint = Finding::fingerprint_of(
        FORMAT,
        &[
            rule_id.as_deref().unwrap_or(""),
            file.as_deref().unwrap_or(""),
            &line.map(|l| l.to_string()).unwrap_or_default(),
        ],
    );
    Finding {
        title: message.as_deref().map(first_sentence).or_else(|| rule_id.clone()).unwrap_or_default(),
        description: description.join("\n\n"),
        severity: extra.severity.as_deref().and_then(severity),
        cwe_ids,
        rule_id,
        cve_id,
        component,
        fixed_version,
        location: Location { file, line, ..Location::default() },
        references,
        remediation: remediation.map(Into::into),
        dismissed: (extra.is_ignored == Some(true)).then(|| "ignored in the code (nosemgrep)".to_owned()),
        fingerprint,
        ..Finding::default()
    }
}

fn supply_chain_finding(vuln: Vuln) -> Finding {
    let advisory = vuln.advisory;
    let rule_id = text(advisory.rule_id.as_deref());
    let title = text(vuln.title.as_deref()).or_else(|| text(advisory.title.as_deref()));
    let location = vuln.dependency_file_location.unwrap_or_default();
    let file = text(location.path.as_deref());
    let line = line_number(location.start_line.as_ref());
    let cves = strings(advisory.references.cve_ids.as_ref());
    let component = vuln.matched_dependency.and_then(|d| {
        Some(Component {
            name: text(d.name.as_deref())?,
            version: text(d.version_specifier.as_deref()),
            purl: None,
            ecosystem: text(advisory.ecosystem.as_deref()),
        })
    });
    let references = unique(strings(advisory.references.urls.as_ref()).into_iter().filter(|u| is_url(u)));
    let fingerprint = Finding::fingerprint_of(
        FORMAT,
        &[
            "supply-chain",
            rule_id.as_deref().or(title.as_deref()).unwrap_or(""),
            file.as_deref().unwrap_or(""),
            &line.map(|l| l.to_string()).unwrap_or_default(),
        ],
    );
    let dismissed = vuln
        .triage
        .and_then(|t| text(t.status.as_deref()))
        .filter(|s| matches!(s.to_ascii_uppercase().as_str(), "IGNORED" | "FIXED" | "PROVISIONALLY_IGNORED"));
    Finding {
        title: title.clone().or_else(|| rule_id.clone()).unwrap_or_default(),
        description: text(advisory.description.as_deref()).unwrap_or_default(),
        severity: advisory.severity.as_deref().and_then(severity),
        cve_id: first_cve(cves.iter().map(String::as_str)),
        cwe_ids: cwes(advisory.references.cwe_ids.as_ref()),
        rule_id,
        component,
        fixed_version: vuln.closest_safe_dependency.and_then(|d| text(d.version_specifier.as_deref())),
        location: Location { file, line, ..Location::default() },
        references,
        dismissed: dismissed.map(|s| format!("triaged as {}", s.to_ascii_lowercase())),
        fingerprint,
        ..Finding::default()
    }
}

/// Semgrep's rule severities; INFO is a real (if minor) finding, so LOW.
fn severity(word: &str) -> Option<Severity> {
    match word.trim().to_ascii_uppercase().as_str() {
        "ERROR" => Some(Severity::High),
        "WARNING" => Some(Severity::Medium),
        "INFO" => Some(Severity::Low),
        "EXPERIMENT" | "INVENTORY" => Some(Severity::Info),
        other => severity_from_word(other),
    }
}

fn cwes(value: Option<&Value>) -> Vec<u32> {
    unique(strings(value).iter().filter_map(|c| cwe_number(c)))
}

/// `sca-fix-versions` is a list of `{package: version}` maps.
fn fix_version(value: Option<&Value>, package: &str) -> Option<String> {
    value?.as_array()?.iter().filter_map(Value::as_object).find_map(|fix| string_or_number(fix.get(package)))
}

/// The message's first sentence (or line), for a title.
fn first_sentence(message: &str) -> String {
    let line = message.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let end = line
        .char_indices()
        .find(|&(at, c)| c == '.' && line.get(at + 1..).is_some_and(|rest| rest.is_empty() || rest.starts_with(' ')));
    match end {
        Some((at, _)) => line.get(..=at).unwrap_or(line).to_owned(),
        None => line.to_owned(),
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// A string or a list of strings.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(|v| string_or_number(Some(v))).collect(),
        other => string_or_number(other).into_iter().collect(),
    }
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    if !head.is_json() || head.has_key("check_type") || head.has_key("failed_checks") {
        return false;
    }
    let scan = head.has_key("results")
        && ((head.has_key("check_id") && head.has_key("extra"))
            || (head.has_key("errors") && !head.has_key("generated_at") && !head.has_key("metrics")));
    let supply_chain = head.has_key("vulns") && head.has_key("dependencyFileLocation");
    scan || supply_chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, parse};

    #[test]
    fn a_supply_chain_match_names_its_package_and_ignored_results_are_dismissed() {
        let report = parse(
            Format::Semgrep,
            br#"{"version":"1.50.0","results":[
              {"check_id":"ssc-1","path":"package-lock.json","start":{"line":7},
               "extra":{"message":"lodash before 4.17.21 is vulnerable. Upgrade.","severity":"CRITICAL","lines":"requires login",
                 "metadata":{"cwe":["CWE-1321: Prototype Pollution"],"sca-vuln-database-identifier":"CVE-2021-23337",
                   "sca-fix-versions":[{"lodash":"4.17.21"}],"references":"https://github.com/advisories/GHSA-35jh"},
                 "sca_info":{"dependency_match":{"found_dependency":{"package":"lodash","version":"4.17.20","ecosystem":"npm"}}}}},
              {"check_id":"python.x","path":"a.py","start":{"line":3},"extra":{"message":"m","severity":"INFO","is_ignored":true}}],
              "errors":[]}"#,
        )
        .unwrap();
        assert_eq!(report.scanner.as_deref(), Some("Semgrep 1.50.0"));
        let first = &report.findings[0];
        assert_eq!(first.severity, Some(Severity::Critical));
        assert_eq!(first.title, "lodash before 4.17.21 is vulnerable.");
        assert_eq!(first.cve_id.as_deref(), Some("CVE-2021-23337"));
        assert_eq!(first.cwe_ids, vec![1321]);
        assert_eq!(first.component.as_ref().map(|c| c.name.as_str()), Some("lodash"));
        assert_eq!(first.fixed_version.as_deref(), Some("4.17.21"));
        assert_eq!(first.references, vec!["https://github.com/advisories/GHSA-35jh".to_owned()]);
        assert!(!first.description.contains("requires login"));
        assert_eq!(report.findings[1].severity, Some(Severity::Low));
        assert!(report.findings[1].dismissed.is_some());
    }

    #[test]
    fn the_app_export_reads_string_line_numbers() {
        let report = parse(
            Format::Semgrep,
            br#"{"vulns":[{"title":"Reachable Assertion in grpc","advisory":{"ruleId":"ssc-8","severity":"HIGH",
                "references":{"cveIds":["CVE-2023-1428"],"cweIds":["CWE-617: Reachable Assertion"]}},
                "matchedDependency":{"name":"grpcio","versionSpecifier":"1.47.0"},
                "dependencyFileLocation":{"path":"requirements3.txt","startLine":"222"}}]}"#,
        )
        .unwrap();
        let finding = &report.findings[0];
        assert_eq!((finding.location.line, finding.cwe_ids.as_slice()), (Some(222), &[617][..]));
        assert_eq!(finding.severity, Some(Severity::High));
    }

    #[test]
    fn the_matched_line_of_a_secrets_rule_is_not_kept() {
        let report = parse(
            Format::Semgrep,
            br#"{"results":[{"check_id":"generic.secrets.security.detected-aws-access-key-id-value.detected-aws-access-key-id-value",
                "path":"deploy.sh","start":{"line":4},"extra":{"message":"AWS Access Key ID Value detected.","severity":"ERROR",
                "lines":"export AWS_ACCESS_KEY_ID=AKIAQWERTYUIOPASDFGH","metadata":{"cwe":"CWE-798: Use of Hard-coded Credentials"}}}]}"#,
        )
        .unwrap();
        assert!(!format!("{:?}", report.findings[0]).contains("AKIAQWERTYUIOPASDFGH"));
        assert_eq!(report.findings[0].severity, Some(Severity::High));
    }

    #[test]
    fn a_malformed_report_is_an_error_with_its_line() {
        let error = parse(Format::Semgrep, b"{\"results\": [\n{\"check_id\": }\n]}").unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
    }
}

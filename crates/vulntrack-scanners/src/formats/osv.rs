//! OSV-Scanner JSON (`osv-scanner --format json`, v1 and v2):
//! `results[].packages[]`, each a `package` with its OSV `vulnerabilities[]`
//! and the `groups[]` OSV-Scanner forms of records that are aliases of one
//! another (a GHSA and a PYSEC record of one flaw). One finding per group
//! per package, named by the group's first id in sort order; every id and
//! alias of the group is searched for a CVE. Reports without `groups`
//! (before v1.3) give one finding per record.
//!
//! Severity: the record's `database_specific.severity` word (GitHub's
//! CRITICAL/HIGH/MODERATE/LOW), else the group's `max_severity` score, else
//! an `affected[]` entry's severity word, else the band of its CVSS vector;
//! a record rated nowhere (a malicious-package notice, for one) is LOW.
//!
//! Fingerprint: the group's id, package ecosystem, name and version.

use std::cmp::Ordering;
use std::collections::HashSet;

use serde::Deserialize;
use serde_json::Value;
use vulntrack_domain::vulnerability::Severity;

use super::support::{from_json, is_blank, nullable, text, unique};
use crate::finding::{
    Kind, cwe_number, first_cve, is_v3_or_v4_vector, severity_from_valid_score, severity_from_vector,
    severity_from_word,
};
use crate::{Component, Finding, Location, ParseError, ReportBuilder, detect::Head};

const FORMAT: &str = "osv";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Document {
    #[serde(deserialize_with = "nullable")]
    results: Vec<Source>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Source {
    source: Option<SourceFile>,
    #[serde(deserialize_with = "nullable")]
    packages: Vec<Package>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SourceFile {
    path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Package {
    package: PackageInfo,
    #[serde(deserialize_with = "nullable")]
    vulnerabilities: Vec<Record>,
    #[serde(deserialize_with = "nullable")]
    groups: Vec<Group>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PackageInfo {
    name: Option<String>,
    version: Option<String>,
    ecosystem: Option<String>,
    purl: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Group {
    #[serde(deserialize_with = "nullable")]
    ids: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    aliases: Vec<String>,
    /// A CVSS base score as text (`"7.5"`), or empty.
    max_severity: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Record {
    #[serde(deserialize_with = "nullable")]
    id: String,
    #[serde(deserialize_with = "nullable")]
    aliases: Vec<String>,
    summary: Option<String>,
    details: Option<String>,
    #[serde(deserialize_with = "nullable")]
    severity: Vec<Score>,
    #[serde(deserialize_with = "nullable")]
    affected: Vec<Affected>,
    #[serde(deserialize_with = "nullable")]
    references: Vec<Reference>,
    database_specific: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Score {
    #[serde(rename = "type")]
    kind: Option<String>,
    score: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Affected {
    package: Option<PackageInfo>,
    #[serde(deserialize_with = "nullable")]
    ranges: Vec<Range>,
    #[serde(deserialize_with = "nullable")]
    severity: Vec<Score>,
    database_specific: Value,
    ecosystem_specific: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Range {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(deserialize_with = "nullable")]
    events: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Reference {
    url: Option<String>,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    report.scanner("OSV-Scanner", None);
    if is_blank(data) {
        return Ok(());
    }
    let document: Document = from_json(FORMAT, data)?;
    for source in &document.results {
        let path = source.source.as_ref().and_then(|s| text(s.path.as_deref()));
        for package in &source.packages {
            if package.vulnerabilities.iter().any(|r| r.id.trim().is_empty()) {
                report.warn("an OSV record without an id was skipped");
            }
            for group in groups(package) {
                report.push(finding(package, &group, path.as_deref()));
            }
        }
    }
    Ok(())
}

/// One group of records.
struct Members<'a> {
    records: Vec<&'a Record>,
    group: Option<&'a Group>,
}

/// The package's records gathered by OSV-Scanner's groups, in report order.
fn groups(package: &Package) -> Vec<Members<'_>> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut out = Vec::new();
    for record in &package.vulnerabilities {
        if record.id.trim().is_empty() || seen.contains(record.id.as_str()) {
            continue;
        }
        let group = package.groups.iter().find(|g| g.ids.contains(&record.id));
        let mut records: Vec<&Record> = match group {
            Some(group) => package.vulnerabilities.iter().filter(|r| group.ids.contains(&r.id)).collect(),
            None => vec![record],
        };
        records.retain(|r| seen.insert(r.id.as_str()));
        records.sort_by(|a, b| a.id.cmp(&b.id));
        out.push(Members { records, group });
    }
    out
}

fn finding(package: &Package, members: &Members<'_>, path: Option<&str>) -> Finding {
    let info = &package.package;
    let name = text(info.name.as_deref()).unwrap_or_default();
    let version = text(info.version.as_deref());
    let ecosystem = text(info.ecosystem.as_deref());
    let records = &members.records;
    let id = records.first().map(|r| r.id.trim().to_owned()).unwrap_or_default();
    let ids = records
        .iter()
        .flat_map(|r| std::iter::once(&r.id).chain(&r.aliases))
        .chain(members.group.iter().flat_map(|g| &g.aliases));
    let affected: Vec<&Affected> = records
        .iter()
        .flat_map(|r| &r.affected)
        .filter(|a| a.package.as_ref().and_then(|p| p.name.as_deref()).is_none_or(|n| n.trim() == name))
        .collect();
    let fixes = fixed_versions(&affected);
    let description = records
        .iter()
        .find_map(|r| {
            let parts = [text(r.summary.as_deref()), text(r.details.as_deref())];
            let joined = parts.into_iter().flatten().collect::<Vec<_>>().join("\n\n");
            (!joined.is_empty()).then_some(joined)
        })
        .unwrap_or_default();
    let references = unique(records.iter().flat_map(|r| &r.references).filter_map(|r| text(r.url.as_deref())));
    let cwe_ids = unique(
        records
            .iter()
            .flat_map(|r| cwes(&r.database_specific))
            .chain(affected.iter().flat_map(|a| cwes(&a.database_specific))),
    );
    let vectors: Vec<&str> = records
        .iter()
        .flat_map(|r| r.severity.iter().chain(r.affected.iter().flat_map(|a| &a.severity)))
        .filter(|s| s.kind.as_deref().is_none_or(|k| k.starts_with("CVSS_V3") || k.starts_with("CVSS_V4")))
        .filter_map(|s| s.score.as_deref().map(str::trim))
        .filter(|v| is_v3_or_v4_vector(v))
        .collect();
    let fingerprint = Finding::fingerprint_of(
        FORMAT,
        &[&id, ecosystem.as_deref().unwrap_or(""), &name, version.as_deref().unwrap_or("")],
    );
    Finding {
        title: [id.as_str(), "in", &name, version.as_deref().unwrap_or("")].join(" "),
        description,
        severity: Some(severity(records, members.group, &affected, &vectors)),
        kind: Kind::Vulnerability,
        rule_id: text(Some(&id)),
        cve_id: first_cve(ids.map(String::as_str)),
        cwe_ids,
        component: (!name.is_empty()).then(|| Component {
            name: name.clone(),
            version: version.clone(),
            purl: text(info.purl.as_deref()),
            ecosystem,
        }),
        fixed_version: next_fix(&fixes, version.as_deref()),
        remediation: (!fixes.is_empty())
            .then(|| format!("Upgrade {name} to a fixed version: {}.", fixes.join(", ")).into()),
        location: Location { file: path.map(str::to_owned), ..Location::default() },
        cvss_vector: vectors.first().map(|v| (*v).to_owned()),
        references,
        fingerprint,
        occurrences: 1,
        ..Finding::default()
    }
}

fn severity(records: &[&Record], group: Option<&Group>, affected: &[&Affected], vectors: &[&str]) -> Severity {
    let word = |value: &Value| value.get("severity").and_then(Value::as_str).and_then(severity_from_word);
    let max_score = group.and_then(|g| match &g.max_severity {
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    });
    records
        .iter()
        .find_map(|r| word(&r.database_specific))
        .or_else(|| max_score.and_then(severity_from_valid_score))
        .or_else(|| affected.iter().find_map(|a| word(&a.ecosystem_specific).or_else(|| word(&a.database_specific))))
        .or_else(|| vectors.iter().find_map(|v| severity_from_vector(v)))
        .unwrap_or(Severity::Low)
}

/// CWE ids as GitHub (`cwe_ids: ["CWE-79"]`) and the malicious-packages
/// feed (`cwes: [{"cweId": "CWE-506"}]`) write them.
fn cwes(database_specific: &Value) -> Vec<u32> {
    let listed = database_specific.get("cwe_ids").and_then(Value::as_array).into_iter().flatten();
    let objects = database_specific.get("cwes").and_then(Value::as_array).into_iter().flatten();
    listed
        .filter_map(Value::as_str)
        .chain(objects.filter_map(|c| c.get("cweId").and_then(Value::as_str)))
        .filter_map(cwe_number)
        .collect()
}

fn fixed_versions(affected: &[&Affected]) -> Vec<String> {
    // A GIT range's fix is a commit, not a version.
    let ranges = affected.iter().flat_map(|a| &a.ranges);
    let events =
        ranges.filter(|r| !r.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("GIT"))).flat_map(|r| &r.events);
    unique(events.filter_map(|e| e.get("fixed").and_then(Value::as_str)).filter_map(|v| text(Some(v))))
}

/// The lowest fixed version above the installed one, compared part by part.
fn next_fix(fixes: &[String], installed: Option<&str>) -> Option<String> {
    match (fixes, installed) {
        ([only], _) => Some(only.clone()),
        (_, Some(installed)) => fixes
            .iter()
            .filter(|f| compare_versions(f, installed) == Ordering::Greater)
            .min_by(|a, b| compare_versions(a, b))
            .cloned(),
        _ => None,
    }
}

fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| -> Vec<String> {
        v.trim_start_matches('v').split(|c: char| !c.is_ascii_alphanumeric()).map(str::to_owned).collect()
    };
    let (a, b) = (parts(a), parts(b));
    for (x, y) in a.iter().zip(&b) {
        let order = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    head.shape == crate::detect::Shape::Json
        && head.has_key("results")
        && head.has_key("packages")
        && (head.has_key("source") || head.has_key("groups") || head.has_key("vulnerabilities"))
        && !head.has_key("runs")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    #[test]
    fn aliases_grouped_by_osv_scanner_are_one_finding() {
        let data = br#"{"results": [{"source": {"path": "/src/requirements.txt", "type": "lockfile"},
          "packages": [{"package": {"name": "django", "version": "2.2.25", "ecosystem": "PyPI"},
            "vulnerabilities": [
              {"id": "PYSEC-2022-1", "aliases": ["CVE-2021-45115"], "summary": "DoS in UserAttributeSimilarityValidator",
               "affected": [{"package": {"name": "django", "ecosystem": "PyPI"},
                 "ranges": [{"type": "GIT", "events": [{"fixed": "0a1b2c3d4e5f"}]},
                            {"type": "ECOSYSTEM", "events": [{"introduced": "2.2"}, {"fixed": "2.2.26"},
                                                             {"introduced": "3.0"}, {"fixed": "3.2.11"}]}]}]},
              {"id": "GHSA-53qw-q765-4fww", "aliases": ["CVE-2021-45115"],
               "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
               "database_specific": {"severity": "HIGH", "cwe_ids": ["CWE-400"]},
               "references": [{"type": "WEB", "url": "https://nvd.nist.gov/vuln/detail/CVE-2021-45115"}]}],
            "groups": [{"ids": ["GHSA-53qw-q765-4fww", "PYSEC-2022-1"], "max_severity": "7.5"}]}]}]}"#;
        assert!(sniff(&Head::of(data)));
        let report = crate::parse(Format::Osv, data).unwrap();
        assert_eq!(report.findings.len(), 1);
        let finding = &report.findings[0];
        assert_eq!(finding.rule_id.as_deref(), Some("GHSA-53qw-q765-4fww"));
        assert_eq!(finding.cve_id.as_deref(), Some("CVE-2021-45115"));
        assert_eq!(finding.severity, Some(Severity::High));
        assert_eq!(finding.cwe_ids, vec![400]);
        assert_eq!(finding.fixed_version.as_deref(), Some("2.2.26"));
        assert_eq!(finding.location.file.as_deref(), Some("/src/requirements.txt"));
    }

    #[test]
    fn an_empty_result_list_has_no_findings() {
        assert!(crate::parse(Format::Osv, br#"{"results": []}"#).unwrap().findings.is_empty());
    }

    #[test]
    fn a_malformed_report_names_the_line() {
        let error = crate::parse(Format::Osv, b"{\"results\": [\n{\"packages\": {}}]}").unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
    }
}

//! OWASP Dependency-Check reports, XML (schemas 1.x to 4.x) and JSON:
//! `dependencies[]`, each with its `vulnerabilities` and suppressed
//! vulnerabilities (read as dismissed, with the suppression notes). A
//! vulnerability is reported once for the dependency's file and once for
//! each `relatedDependency` that names a file (Dependency-Check groups
//! identical copies of a library found in several archives).
//!
//! The component is named from the package URL identifier, else the old
//! `maven` identifier (`group:artifact:version`), else a CPE identifier,
//! else the product/version evidence, else the file name. The CVSS v3 vector
//! is the report's `vectorString`, or is composed from the v3 metric fields.
//!
//! Severity: the vulnerability's `severity` word (CRITICAL, HIGH,
//! MEDIUM/MODERATE, LOW), else the CVSS v3 `baseSeverity`, else the CVSS v2
//! severity, else the band of the CVSS score.
//!
//! Fingerprint: vulnerability name, component name and version, and the
//! file name (not its absolute path, which changes with the build directory).

use serde_json::Value;
use vulntrack_domain::vulnerability::Severity;

use super::support::{from_json, is_blank, text, unique, without_bom};
use super::xml_tree::{self, Node};
use crate::finding::{Kind, cwe_number, first_cve, is_v3_or_v4_vector, severity_from_valid_score, severity_from_word};
use crate::{Component, Finding, Location, ParseError, ReportBuilder, detect::Head, detect::Shape};

const FORMAT: &str = "dependency-check";

/// Where JSON and XML differ, in a report read into one tree ([`from_value`]
/// puts JSON in the shape of the XML): names in any letter case (`cvssv3`,
/// `cvssV3`), list entries as an XML list's items or a JSON array's
/// elements (named [`ITEM`]), and attributes (JSON has none) read like
/// child elements. This module reads through these, not through `Node`'s
/// own `child`/`get`/`items`, which match names exactly.
trait Lookup {
    /// Children named `name`, in any letter case.
    fn members<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a;

    /// The first child named `name`, in any letter case.
    fn member(&self, name: &str) -> Option<&Node>;

    /// Entries of a list: `<list><item/></list>` in XML, `"list": [...]` in JSON.
    fn entries<'a>(&'a self, list: &'a str, item: &'a str) -> impl Iterator<Item = &'a Node> + 'a;

    /// An XML attribute or a child's text, trimmed, unless blank.
    fn field(&self, name: &str) -> Option<String>;
}

const ITEM: &str = "#item";

impl Lookup for Node {
    fn members<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name.eq_ignore_ascii_case(name))
    }

    fn member(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    fn entries<'a>(&'a self, list: &'a str, item: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.members(list)
            .flat_map(move |l| l.children.iter().filter(move |c| c.name == ITEM || c.name.eq_ignore_ascii_case(item)))
    }

    fn field(&self, name: &str) -> Option<String> {
        let attribute = self.attributes.iter().find(|(key, _)| key.eq_ignore_ascii_case(name));
        attribute.and_then(|(_, value)| text(Some(value))).or_else(|| self.member(name).and_then(Node::value))
    }
}

/// A JSON value in the shape of the XML report: an object's members are
/// children named by their key, an array's elements children named
/// [`ITEM`] of a node named by the array's key.
fn from_value(name: &str, value: &Value) -> Node {
    let mut node = Node { name: name.to_owned(), ..Node::default() };
    match value {
        Value::Object(map) => node.children = map.iter().map(|(key, value)| from_value(key, value)).collect(),
        Value::Array(list) => node.children = list.iter().map(|value| from_value(ITEM, value)).collect(),
        Value::String(s) => node.text = s.clone(),
        Value::Number(n) => node.text = n.to_string(),
        Value::Bool(b) => node.text = b.to_string(),
        Value::Null => {}
    }
    node
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    report.scanner("Dependency-Check", None);
    if is_blank(data) {
        return Ok(());
    }
    let root = if without_bom(data).trim_ascii_start().starts_with(b"<") {
        let document = xml_tree::read(FORMAT, data)?;
        match document.children.into_iter().next() {
            Some(root) if root.name == "analysis" => root,
            root => {
                return Err(ParseError::new(format!(
                    "not a valid {FORMAT} report: the root element is <{}>, expected <analysis>",
                    root.map(|root| root.name).unwrap_or_default()
                )));
            }
        }
    } else {
        let value: Value = from_json(FORMAT, data)?;
        if !value.is_object() {
            return Err(ParseError::new(format!("not a valid {FORMAT} report: expected a JSON object")));
        }
        from_value("analysis", &value)
    };
    let version = root.member("scanInfo").and_then(|s| s.field("engineVersion"));
    report.scanner("Dependency-Check", version.as_deref());
    for dependency in root.entries("dependencies", "dependency") {
        read_dependency(dependency, report);
    }
    Ok(())
}

fn read_dependency(dependency: &Node, report: &mut ReportBuilder) {
    let component = component(dependency);
    let mut files = vec![dependency.field("fileName").or_else(|| dependency.field("filePath"))];
    // Copies without a file name (reports before 6.0) say nothing the main entry does not.
    files.extend(
        dependency.entries("relatedDependencies", "relatedDependency").filter_map(|r| r.field("fileName")).map(Some),
    );
    let live = dependency.entries("vulnerabilities", "vulnerability").map(|v| (v, false));
    // XML lists suppressed ones among the vulnerabilities; JSON apart.
    let suppressed = dependency
        .members("vulnerabilities")
        .flat_map(|list| list.members("suppressedVulnerability"))
        .chain(dependency.entries("suppressedVulnerabilities", "suppressedVulnerability"))
        .map(|v| (v, true));
    for (vulnerability, is_suppressed) in live.chain(suppressed) {
        let Some(name) = vulnerability.field("name") else {
            report.warn("a Dependency-Check vulnerability without a name was skipped");
            continue;
        };
        for file in &files {
            report.push(finding(vulnerability, &name, is_suppressed, &component, file.as_deref()));
        }
    }
}

fn finding(vulnerability: &Node, name: &str, suppressed: bool, component: &Component, file: Option<&str>) -> Finding {
    let version = component.version.as_deref().unwrap_or("");
    let references = unique(vulnerability.entries("references", "reference").filter_map(|r| r.field("url")));
    let cwes = vulnerability.entries("cwes", "cwe").chain(vulnerability.members("cwe"));
    let cwe_ids = unique(cwes.filter_map(Node::value).filter_map(|c| cwe_number(&c)));
    let notes = vulnerability.field("notes");
    let description =
        [vulnerability.field("description"), vulnerability.field("source").map(|s| format!("Source: {s}"))];
    Finding {
        title: [name, "in", &component.name, version].join(" "),
        description: description.into_iter().flatten().collect::<Vec<_>>().join("\n\n"),
        severity: severity(vulnerability),
        kind: Kind::Vulnerability,
        rule_id: Some(name.to_owned()),
        cve_id: first_cve([name]),
        cwe_ids,
        component: Some(component.clone()),
        location: Location { file: file.map(str::to_owned), ..Location::default() },
        cvss_vector: cvss_vector(vulnerability),
        references,
        dismissed: suppressed
            .then(|| notes.clone().unwrap_or_else(|| "suppressed by a Dependency-Check suppression rule".to_owned())),
        fingerprint: Finding::fingerprint_of(FORMAT, &[name, &component.name, version, file.unwrap_or("")]),
        occurrences: 1,
        ..Finding::default()
    }
}

fn cvss_v3(vulnerability: &Node) -> Option<&Node> {
    let block = vulnerability.member("cvssV3")?;
    // Reports since 9.0 nest the NVD API's `cvssData`.
    Some(block.member("cvssData").unwrap_or(block))
}

fn severity(vulnerability: &Node) -> Option<Severity> {
    let v2 = vulnerability.member("cvssV2");
    let v2 = v2.map(|b| b.member("cvssData").unwrap_or(b));
    let score = |node: Option<&Node>, field: &str| {
        node.and_then(|n| n.field(field)).and_then(|s| s.parse::<f64>().ok()).and_then(severity_from_valid_score)
    };
    let word =
        |node: Option<&Node>, field: &str| node.and_then(|n| n.field(field)).and_then(|w| severity_from_word(&w));
    word(Some(vulnerability), "severity")
        .or_else(|| word(cvss_v3(vulnerability), "baseSeverity"))
        .or_else(|| word(vulnerability.member("cvssV3"), "baseSeverity"))
        .or_else(|| word(v2, "severity").or_else(|| word(v2, "baseSeverity")))
        .or_else(|| score(cvss_v3(vulnerability), "baseScore"))
        .or_else(|| score(v2, "score").or_else(|| score(v2, "baseScore")))
        .or_else(|| score(Some(vulnerability), "cvssScore"))
}

fn cvss_vector(vulnerability: &Node) -> Option<String> {
    let given = [cvss_v3(vulnerability), vulnerability.member("cvssV4").map(|b| b.member("cvssData").unwrap_or(b))]
        .into_iter()
        .flatten()
        .filter_map(|block| block.field("vectorString"))
        .find(|v| is_v3_or_v4_vector(v));
    given.or_else(|| compose_v3(cvss_v3(vulnerability)?))
}

/// `CVSS:3.1/AV:N/…` from Dependency-Check's metric fields (`NETWORK` or `N`).
fn compose_v3(block: &Node) -> Option<String> {
    const METRICS: [(&str, &str); 8] = [
        ("AV", "attackVector"),
        ("AC", "attackComplexity"),
        ("PR", "privilegesRequired"),
        ("UI", "userInteraction"),
        ("S", "scope"),
        ("C", "confidentialityImpact"),
        ("I", "integrityImpact"),
        ("A", "availabilityImpact"),
    ];
    let version = block.field("version").filter(|v| v == "3.0" || v == "3.1").unwrap_or_else(|| "3.1".to_owned());
    let mut vector = format!("CVSS:{version}");
    for (code, field) in METRICS {
        let value = block.field(field)?.to_ascii_uppercase();
        let letter = match value.as_str() {
            "ADJACENT_NETWORK" | "ADJACENT" => "A",
            "UNCHANGED" => "U",
            "CHANGED" => "C",
            "REQUIRED" => "R",
            word => word.get(..1)?,
        };
        vector.push_str(&format!("/{code}:{letter}"));
    }
    Some(vector)
}

fn component(dependency: &Node) -> Component {
    let identifiers = dependency.member("identifiers");
    // Package URLs: `identifiers/package` in XML (once nested a level deeper), `packages` in JSON.
    let purls = identifiers
        .into_iter()
        .flat_map(|i| i.members("package").chain(i.members("identifiers").flat_map(|n| n.members("package"))))
        .chain(dependency.entries("packages", "package"))
        .filter_map(|p| p.field("id"));
    if let Some(component) = purls.into_iter().find_map(|purl| from_purl(&purl)) {
        return component;
    }
    let old = identifiers.into_iter().flat_map(|i| i.members("identifier"));
    let mut cpe = None;
    for identifier in old {
        let kind = identifier.field("type").unwrap_or_default().to_ascii_lowercase();
        let Some(name) = identifier.field("name") else { continue };
        match kind.as_str() {
            "maven" => {
                if let Some((artifact, version)) = name.rsplit_once(':') {
                    return named(artifact, Some(version), Some("maven"));
                }
            }
            "cpe" => cpe = cpe.or(Some(name)),
            _ => {}
        }
    }
    if let Some(component) = cpe.as_deref().and_then(from_cpe) {
        return component;
    }
    let product = best_evidence(dependency, "product");
    match product {
        Some(product) => named(&product, best_evidence(dependency, "version").as_deref(), None),
        None => named(&dependency.field("fileName").unwrap_or_default(), None, None),
    }
}

fn named(name: &str, version: Option<&str>, ecosystem: Option<&str>) -> Component {
    Component {
        name: name.trim().to_owned(),
        version: text(version),
        purl: None,
        ecosystem: ecosystem.map(str::to_owned),
    }
}

/// `org.dom4j:dom4j` 2.1.1 from `pkg:maven/org.dom4j/dom4j@2.1.1`.
fn from_purl(purl: &str) -> Option<Component> {
    let rest = purl.trim().strip_prefix("pkg:")?;
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let (kind, path) = rest.split_once('/')?;
    let (path, version) = match path.rsplit_once('@') {
        Some((path, version)) => (path, Some(version.replace("%2B", "+").replace("%2b", "+"))),
        None => (path, None),
    };
    let path = path.replace("%40", "@");
    let (namespace, name) = match path.rsplit_once('/') {
        Some((namespace, name)) => (Some(namespace), name),
        None => (None, path.as_str()),
    };
    let name = match (kind, namespace) {
        ("maven", Some(group)) => format!("{group}:{name}"),
        (_, Some(namespace)) => format!("{namespace}/{name}"),
        (_, None) => name.to_owned(),
    };
    (!name.is_empty()).then(|| Component {
        name,
        version,
        purl: Some(purl.trim().to_owned()),
        ecosystem: Some(kind.to_ascii_lowercase()),
    })
}

/// Product and version from `cpe:/a:vendor:product:version` or `cpe:2.3:a:vendor:product:version:…`.
fn from_cpe(cpe: &str) -> Option<Component> {
    let parts: Vec<&str> = cpe.split(':').collect();
    let (product, version) = match parts.get(1) {
        Some(&"2.3") => (parts.get(4)?, parts.get(5)),
        _ => (parts.get(3)?, parts.get(4)),
    };
    let version = version.copied().filter(|v| !matches!(*v, "" | "*" | "-"));
    Some(named(product, version, None))
}

/// The most confident evidence of `kind` (`product`, `version`) Dependency-Check collected.
fn best_evidence(dependency: &Node, kind: &str) -> Option<String> {
    let collected = dependency.member("evidenceCollected")?;
    let json_list = format!("{kind}Evidence");
    let evidence = collected
        .members("evidence")
        .filter(|e| e.field("type").is_some_and(|t| t.eq_ignore_ascii_case(kind)))
        .chain(collected.entries(&json_list, "evidence"));
    let rank = |e: &Node| match e.field("confidence").unwrap_or_default().to_ascii_uppercase().as_str() {
        "HIGHEST" => 4,
        "HIGH" => 3,
        "MEDIUM" => 2,
        "LOW" => 1,
        _ => 0,
    };
    let mut best: Option<(&Node, i32)> = None;
    for candidate in evidence {
        let score = rank(candidate);
        if best.is_none_or(|(_, top)| score > top) {
            best = Some((candidate, score));
        }
    }
    best.and_then(|(node, _)| node.field("value"))
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    match head.shape {
        Shape::Xml => {
            head.xml_root() == Some("analysis")
                && (head.text.contains("DependencyCheck") || head.text.contains("dependency-check"))
        }
        Shape::Json => {
            head.has_key("dependencies")
                && (head.has_key("reportSchema") || (head.has_key("scanInfo") && head.has_key("engineVersion")))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    #[test]
    fn the_json_report_with_cvss_v3_fields_and_a_suppression_is_read() {
        let data = br#"{"reportSchema": "1.1", "scanInfo": {"engineVersion": "8.4.0"},
          "projectInfo": {"name": "app"},
          "dependencies": [{"isVirtual": false, "fileName": "log4j-api-2.12.4.jar",
            "filePath": "/builds/app/lib/log4j-api-2.12.4.jar",
            "packages": [{"id": "pkg:maven/org.apache.logging.log4j/log4j-api@2.12.4", "confidence": "HIGH"}],
            "vulnerabilities": [{"source": "NVD", "name": "CVE-2020-9488", "severity": "LOW",
              "cvssv3": {"baseScore": 3.7, "attackVector": "NETWORK", "attackComplexity": "HIGH",
                "privilegesRequired": "NONE", "userInteraction": "NONE", "scope": "UNCHANGED",
                "confidentialityImpact": "LOW", "integrityImpact": "NONE", "availabilityImpact": "NONE",
                "baseSeverity": "LOW", "version": "3.1"},
              "cwes": ["CWE-295"], "description": "Improper validation of certificate with host mismatch.",
              "references": [{"source": "MISC", "url": "https://issues.apache.org/jira/browse/LOG4J2-2819"}]}],
            "suppressedVulnerabilities": [{"source": "NVD", "name": "CVE-2021-44832", "severity": "MEDIUM",
              "notes": "JDBC appender not used"}]}]}"#;
        assert!(sniff(&Head::of(data)));
        let report = crate::parse(Format::DependencyCheck, data).unwrap();
        assert_eq!(report.scanner.as_deref(), Some("Dependency-Check 8.4.0"));
        assert_eq!(report.findings.len(), 2);
        let finding = &report.findings[0];
        let component = finding.component.as_ref().unwrap();
        assert_eq!(
            (component.name.as_str(), component.version.as_deref()),
            ("org.apache.logging.log4j:log4j-api", Some("2.12.4"))
        );
        assert_eq!(finding.severity, Some(Severity::Low));
        assert_eq!(finding.cvss_vector.as_deref(), Some("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N"));
        assert_eq!(finding.cwe_ids, vec![295]);
        assert_eq!(finding.location.file.as_deref(), Some("log4j-api-2.12.4.jar"));
        assert_eq!(report.findings[1].dismissed.as_deref(), Some("JDBC appender not used"));
    }

    #[test]
    fn related_dependencies_with_a_file_are_findings_of_their_own() {
        let data = br#"<?xml version="1.0"?>
<analysis xmlns="https://jeremylong.github.io/DependencyCheck/dependency-check.2.5.xsd">
  <dependencies><dependency>
    <fileName>a.ear: dom4j-2.1.1.jar</fileName>
    <relatedDependencies>
      <relatedDependency><fileName>b.ear: dom4j-2.1.1.jar</fileName></relatedDependency>
      <relatedDependency><filePath>/var/lib/c.ear/dom4j-2.1.1.jar</filePath></relatedDependency>
    </relatedDependencies>
    <identifiers><package><id>pkg:maven/org.dom4j/dom4j@2.1.1</id></package></identifiers>
    <vulnerabilities><vulnerability source="NVD"><name>CVE-2020-10683</name>
      <cvssV3><baseScore>9.8</baseScore><attackVector>N</attackVector><attackComplexity>L</attackComplexity>
        <privilegesRequired>N</privilegesRequired><userInteraction>N</userInteraction><scope>U</scope>
        <confidentialityImpact>H</confidentialityImpact><integrityImpact>H</integrityImpact>
        <availabilityImpact>H</availabilityImpact><baseSeverity>CRITICAL</baseSeverity></cvssV3>
    </vulnerability></vulnerabilities>
  </dependency></dependencies>
</analysis>"#;
        let report = crate::parse(Format::DependencyCheck, data).unwrap();
        assert_eq!(report.findings.len(), 2);
        assert_eq!(report.findings[1].location.file.as_deref(), Some("b.ear: dom4j-2.1.1.jar"));
        assert_eq!(report.findings[0].severity, Some(Severity::Critical));
        assert_eq!(report.findings[0].cvss_vector.as_deref(), Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"));
    }

    #[test]
    fn malformed_reports_name_the_line() {
        let xml = crate::parse(Format::DependencyCheck, b"<analysis>\n<dependencies>\n</analysis>").unwrap_err();
        assert_eq!(xml.line, Some(3), "{xml}");
        let json = crate::parse(Format::DependencyCheck, b"{\"dependencies\":\n[}").unwrap_err();
        assert_eq!(json.line, Some(2), "{json}");
    }
}

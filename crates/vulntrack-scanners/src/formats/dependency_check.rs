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

use quick_xml::{Reader, events::BytesStart, events::Event};
use serde_json::Value;
use vulntrack_domain::vulnerability::Severity;

use super::support::{from_json, is_blank, text, without_bom};
use crate::finding::{Kind, cwe_number, first_cve, severity_from_score, severity_from_word};
use crate::{Component, Finding, Location, ParseError, ReportBuilder, detect::Head, detect::Shape};

const FORMAT: &str = "dependency-check";

/// An XML element, or a JSON value in the same shape: an object's members
/// are children named by their key, an array's elements children named
/// [`ITEM`] of a node named by the array's key.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

const ITEM: &str = "#item";

impl Node {
    /// Children named `name`; JSON and XML differ in letter case (`cvssv3`, `cvssV3`).
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name.eq_ignore_ascii_case(name))
    }

    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Entries of a list: `<list><item/></list>` in XML, `"list": [...]` in JSON.
    fn items<'a>(&'a self, list: &'a str, item: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.all(list)
            .flat_map(move |l| l.children.iter().filter(move |c| c.name == ITEM || c.name.eq_ignore_ascii_case(item)))
    }

    fn value(&self) -> Option<String> {
        text(Some(&self.text))
    }

    /// An XML attribute or a child's text: JSON has no attributes.
    fn get(&self, name: &str) -> Option<String> {
        let attribute = self.attributes.iter().find(|(key, _)| key.eq_ignore_ascii_case(name));
        attribute.and_then(|(_, value)| text(Some(value))).or_else(|| self.child(name).and_then(Node::value))
    }
}

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

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    name.rsplit(':').next().unwrap_or_default().to_owned()
}

fn element(start: &BytesStart<'_>) -> Node {
    let attributes = start
        .attributes()
        .flatten()
        .map(|a| {
            let value = a.unescape_value().map(|v| v.into_owned());
            (local(a.key.as_ref()), value.unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned()))
        })
        .collect();
    Node { name: local(start.name().as_ref()), attributes, ..Node::default() }
}

/// The XML document's root element (the caller has run [`crate::xml::check`]).
fn read_xml(data: &[u8]) -> Result<Node, ParseError> {
    let data = without_bom(data);
    let mut reader = Reader::from_reader(data);
    let mut stack = vec![Node::default()];
    let mut buf = Vec::new();
    loop {
        let event =
            reader.read_event_into(&mut buf).map_err(|e| ParseError::xml(FORMAT, e, data, reader.error_position()))?;
        match event {
            Event::Start(start) => stack.push(element(&start)),
            Event::Empty(start) => append_child(&mut stack, element(&start)),
            Event::End(_) if stack.len() > 1 => {
                if let Some(node) = stack.pop() {
                    append_child(&mut stack, node);
                }
            }
            Event::Text(t) => append_text(&mut stack, &t.xml_content().unwrap_or_default()),
            Event::CData(t) => append_text(&mut stack, &t.decode().unwrap_or_default()),
            Event::GeneralRef(r) => {
                let name = r.decode().unwrap_or_default().into_owned();
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => quick_xml::escape::resolve_predefined_entity(&name).unwrap_or_default().to_owned(),
                };
                append_text(&mut stack, &resolved);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let mut document = stack.into_iter().next().unwrap_or_default();
    Ok(if document.children.is_empty() { Node::default() } else { document.children.swap_remove(0) })
}

fn append_child(stack: &mut [Node], node: Node) {
    if let Some(parent) = stack.last_mut() {
        parent.children.push(node);
    }
}

fn append_text(stack: &mut [Node], text: &str) {
    if let Some(node) = stack.last_mut() {
        node.text.push_str(text);
    }
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    report.scanner("Dependency-Check", None);
    if is_blank(data) {
        return Ok(());
    }
    let root = if without_bom(data).trim_ascii_start().starts_with(b"<") {
        crate::xml::check(FORMAT, data)?;
        let root = read_xml(data)?;
        if root.name != "analysis" {
            return Err(ParseError::new(format!(
                "not a valid {FORMAT} report: the root element is <{}>, expected <analysis>",
                root.name
            )));
        }
        root
    } else {
        let value: Value = from_json(FORMAT, data)?;
        if !value.is_object() {
            return Err(ParseError::new(format!("not a valid {FORMAT} report: expected a JSON object")));
        }
        from_value("analysis", &value)
    };
    let version = root.child("scanInfo").and_then(|s| s.get("engineVersion"));
    report.scanner("Dependency-Check", version.as_deref());
    for dependency in root.items("dependencies", "dependency") {
        read_dependency(dependency, report);
    }
    Ok(())
}

fn read_dependency(dependency: &Node, report: &mut ReportBuilder) {
    let component = component(dependency);
    let mut files = vec![dependency.get("fileName").or_else(|| dependency.get("filePath"))];
    // Copies without a file name (reports before 6.0) say nothing the main entry does not.
    files.extend(
        dependency.items("relatedDependencies", "relatedDependency").filter_map(|r| r.get("fileName")).map(Some),
    );
    let live = dependency.items("vulnerabilities", "vulnerability").map(|v| (v, false));
    // XML lists suppressed ones among the vulnerabilities; JSON apart.
    let suppressed = dependency
        .all("vulnerabilities")
        .flat_map(|list| list.all("suppressedVulnerability"))
        .chain(dependency.items("suppressedVulnerabilities", "suppressedVulnerability"))
        .map(|v| (v, true));
    for (vulnerability, is_suppressed) in live.chain(suppressed) {
        let Some(name) = vulnerability.get("name") else {
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
    let mut references: Vec<String> = Vec::new();
    for url in vulnerability.items("references", "reference").filter_map(|r| r.get("url")) {
        if !references.contains(&url) {
            references.push(url);
        }
    }
    let cwes = vulnerability.items("cwes", "cwe").chain(vulnerability.all("cwe"));
    let mut cwe_ids: Vec<u32> = Vec::new();
    for cwe in cwes.filter_map(Node::value).filter_map(|c| cwe_number(&c)) {
        if !cwe_ids.contains(&cwe) {
            cwe_ids.push(cwe);
        }
    }
    let notes = vulnerability.get("notes");
    let description = [vulnerability.get("description"), vulnerability.get("source").map(|s| format!("Source: {s}"))];
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
    let block = vulnerability.child("cvssV3")?;
    // Reports since 9.0 nest the NVD API's `cvssData`.
    Some(block.child("cvssData").unwrap_or(block))
}

fn severity(vulnerability: &Node) -> Option<Severity> {
    let v2 = vulnerability.child("cvssV2");
    let v2 = v2.map(|b| b.child("cvssData").unwrap_or(b));
    let score = |node: Option<&Node>, field: &str| {
        node.and_then(|n| n.get(field))
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| (0.0..=10.0).contains(s))
            .map(severity_from_score)
    };
    let word = |node: Option<&Node>, field: &str| node.and_then(|n| n.get(field)).and_then(|w| severity_from_word(&w));
    word(Some(vulnerability), "severity")
        .or_else(|| word(cvss_v3(vulnerability), "baseSeverity"))
        .or_else(|| word(vulnerability.child("cvssV3"), "baseSeverity"))
        .or_else(|| word(v2, "severity").or_else(|| word(v2, "baseSeverity")))
        .or_else(|| score(cvss_v3(vulnerability), "baseScore"))
        .or_else(|| score(v2, "score").or_else(|| score(v2, "baseScore")))
        .or_else(|| score(Some(vulnerability), "cvssScore"))
}

fn cvss_vector(vulnerability: &Node) -> Option<String> {
    let given = [cvss_v3(vulnerability), vulnerability.child("cvssV4").map(|b| b.child("cvssData").unwrap_or(b))]
        .into_iter()
        .flatten()
        .filter_map(|block| block.get("vectorString"))
        .find(|v| v.starts_with("CVSS:3.") || v.starts_with("CVSS:4.0/"));
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
    let version = block.get("version").filter(|v| v == "3.0" || v == "3.1").unwrap_or_else(|| "3.1".to_owned());
    let mut vector = format!("CVSS:{version}");
    for (code, field) in METRICS {
        let value = block.get(field)?.to_ascii_uppercase();
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
    let identifiers = dependency.child("identifiers");
    // Package URLs: `identifiers/package` in XML (once nested a level deeper), `packages` in JSON.
    let purls = identifiers
        .into_iter()
        .flat_map(|i| i.all("package").chain(i.all("identifiers").flat_map(|n| n.all("package"))))
        .chain(dependency.items("packages", "package"))
        .filter_map(|p| p.get("id"));
    if let Some(component) = purls.into_iter().find_map(|purl| from_purl(&purl)) {
        return component;
    }
    let old = identifiers.into_iter().flat_map(|i| i.all("identifier"));
    let mut cpe = None;
    for identifier in old {
        let kind = identifier.get("type").unwrap_or_default().to_ascii_lowercase();
        let Some(name) = identifier.get("name") else { continue };
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
        None => named(&dependency.get("fileName").unwrap_or_default(), None, None),
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
    let collected = dependency.child("evidenceCollected")?;
    let json_list = format!("{kind}Evidence");
    let evidence = collected
        .all("evidence")
        .filter(|e| e.get("type").is_some_and(|t| t.eq_ignore_ascii_case(kind)))
        .chain(collected.items(&json_list, "evidence"));
    let rank = |e: &Node| match e.get("confidence").unwrap_or_default().to_ascii_uppercase().as_str() {
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
    best.and_then(|(node, _)| node.get("value"))
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

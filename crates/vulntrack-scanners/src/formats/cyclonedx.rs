//! CycloneDX vulnerability reports, JSON and XML: the `vulnerabilities`
//! of specifications 1.4–1.6, and the 1.0 vulnerability extension
//! (`v:vulnerabilities`) that 1.2/1.3 XML tools wrote inside a component or
//! beside the components. An SBOM without vulnerabilities has no findings.
//! One finding per vulnerability and affected component (`affects[].ref`,
//! resolved through the nested components' `bom-ref`s); VEX
//! `analysis.state` not_affected, false_positive, resolved or
//! resolved_with_pedigree is read as dismissed.
//!
//! JSON is read with this module's own lenient structures: serde-cyclonedx
//! types follow the schema strictly (a required BOM `version`, closed enums
//! for rating methods and severities), so one unusual value anywhere in a
//! real SBOM would refuse the whole report.
//!
//! Severity: a CVSS rating's `severity` word, else the band of its v3.x/v4.0
//! vector, else its score; then any rating's severity word, vector or score
//! (CVSS v2 included); "unknown" alone is INFO.
//!
//! Fingerprint: vulnerability id, component group, name and version (the
//! unresolved `ref` when the component is not in the BOM).

use std::collections::HashMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use vulntrack_domain::vulnerability::Severity;

use super::support::{from_json, is_blank, nullable, push_unique, scalar_text, without_bom};
use super::xml_tree::{self, Node};
use crate::finding::{
    Kind, cwe_number, first_cve, is_v3_or_v4_vector, severity_from_valid_score, severity_from_vector,
    severity_from_word,
};
use crate::{Component, Finding, ParseError, ReportBuilder, detect::Head, detect::Shape};

const FORMAT: &str = "cyclonedx";

/// A component as findings name it.
#[derive(Debug, Clone, Default)]
struct Comp {
    name: String,
    group: Option<String>,
    version: Option<String>,
    purl: Option<String>,
}

#[derive(Debug, Default)]
struct Rating {
    severity: Option<String>,
    score: Option<f64>,
    method: Option<String>,
    vector: Option<String>,
}

/// One vulnerability, read from either encoding.
#[derive(Debug, Default)]
struct Vuln {
    id: String,
    other_ids: Vec<String>,
    ratings: Vec<Rating>,
    cwes: Vec<u32>,
    description: Vec<String>,
    recommendation: Option<String>,
    references: Vec<String>,
    state: Option<String>,
    analysis: Vec<String>,
    fixed: Option<String>,
    /// Affected components; a `ref` the BOM does not resolve is kept as text.
    affects: Vec<Result<Comp, String>>,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    let vulns = if without_bom(data).trim_ascii_start().starts_with(b"<") {
        read_xml(data, report)?
    } else {
        read_json(data, report)?
    };
    for vuln in &vulns {
        if vuln.id.is_empty() {
            report.warn("a CycloneDX vulnerability without an id was skipped");
            continue;
        }
        if vuln.affects.is_empty() {
            report.push(finding(vuln, None));
        }
        for affected in &vuln.affects {
            report.push(finding(vuln, Some(affected)));
        }
    }
    Ok(())
}

fn finding(vuln: &Vuln, affected: Option<&Result<Comp, String>>) -> Finding {
    let component = affected.and_then(|a| a.as_ref().ok());
    let unresolved = affected.and_then(|a| a.as_ref().err()).map(String::as_str).unwrap_or("");
    let name = component.map(|c| c.name.as_str()).unwrap_or("");
    let version = component.and_then(|c| c.version.as_deref()).unwrap_or("");
    let group = component.and_then(|c| c.group.as_deref()).unwrap_or("");
    let title = if name.is_empty() { vuln.id.clone() } else { [vuln.id.as_str(), "in", name, version].join(" ") };
    let dismissed = vuln.state.as_deref().filter(|s| {
        matches!(
            s.to_ascii_lowercase().as_str(),
            "not_affected" | "false_positive" | "resolved" | "resolved_with_pedigree"
        )
    });
    let remediation = [vuln.recommendation.clone(), vuln.fixed.as_ref().map(|f| format!("Fixed in {f}."))];
    Finding {
        title,
        description: vuln.description.join("\n\n"),
        severity: severity(&vuln.ratings),
        kind: Kind::Vulnerability,
        rule_id: Some(vuln.id.clone()),
        cve_id: first_cve(std::iter::once(&vuln.id).chain(&vuln.other_ids).map(String::as_str)),
        cwe_ids: vuln.cwes.clone(),
        component: component.filter(|c| !c.name.is_empty()).map(|c| Component {
            name: c.name.clone(),
            version: c.version.clone(),
            ecosystem: c.purl.as_deref().and_then(purl_type),
            purl: c.purl.clone(),
        }),
        fixed_version: vuln.fixed.clone(),
        cvss_vector: cvss_vector(&vuln.ratings),
        references: vuln.references.clone(),
        remediation: Some(remediation.into_iter().flatten().collect::<Vec<_>>().join("\n"))
            .filter(|r| !r.is_empty())
            .map(Into::into),
        dismissed: dismissed.map(|state| {
            let why = std::iter::once(format!("VEX analysis: {state}")).chain(vuln.analysis.iter().cloned());
            why.collect::<Vec<_>>().join("; ")
        }),
        fingerprint: Finding::fingerprint_of(FORMAT, &[&vuln.id, group, name, version, unresolved]),
        occurrences: 1,
        ..Finding::default()
    }
}

fn is_cvss(rating: &Rating) -> bool {
    let method = rating.method.as_deref().unwrap_or("").to_ascii_uppercase();
    method.starts_with("CVSSV3")
        || method.starts_with("CVSSV4")
        || rating.vector.as_deref().is_some_and(is_v3_or_v4_vector)
}

fn severity(ratings: &[Rating]) -> Option<Severity> {
    let word = |r: &Rating| {
        r.severity.as_deref().filter(|w| !w.trim().eq_ignore_ascii_case("unknown")).and_then(severity_from_word)
    };
    let vector = |r: &Rating| full_vector(r).and_then(|v| severity_from_vector(&v));
    let score = |r: &Rating| r.score.and_then(severity_from_valid_score);
    let rated = |r: &Rating| word(r).or_else(|| vector(r)).or_else(|| score(r));
    ratings
        .iter()
        .filter(|r| is_cvss(r))
        .find_map(rated)
        .or_else(|| ratings.iter().find_map(word))
        .or_else(|| ratings.iter().find_map(vector))
        .or_else(|| ratings.iter().find_map(score))
        .or_else(|| ratings.iter().any(|r| r.severity.is_some()).then_some(Severity::Info))
}

/// The rating's vector with the version prefix its method implies when the
/// tool wrote the bare metrics (`AV:N/AC:L/…` with method CVSSv31).
fn full_vector(rating: &Rating) -> Option<String> {
    let vector = rating.vector.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
    if is_v3_or_v4_vector(vector) {
        return Some(vector.to_owned());
    }
    let prefix = match rating.method.as_deref().unwrap_or("").to_ascii_uppercase().as_str() {
        "CVSSV3" => "CVSS:3.0/",
        "CVSSV31" => "CVSS:3.1/",
        "CVSSV4" => "CVSS:4.0/",
        _ => return None,
    };
    Some(format!("{prefix}{vector}"))
}

fn cvss_vector(ratings: &[Rating]) -> Option<String> {
    ratings.iter().find_map(full_vector)
}

/// `maven` from `pkg:maven/org.example/lib@1.0`.
fn purl_type(purl: &str) -> Option<String> {
    let rest = purl.trim().strip_prefix("pkg:")?;
    rest.split('/').next().filter(|t| !t.is_empty()).map(str::to_ascii_lowercase)
}

// ---- JSON ----------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Bom {
    metadata: Option<Metadata>,
    #[serde(deserialize_with = "nullable")]
    components: Vec<JsonComponent>,
    #[serde(deserialize_with = "nullable")]
    vulnerabilities: Vec<JsonVuln>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Metadata {
    /// A list of tools (1.4) or `{components, services}` (1.5+).
    tools: Value,
    component: Option<JsonComponent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonComponent {
    #[serde(rename = "bom-ref", deserialize_with = "lenient")]
    bom_ref: Option<String>,
    #[serde(deserialize_with = "lenient")]
    name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    group: Option<String>,
    #[serde(deserialize_with = "lenient")]
    version: Option<String>,
    #[serde(deserialize_with = "lenient")]
    purl: Option<String>,
    #[serde(deserialize_with = "nullable")]
    components: Vec<JsonComponent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonVuln {
    #[serde(deserialize_with = "lenient")]
    id: Option<String>,
    source: Option<JsonSource>,
    #[serde(deserialize_with = "nullable")]
    references: Vec<JsonVulnReference>,
    #[serde(deserialize_with = "nullable")]
    ratings: Vec<JsonRating>,
    #[serde(deserialize_with = "nullable")]
    cwes: Vec<Value>,
    #[serde(deserialize_with = "lenient")]
    description: Option<String>,
    #[serde(deserialize_with = "lenient")]
    detail: Option<String>,
    #[serde(deserialize_with = "lenient")]
    recommendation: Option<String>,
    #[serde(deserialize_with = "nullable")]
    advisories: Vec<JsonAdvisory>,
    analysis: Option<JsonAnalysis>,
    #[serde(deserialize_with = "nullable")]
    affects: Vec<JsonAffects>,
    #[serde(deserialize_with = "nullable")]
    properties: Vec<JsonProperty>,
    tools: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonSource {
    #[serde(deserialize_with = "lenient")]
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonVulnReference {
    #[serde(deserialize_with = "lenient")]
    id: Option<String>,
    source: Option<JsonSource>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonRating {
    score: Value,
    #[serde(deserialize_with = "lenient")]
    severity: Option<String>,
    #[serde(deserialize_with = "lenient")]
    method: Option<String>,
    #[serde(deserialize_with = "lenient")]
    vector: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonAdvisory {
    #[serde(deserialize_with = "lenient")]
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonAnalysis {
    #[serde(deserialize_with = "lenient")]
    state: Option<String>,
    #[serde(deserialize_with = "lenient")]
    justification: Option<String>,
    #[serde(deserialize_with = "lenient")]
    detail: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonAffects {
    #[serde(rename = "ref", deserialize_with = "lenient")]
    reference: Option<String>,
    #[serde(deserialize_with = "nullable")]
    versions: Vec<JsonVersion>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonVersion {
    #[serde(deserialize_with = "lenient")]
    version: Option<String>,
    #[serde(deserialize_with = "lenient")]
    status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonProperty {
    #[serde(deserialize_with = "lenient")]
    name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    value: Option<String>,
}

/// Text that tools sometimes write as a number or boolean; other shapes are dropped.
fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(scalar_text(Some(&Value::deserialize(d)?)))
}

fn read_json(data: &[u8], report: &mut ReportBuilder) -> Result<Vec<Vuln>, ParseError> {
    let bom: Bom = from_json(FORMAT, data)?;
    let mut components = HashMap::new();
    let roots = bom.components.iter().chain(bom.metadata.iter().flat_map(|m| &m.component));
    index_json(roots, &mut components);
    let tool = bom.metadata.as_ref().and_then(|m| json_tool(&m.tools));
    if let Some((name, version)) = tool.or_else(|| bom.vulnerabilities.iter().find_map(|v| json_tool(&v.tools))) {
        report.scanner(&name, version.as_deref());
    }
    Ok(bom.vulnerabilities.iter().map(|v| json_vuln(v, &components)).collect())
}

fn index_json<'a>(list: impl Iterator<Item = &'a JsonComponent>, index: &mut HashMap<String, Comp>) {
    for component in list {
        let comp = Comp {
            name: component.name.clone().unwrap_or_default(),
            group: component.group.clone(),
            version: component.version.clone(),
            purl: component.purl.clone(),
        };
        for key in component.bom_ref.iter().chain(&component.purl) {
            index.entry(key.clone()).or_insert_with(|| comp.clone());
        }
        index_json(component.components.iter(), index);
    }
}

fn json_tool(tools: &Value) -> Option<(String, Option<String>)> {
    let list = tools.as_array().or_else(|| tools.get("components").and_then(Value::as_array))?;
    list.iter().find_map(|tool| {
        let name = scalar_text(tool.get("name"))?;
        Some((name, scalar_text(tool.get("version"))))
    })
}

fn json_vuln(v: &JsonVuln, components: &HashMap<String, Comp>) -> Vuln {
    let mut references = Vec::new();
    push_unique(&mut references, v.source.as_ref().and_then(|s| s.url.clone()));
    for advisory in &v.advisories {
        push_unique(&mut references, advisory.url.clone());
    }
    for reference in &v.references {
        push_unique(&mut references, reference.source.as_ref().and_then(|s| s.url.clone()));
    }
    let analysis = v.analysis.as_ref();
    let unaffected = v
        .affects
        .iter()
        .flat_map(|a| &a.versions)
        .find(|version| version.status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("unaffected")));
    // Grype writes the fix as a property rather than an unaffected version.
    let grype_fix = v.properties.iter().find(|p| p.name.as_deref() == Some("grype:fixed_versions"));
    Vuln {
        id: v.id.clone().unwrap_or_default(),
        other_ids: v.references.iter().filter_map(|r| r.id.clone()).collect(),
        ratings: v
            .ratings
            .iter()
            .map(|r| Rating {
                severity: r.severity.clone(),
                score: scalar_text(Some(&r.score)).and_then(|s| s.parse().ok()),
                method: r.method.clone(),
                vector: r.vector.clone(),
            })
            .collect(),
        cwes: v.cwes.iter().filter_map(|c| scalar_text(Some(c)).as_deref().and_then(cwe_number)).collect(),
        description: [v.description.clone(), v.detail.clone()].into_iter().flatten().collect(),
        recommendation: v.recommendation.clone(),
        references,
        state: analysis.and_then(|a| a.state.clone()),
        analysis: analysis.into_iter().flat_map(|a| [a.justification.clone(), a.detail.clone()]).flatten().collect(),
        fixed: unaffected.and_then(|u| u.version.clone()).or_else(|| grype_fix.and_then(|p| p.value.clone())),
        affects: v
            .affects
            .iter()
            .filter_map(|a| a.reference.as_ref())
            .map(|r| components.get(r).cloned().ok_or_else(|| r.clone()))
            .collect(),
    }
}

// ---- XML -----------------------------------------------------------------

fn read_xml(data: &[u8], report: &mut ReportBuilder) -> Result<Vec<Vuln>, ParseError> {
    let document = xml_tree::read(FORMAT, data)?;
    let root = document.children.first();
    let Some(bom) = root.filter(|root| root.name == "bom") else {
        return Err(ParseError::new(format!(
            "not a valid {FORMAT} report: the root element is <{}>, expected <bom>",
            root.map_or("", |root| root.name.as_str())
        )));
    };
    let mut components = HashMap::new();
    let mut vulns = Vec::new();
    for child in &bom.children {
        match child.name.as_str() {
            "components" => walk_components(child, &mut components, &mut vulns),
            "vulnerabilities" => vulns.extend(child.children("vulnerability").map(|v| (v, None))),
            "metadata" => {
                if let Some(component) = child.child("component") {
                    index_xml(component, &mut components);
                }
            }
            _ => {}
        }
    }
    let tools = bom.child("metadata").and_then(|m| m.child("tools"));
    let tool = tools.and_then(|t| {
        t.children("tool").chain(t.items("components", "component")).find(|t| t.text_of("name").is_some())
    });
    if let Some(tool) = tool {
        report.scanner(&tool.text_of("name").unwrap_or_default(), tool.text_of("version").as_deref());
    }
    Ok(vulns.into_iter().map(|(node, owner)| xml_vuln(node, owner, &components)).collect())
}

fn component_of(node: &Node) -> Comp {
    Comp {
        name: node.text_of("name").unwrap_or_default(),
        group: node.text_of("group"),
        version: node.text_of("version"),
        purl: node.text_of("purl"),
    }
}

fn index_xml(node: &Node, index: &mut HashMap<String, Comp>) {
    let comp = component_of(node);
    for key in node.attr("bom-ref").map(str::to_owned).into_iter().chain(comp.purl.clone()) {
        index.entry(key).or_insert_with(|| comp.clone());
    }
}

/// Indexes components (nested ones too) and gathers the 1.0 extension's
/// vulnerabilities written inside them, with the component they are in.
fn walk_components<'a>(list: &'a Node, index: &mut HashMap<String, Comp>, vulns: &mut Vec<(&'a Node, Option<Comp>)>) {
    for component in list.children("component") {
        index_xml(component, index);
        let own = component_of(component);
        vulns.extend(component.items("vulnerabilities", "vulnerability").map(|v| (v, Some(own.clone()))));
        for nested in component.children("components") {
            walk_components(nested, index, vulns);
        }
    }
}

fn xml_vuln(node: &Node, owner: Option<Comp>, components: &HashMap<String, Comp>) -> Vuln {
    let mut references = Vec::new();
    push_unique(&mut references, node.child("source").and_then(|s| s.text_of("url")));
    for advisory in node.items("advisories", "advisory") {
        push_unique(&mut references, advisory.text_of("url").or_else(|| advisory.value()));
    }
    let vuln_references: Vec<&Node> = node.items("references", "reference").collect();
    for reference in &vuln_references {
        push_unique(&mut references, reference.child("source").and_then(|s| s.text_of("url")));
    }
    let ratings = node
        .items("ratings", "rating")
        .map(|r| {
            let score = r.child("score").and_then(|s| s.text_of("base").or_else(|| s.value()));
            Rating {
                severity: r.text_of("severity"),
                score: score.and_then(|s| s.parse().ok()),
                method: r.text_of("method"),
                vector: r.text_of("vector"),
            }
        })
        .collect();
    let recommendations: Vec<String> = node
        .child("recommendation")
        .and_then(Node::value)
        .into_iter()
        .chain(node.items("recommendations", "recommendation").filter_map(Node::value))
        .collect();
    let analysis = node.child("analysis");
    let targets: Vec<&Node> = node.items("affects", "target").collect();
    let unaffected = targets
        .iter()
        .flat_map(|t| t.items("versions", "version"))
        .find(|v| v.text_of("status").is_some_and(|s| s.eq_ignore_ascii_case("unaffected")));
    let affects = match owner {
        Some(owner) => vec![Ok(owner)],
        None => targets
            .iter()
            .filter_map(|t| t.text_of("ref"))
            .chain(node.attr("ref").map(str::to_owned))
            .map(|r| components.get(&r).cloned().ok_or(r))
            .collect(),
    };
    Vuln {
        id: node.text_of("id").unwrap_or_default(),
        other_ids: vuln_references.iter().filter_map(|r| r.text_of("id")).collect(),
        ratings,
        cwes: node.items("cwes", "cwe").filter_map(|c| c.value()).filter_map(|c| cwe_number(&c)).collect(),
        description: [node.text_of("description"), node.text_of("detail")].into_iter().flatten().collect(),
        recommendation: Some(recommendations.join("\n")).filter(|r| !r.is_empty()),
        references,
        state: analysis.and_then(|a| a.text_of("state")),
        analysis: analysis
            .into_iter()
            .flat_map(|a| [a.text_of("justification"), a.text_of("detail")])
            .flatten()
            .collect(),
        fixed: unaffected.and_then(|v| v.text_of("version")),
        affects,
    }
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    match head.shape {
        Shape::Json => {
            head.has_key("bomFormat") || (head.has_key("specVersion") && head.text.contains("cyclonedx.org"))
        }
        Shape::Xml => head.xml_root() == Some("bom") && head.text.contains("cyclonedx.org/schema/bom"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    #[test]
    fn nested_components_and_the_1_5_tools_object_are_read() {
        let data = br#"{"bomFormat": "CycloneDX", "specVersion": "1.5",
          "metadata": {"tools": {"components": [{"type": "application", "name": "Trivy", "version": "0.50.1"}]}},
          "components": [{"bom-ref": "app", "type": "application", "name": "app",
             "components": [{"bom-ref": "pkg:npm/lodash@4.17.20", "type": "library", "name": "lodash",
                             "version": "4.17.20", "purl": "pkg:npm/lodash@4.17.20"}]}],
          "vulnerabilities": [{"id": "GHSA-35jh-r3h4-6jhm", "references": [{"id": "CVE-2021-23337"}],
             "ratings": [{"method": "CVSSv31", "vector": "AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}],
             "cwes": ["CWE-77", 94],
             "analysis": {"state": "false_positive", "detail": "template is never compiled"},
             "affects": [{"ref": "pkg:npm/lodash@4.17.20",
                          "versions": [{"version": "4.17.21", "status": "unaffected"}]}]}]}"#;
        assert!(sniff(&Head::of(data)));
        let report = crate::parse(Format::CycloneDx, data).unwrap();
        assert_eq!(report.scanner.as_deref(), Some("Trivy 0.50.1"));
        let finding = &report.findings[0];
        assert_eq!(finding.title, "GHSA-35jh-r3h4-6jhm in lodash 4.17.20");
        assert_eq!(finding.cve_id.as_deref(), Some("CVE-2021-23337"));
        assert_eq!(finding.cvss_vector.as_deref(), Some("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"));
        assert_eq!(finding.severity, Some(Severity::High));
        assert_eq!(finding.cwe_ids, vec![77, 94]);
        assert_eq!(finding.fixed_version.as_deref(), Some("4.17.21"));
        assert_eq!(finding.component.as_ref().and_then(|c| c.ecosystem.as_deref()), Some("npm"));
        assert_eq!(finding.dismissed.as_deref(), Some("VEX analysis: false_positive; template is never compiled"));
    }

    #[test]
    fn the_1_0_extension_inside_components_is_read() {
        let data = br#"<?xml version="1.0"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.2" xmlns:v="http://cyclonedx.org/schema/ext/vulnerability/1.0">
  <metadata><tools><tool><vendor>anchore</vendor><name>grype</name><version>0.7.0</version></tool></tools></metadata>
  <components>
    <component type="library"><name>apt</name><version>1.8.2.1</version>
      <v:vulnerabilities>
        <v:vulnerability ref="urn:uuid:a388c416"><v:id>CVE-2011-3374</v:id>
          <v:ratings><v:rating><v:score><v:base>4.3</v:base></v:score><v:severity>Low</v:severity>
            <v:method>CVSSv2</v:method></v:rating></v:ratings>
          <v:advisories><v:advisory>https://security-tracker.debian.org/tracker/CVE-2011-3374</v:advisory></v:advisories>
        </v:vulnerability>
      </v:vulnerabilities>
    </component>
  </components>
</bom>"#;
        assert!(sniff(&Head::of(data)));
        let report = crate::parse(Format::CycloneDx, data).unwrap();
        assert_eq!(report.scanner.as_deref(), Some("grype 0.7.0"));
        let finding = &report.findings[0];
        assert_eq!(finding.component.as_ref().map(|c| c.name.as_str()), Some("apt"));
        assert_eq!(finding.severity, Some(Severity::Low));
        assert_eq!(finding.references, vec!["https://security-tracker.debian.org/tracker/CVE-2011-3374".to_owned()]);
    }

    #[test]
    fn malformed_reports_name_the_line() {
        let json = crate::parse(Format::CycloneDx, b"{\"bomFormat\": \"CycloneDX\",\n\"vulnerabilities\": {}}");
        assert_eq!(json.unwrap_err().line, Some(2));
        let xml = crate::parse(Format::CycloneDx, b"<bom>\n<components>\n</bom>");
        assert_eq!(xml.unwrap_err().line, Some(3));
    }
}

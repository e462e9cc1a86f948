//! OpenVAS / Greenbone (GVM) reports.
//!
//! Variants read: the XML report (GMP/OMP export `report` › `report` ›
//! `results` › `result`, also inside `get_reports_response`; OpenVAS 8–9
//! `nvt` fields `cve`/`xref` and GVM 20+ `refs`/`severities`/`solution`
//! alike), and the CSV export ("CSV Results": `IP`, `Hostname`, `Port`,
//! `Port Protocol`, `CVSS`, `Severity`, `NVT Name`, `Summary`,
//! `Specific Result`, `NVT OID`, `CVEs`, `Solution`…), columns found by name
//! in any letter case. A CVE scan's result names its CVE as the OID.
//!
//! Severity: the report's own word (`threat` in XML, `Severity` in CSV:
//! Critical, High, Medium, Low, Log/Debug → Info; "False Positive" → Info,
//! marked dismissed), else the CVSS band of the `severity`/`CVSS` score.
//!
//! Fingerprint: NVT OID (else name), host IP and port number (none for
//! `general/…`), the same for a result read from XML or CSV.

use vulntrack_domain::vulnerability::Severity;

use super::{
    support::{Columns, csv_reader, is_blank, without_bom},
    web::{labelled, paragraphs, urls},
    xml_tree::{self, Node},
};
use crate::{
    Finding, Location, ParseError, ReportBuilder,
    detect::{Head, Shape},
    finding::{cwe_number, first_cve, is_v3_or_v4_vector, severity_from_score, severity_from_word},
};

const FORMAT: &str = "openvas";

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    report.scanner("OpenVAS", None);
    if without_bom(data).trim_ascii_start().starts_with(b"<") {
        parse_xml(data, report)
    } else {
        parse_csv(data, report)
    }
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    match head.shape {
        Shape::Xml => {
            matches!(head.xml_root(), Some("report" | "get_reports_response"))
                && ["<nvt ", "<results", "<gmp>", "<omp>", "<report_format"].iter().any(|m| head.text.contains(m))
        }
        Shape::Text => {
            let header = head.first_line().to_ascii_lowercase();
            header.contains("nvt name") || (header.contains("nvt oid") && header.contains("ip"))
        }
        _ => false,
    }
}

/// One result as either shape gives it.
#[derive(Debug, Default)]
struct Result_ {
    oid: Option<String>,
    name: Option<String>,
    host: Option<String>,
    hostname: Option<String>,
    port: Option<String>,
    protocol: Option<String>,
    threat: Option<String>,
    score: Option<String>,
    summary: Option<String>,
    detail: Option<String>,
    insight: Option<String>,
    impact: Option<String>,
    affected: Option<String>,
    solution: Option<String>,
    cves: Vec<String>,
    cwes: Vec<u32>,
    vector: Option<String>,
    references: Vec<String>,
}

fn parse_xml(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    let document = xml_tree::read(FORMAT, data)?;
    let Some(root) = document.child("report").or_else(|| document.child("get_reports_response")) else {
        return Err(ParseError::new("not a valid openvas report: the root element is not <report>"));
    };
    for results in root.find_all("results") {
        for result in results.children("result") {
            push(report, xml_result(result));
        }
    }
    Ok(())
}

fn xml_result(result: &Node) -> Result_ {
    let empty = Node::default();
    let nvt = result.child("nvt").unwrap_or(&empty);
    let tags = nvt.get("tags").unwrap_or_default();
    let tag = |key: &str| {
        tags.split('|')
            .find_map(|pair| pair.split_once('=').filter(|(k, _)| k.trim() == key).map(|(_, v)| v.trim()))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let refs: Vec<(&str, &str)> =
        nvt.items("refs", "ref").filter_map(|r| Some((r.attr("type").unwrap_or(""), r.attr("id")?))).collect();
    let mut cves: Vec<String> =
        refs.iter().filter(|(kind, _)| kind.eq_ignore_ascii_case("cve")).map(|(_, id)| (*id).to_owned()).collect();
    cves.extend(nvt.get("cve").iter().flat_map(|list| split_list(list)).filter(|id| id != "NOCVE"));
    let mut references: Vec<String> =
        refs.iter().filter(|(kind, _)| kind.eq_ignore_ascii_case("url")).flat_map(|(_, id)| urls(id)).collect();
    references.extend(nvt.get("xref").as_deref().map(urls).unwrap_or_default());
    let vector = nvt
        .items("severities", "severity")
        .filter_map(|s| s.get("value"))
        .chain(tag("cvss_base_vector"))
        .find(|v| is_v3_or_v4_vector(v));
    let (port, protocol) = split_port(result.get("port").as_deref().unwrap_or(""));
    let host = result.child("host");
    Result_ {
        oid: nvt.attr("oid").map(str::to_owned),
        name: nvt.get("name").or_else(|| result.get("name")),
        host: host.and_then(Node::value),
        hostname: host.and_then(|h| h.get("hostname")),
        port,
        protocol,
        threat: result.get("threat"),
        score: result.get("severity").or_else(|| nvt.get("cvss_base")),
        summary: tag("summary"),
        detail: result.get("description"),
        insight: tag("insight"),
        impact: tag("impact"),
        affected: tag("affected"),
        solution: nvt.get("solution").or_else(|| tag("solution")),
        cves,
        cwes: refs
            .iter()
            .filter(|(_, id)| id.to_ascii_uppercase().starts_with("CWE-"))
            .filter_map(|(_, id)| cwe_number(id))
            .collect(),
        vector,
        references,
    }
}

/// `443/tcp` → (443, tcp); `general/tcp` → (none, tcp).
fn split_port(port: &str) -> (Option<String>, Option<String>) {
    let (number, protocol) = port.split_once('/').unwrap_or((port, ""));
    let number = Some(number.trim()).filter(|n| n.parse::<u16>().is_ok()).map(str::to_owned);
    let protocol = Some(protocol.trim().to_ascii_lowercase()).filter(|p| !p.is_empty());
    (number, protocol)
}

/// A list cell or element: `CVE-1, CVE-2` or one a line.
fn split_list(list: &str) -> Vec<String> {
    list.split([',', '\n', ' ']).map(str::trim).filter(|id| !id.is_empty()).map(str::to_owned).collect()
}

fn parse_csv(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    let mut reader = csv_reader(data);
    let columns = Columns::new(reader.headers().map_err(|e| ParseError::csv(FORMAT, &e))?);
    if !columns.has("nvt name") && !columns.has("nvt oid") {
        return Err(ParseError::at(
            "not a valid openvas report: the CSV header has no NVT Name or NVT OID column",
            1,
            1,
        ));
    }
    for row in reader.records() {
        let row = row.map_err(|e| ParseError::csv(FORMAT, &e))?;
        let get = |names: &[&str]| columns.text(&row, names);
        if get(&["nvt name", "nvt oid"]).is_none() {
            let line = row.position().map_or(0, |p| p.line());
            report.warn(format!("line {line}: a row without an NVT is skipped"));
            continue;
        }
        let (port, protocol) = split_port(&get(&["port"]).unwrap_or_default());
        let result = Result_ {
            oid: get(&["nvt oid"]),
            name: get(&["nvt name"]),
            host: get(&["ip", "host"]),
            hostname: get(&["hostname"]),
            port,
            protocol: get(&["port protocol"]).map(|p| p.to_ascii_lowercase()).or(protocol),
            threat: get(&["severity", "threat"]),
            score: get(&["cvss", "severity score"]),
            summary: get(&["summary"]),
            detail: get(&["specific result"]),
            insight: get(&["vulnerability insight"]),
            impact: get(&["impact"]),
            affected: get(&["affected software/os"]),
            solution: get(&["solution"]),
            cves: split_list(&get(&["cves", "cve"]).unwrap_or_default()),
            references: urls(&get(&["other references"]).unwrap_or_default()),
            ..Result_::default()
        };
        push(report, result);
    }
    Ok(())
}

fn push(report: &mut ReportBuilder, result: Result_) {
    let threat = result.threat.as_deref().map(str::trim).unwrap_or("");
    let false_positive = threat.eq_ignore_ascii_case("false positive");
    let severity = if false_positive || threat.eq_ignore_ascii_case("debug") {
        Some(Severity::Info)
    } else {
        severity_from_word(threat)
            .or_else(|| result.score.as_deref().and_then(|s| s.parse().ok()).map(severity_from_score))
    };
    let key = result.oid.clone().or_else(|| result.name.clone()).unwrap_or_default();
    let fingerprint = Finding::fingerprint_of(
        FORMAT,
        &[&key, result.host.as_deref().unwrap_or(""), result.port.as_deref().unwrap_or("")],
    );
    report.push(Finding {
        title: result.name.clone().unwrap_or_default(),
        description: paragraphs([
            result.summary.clone().unwrap_or_default(),
            labelled("Detection result", result.detail.as_deref()),
            labelled("Insight", result.insight.as_deref()),
            labelled("Impact", result.impact.as_deref()),
            labelled("Affected", result.affected.as_deref()),
            labelled("Host name", result.hostname.as_deref()),
        ]),
        severity,
        // CVE scans name the CVE as the OID.
        cve_id: first_cve(result.cves.iter().map(String::as_str).chain(result.oid.as_deref())),
        rule_id: result.oid,
        cwe_ids: result.cwes,
        cvss_vector: result.vector,
        location: Location {
            host: result.host,
            port: result.port.as_deref().and_then(|p| p.parse().ok()),
            protocol: result.protocol,
            ..Location::default()
        },
        references: result.references,
        remediation: result.solution.map(Into::into),
        dismissed: false_positive.then(|| "OpenVAS marks this result a false positive".to_owned()),
        fingerprint,
        ..Finding::default()
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    fn read(data: &str) -> Result<crate::Report, ParseError> {
        let mut report = ReportBuilder::new(Format::Openvas);
        parse(data.as_bytes(), &mut report).map(|()| report.finish())
    }

    #[test]
    fn a_gmp_response_with_severities_and_an_old_nvt() {
        let xml = r#"<get_reports_response status="200"><report id="r"><report id="r">
<results start="1">
<result id="a"><name>OpenSSH Vulnerability</name><host>10.0.0.9<hostname>db.example</hostname></host><port>22/tcp</port>
<nvt oid="1.3.6.1.4.1.25623.1.0.1"><name>OpenSSH Vulnerability</name><tags>summary=OpenSSH is prone to a flaw.|solution_type=VendorFix</tags>
<severities score="9.8"><severity type="cvss_base_v3"><value>CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</value></severity></severities>
<solution type="VendorFix">Update to 9.3p2.</solution><refs><ref type="cve" id="CVE-2023-38408"/><ref type="url" id="https://www.openssh.com/security.html"/></refs></nvt>
<threat>Critical</threat><severity>9.8</severity><description>Installed version: 8.9</description></result>
<result id="b"><host>10.0.0.9</host><port>general/tcp</port><nvt oid="1.3.6.1.4.1.25623.1.0.2"><name>Old style</name>
<cve>CVE-2011-3389, CVE-2015-0204</cve><xref>URL:https://a.example/1, URL:https://a.example/2</xref></nvt>
<threat>False Positive</threat><severity>-1.0</severity></result>
</results></report></report></get_reports_response>"#;
        let report = read(xml).unwrap();
        assert_eq!(report.findings.len(), 2);
        let first = &report.findings[0];
        assert_eq!((first.severity, first.location.port), (Some(Severity::Critical), Some(22)));
        assert_eq!(first.cve_id.as_deref(), Some("CVE-2023-38408"));
        assert!(first.cvss_vector.as_deref().is_some_and(|v| v.starts_with("CVSS:3.1/")));
        assert_eq!(first.remediation.as_deref(), Some("Update to 9.3p2."));
        assert!(
            first.description.starts_with("OpenSSH is prone to a flaw.\n\nDetection result:\nInstalled version: 8.9")
        );
        let second = &report.findings[1];
        assert_eq!((second.cve_id.as_deref(), second.references.len()), (Some("CVE-2011-3389"), 2));
        assert!(second.dismissed.is_some());
        assert_eq!((second.location.port, second.location.protocol.as_deref()), (None, Some("tcp")));
    }

    #[test]
    fn a_malformed_report_names_the_line() {
        let error = read("<report>\n<results>\n</report>").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        let mut report = ReportBuilder::new(Format::Openvas);
        let error = parse(b"IP,NVT Name,NVT OID\n1.2.3.4,a,b\n1.2.3.4,\xff,c\n", &mut report).unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
    }
}

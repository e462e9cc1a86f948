//! Qualys reports.
//!
//! Variants read, XML: the scan report (`SCAN` › `IP` › `VULNS`/`PRACTICES`/
//! `INFOS` › `CAT` › `VULN`), the asset data report (`ASSET_DATA_REPORT` ›
//! `HOST_LIST` › `HOST` › `VULN_INFO`, details from `GLOSSARY` ›
//! `VULN_DETAILS`), the host detection list (`HOST_LIST_VM_DETECTION_OUTPUT`
//! › `HOST` › `DETECTION`) and the WAS report (`WAS_SCAN_REPORT`/
//! `WAS_WEBAPP_REPORT` › `VULNERABILITY`, details from `GLOSSARY` ›
//! `QID_LIST`); a report without detections is empty. CSV: scan and VM
//! exports (`IP`, `DNS`, `QID`, `Title`, `Type`, `Severity`, `Port`…) and the
//! PCI export (`VULN TITLE`, `SEVERITY` word, `Q_SEVERITY`), preamble lines
//! before the header skipped, columns found by name in any letter case.
//!
//! Severity: Qualys levels 1 Info, 2 Low, 3 Medium, 4 High, 5 Critical
//! (`Q_SEVERITY` before a worded `SEVERITY`); information gathered (type
//! `Ig`/`INFOS`) → Info. Fixed detections and accepted false positives are
//! marked dismissed.
//!
//! Fingerprint: XML — QID, host IP (else DNS name) and port; WAS — QID, URL
//! and parameter. CSV — the QID alone: a QID's rows on every host merge into
//! one finding, the first host the location, the description listing them
//! all.

use std::collections::HashMap;

use vulntrack_domain::vulnerability::Severity;

use super::{
    support::{Columns, csv_reader, is_blank, without_bom},
    web::{self, html_text, labelled, paragraphs, url_parts, urls},
    xml_tree::{self, Node},
};
use crate::{
    Finding, Location, ParseError, ReportBuilder,
    detect::{Head, Shape},
    finding::{cwe_number, first_cve, is_cve, is_v3_or_v4_vector, severity_from_word},
};

const FORMAT: &str = "qualys";

/// XML roots Qualys writes.
const ROOTS: &[&str] = &[
    "SCAN",
    "ASSET_DATA_REPORT",
    "HOST_LIST_VM_DETECTION_OUTPUT",
    "WAS_SCAN_REPORT",
    "WAS_WEBAPP_REPORT",
    "QUALYS_REPORT",
];

/// Bytes read to tell XML from CSV.
const HEAD: usize = 64 * 1024;

/// Lines searched for the CSV header.
const PREAMBLE_LINES: usize = 100;

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    report.scanner("Qualys", None);
    let data = without_bom(data);
    let head = String::from_utf8_lossy(data.get(..HEAD).unwrap_or(data));
    if starts_as_xml(&head) { parse_xml(data, report) } else { parse_csv(data, report) }
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    match head.xml_root() {
        Some("SCAN") => ["<VULNS", "<INFOS", "qualys", "Qualys"].iter().any(|m| head.text.contains(m)),
        Some(root) if ROOTS.contains(&root) => true,
        _ => {
            matches!(head.shape, Shape::Text | Shape::Xml)
                && !starts_as_xml(&head.text)
                && header_line(head.text.as_bytes()).is_some()
        }
    }
}

/// XML unless the `<` the text starts with is a comment and text follows it.
fn starts_as_xml(text: &str) -> bool {
    let mut rest = text.trim_start();
    while let Some(comment) = rest.strip_prefix("<!--") {
        match comment.find("-->") {
            Some(end) => rest = comment[end + 3..].trim_start(),
            None => return true,
        }
    }
    rest.starts_with('<')
}

/// One detection as any variant gives it.
#[derive(Debug, Default)]
struct Detection {
    qid: Option<String>,
    title: Option<String>,
    severity: Option<String>,
    kind: Option<String>,
    ip: Option<String>,
    dns: Option<String>,
    port: Option<String>,
    protocol: Option<String>,
    url: Option<String>,
    param: Option<String>,
    threat: Option<String>,
    impact: Option<String>,
    solution: Option<String>,
    result: Option<String>,
    category: Option<String>,
    status: Option<String>,
    cves: Vec<String>,
    cwes: Vec<u32>,
    vector: Option<String>,
    references: Vec<String>,
}

fn parse_xml(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    let document = xml_tree::read(FORMAT, data)?;
    let Some(root) = document.children.first() else {
        return Err(ParseError::new("not a valid qualys report: no root element"));
    };
    let glossary = glossary(root);
    match root.name.as_str() {
        "SCAN" => scan_report(root, report),
        "WAS_SCAN_REPORT" | "WAS_WEBAPP_REPORT" => was_report(root, &glossary, report),
        // The asset data report, the detection list and reports of their shape.
        _ => host_report(root, &glossary, report),
    }
    Ok(())
}

/// QID → its details (`VULN_DETAILS` of the asset data report, `QID` of WAS).
fn glossary(root: &Node) -> HashMap<String, &Node> {
    let mut details = HashMap::new();
    for node in root.find_all("VULN_DETAILS") {
        let qid = node.get("QID").or_else(|| node.attr("id").map(|id| id.trim_start_matches("qid_").to_owned()));
        if let Some(qid) = qid {
            details.insert(qid, node);
        }
    }
    for node in root.find_all("QID_LIST").into_iter().flat_map(|list| list.children("QID")) {
        if let Some(qid) = node.get("QID") {
            details.insert(qid, node);
        }
    }
    details
}

/// Fields of a VULN, VULN_DETAILS or WAS glossary entry.
fn describe(detection: &mut Detection, node: &Node) {
    let html = |name: &str| node.get(name).map(|v| html_text(&v));
    detection.title = detection.title.take().or_else(|| node.get("TITLE"));
    detection.severity =
        detection.severity.take().or_else(|| node.get("SEVERITY")).or_else(|| node.attr("severity").map(str::to_owned));
    detection.category = detection.category.take().or_else(|| node.get("CATEGORY"));
    detection.threat = detection
        .threat
        .take()
        .or_else(|| html("THREAT"))
        .or_else(|| html("DIAGNOSIS"))
        .or_else(|| html("DESCRIPTION"));
    detection.impact = detection.impact.take().or_else(|| html("IMPACT")).or_else(|| html("CONSEQUENCE"));
    detection.solution = detection.solution.take().or_else(|| html("SOLUTION"));
    if detection.result.is_none() {
        detection.result = html("RESULT");
    }
    for cve in node.items("CVE_ID_LIST", "CVE_ID") {
        detection.cves.extend(cve.get("ID").or_else(|| cve.value()));
        detection.references.extend(cve.get("URL"));
    }
    detection.cves.extend(node.attr("cveid").map(str::to_owned));
    detection.references.extend(node.items("VENDOR_REFERENCE_LIST", "VENDOR_REFERENCE").filter_map(|r| r.get("URL")));
    detection.cwes.extend(node.get("CWE").iter().flat_map(|c| c.split(',')).filter_map(|c| cwe_number(c.trim())));
    let cvss3 = node.find("CVSS3_SCORE").and_then(|s| s.get("CVSS3_BASE")).or_else(|| node.get("CVSS3_BASE"));
    detection.vector = detection.vector.take().or_else(|| cvss3.as_deref().and_then(|v| vector(v, "3.0")));
}

/// `SCAN` › `IP` › (`VULNS`|`PRACTICES`|`INFOS`) › `CAT` › `VULN`.
fn scan_report(root: &Node, report: &mut ReportBuilder) {
    for ip in root.children("IP") {
        for section in ["VULNS", "PRACTICES", "INFOS"] {
            for category in ip.items(section, "CAT") {
                for vuln in category.children("VULN") {
                    let mut detection = Detection {
                        qid: vuln.attr("number").map(str::to_owned),
                        kind: (section == "INFOS").then(|| "Ig".to_owned()),
                        ip: ip.attr("value").map(str::to_owned),
                        dns: ip.attr("name").map(str::to_owned),
                        port: category.attr("port").map(str::to_owned),
                        protocol: category.attr("protocol").map(str::to_owned),
                        category: category.attr("value").map(str::to_owned),
                        ..Detection::default()
                    };
                    describe(&mut detection, vuln);
                    push(report, detection);
                }
            }
        }
    }
}

/// `HOST` › `VULN_INFO` (asset data report) or `DETECTION` (detection list).
fn host_report(root: &Node, glossary: &HashMap<String, &Node>, report: &mut ReportBuilder) {
    for host in root.find_all("HOST") {
        let mut detections = host.find_all("VULN_INFO");
        detections.extend(host.find_all("DETECTION"));
        for item in detections {
            let qid = item.get("QID").or_else(|| {
                item.child("QID").and_then(|q| q.attr("id")).map(|id| id.trim_start_matches("qid_").to_owned())
            });
            let mut detection = Detection {
                severity: item.get("SEVERITY"),
                kind: item.get("TYPE"),
                ip: host.get("IP"),
                dns: host.get("DNS").or_else(|| host.get("NETBIOS")),
                port: item.get("PORT"),
                protocol: item.get("PROTOCOL"),
                result: item.get("RESULT").or_else(|| item.get("RESULTS")).map(|r| html_text(&r)),
                status: item.get("VULN_STATUS").or_else(|| item.get("STATUS")),
                vector: item.get("CVSS3_FINAL").as_deref().and_then(|v| vector(v, "3.0")),
                ..Detection::default()
            };
            if let Some(details) = qid.as_ref().and_then(|q| glossary.get(q)) {
                describe(&mut detection, details);
            }
            detection.qid = qid;
            push(report, detection);
        }
    }
}

/// WAS: `VULNERABILITY` with its QID's glossary entry.
fn was_report(root: &Node, glossary: &HashMap<String, &Node>, report: &mut ReportBuilder) {
    for item in root.find_all("VULNERABILITY") {
        let qid = item.get("QID");
        let url = item.get("URL");
        let parts = url.as_deref().map(url_parts).unwrap_or_default();
        let mut detection = Detection {
            ip: parts.host,
            port: parts.port.map(|p| p.to_string()),
            protocol: parts.scheme,
            url,
            param: item.get("PARAM"),
            status: item.get("STATUS"),
            ..Detection::default()
        };
        if let Some(details) = qid.as_ref().and_then(|q| glossary.get(q)) {
            describe(&mut detection, details);
        }
        detection.qid = qid;
        push(report, detection);
    }
}

/// A CVSS v3 vector as Qualys writes it: `CVSS:3.1/…`, or `7.5 (AV:N/…)`
/// under a column or element that names the version.
fn vector(value: &str, version: &str) -> Option<String> {
    let value = value.trim();
    if is_v3_or_v4_vector(value) {
        return Some(value.to_owned());
    }
    let inner = value.split_once('(')?.1.trim_end().strip_suffix(')')?.trim();
    inner.starts_with("AV:").then(|| format!("CVSS:{version}/{inner}"))
}

fn severity(detection: &Detection) -> Option<Severity> {
    let kind = detection.kind.as_deref().unwrap_or("").to_ascii_lowercase();
    if matches!(kind.as_str(), "ig" | "info" | "information gathered") {
        return Some(Severity::Info);
    }
    let level = detection.severity.as_deref()?.trim();
    match level.parse::<u8>() {
        Ok(1) => Some(Severity::Info),
        Ok(2) => Some(Severity::Low),
        Ok(3) => Some(Severity::Medium),
        Ok(4) => Some(Severity::High),
        Ok(5) => Some(Severity::Critical),
        Ok(_) => None,
        Err(_) => severity_from_word(level),
    }
}

fn finding(detection: Detection, fingerprint: String) -> Finding {
    let severity = severity(&detection);
    let status = detection.status.as_deref().unwrap_or("");
    let dismissed = match status.to_ascii_lowercase().as_str() {
        "fixed" => Some("Qualys reports this detection fixed".to_owned()),
        "accepted" | "approved" => Some("Qualys accepts this detection as a false positive".to_owned()),
        _ => None,
    };
    let host = detection.dns.clone().or_else(|| detection.ip.clone());
    Finding {
        title: detection
            .title
            .clone()
            .unwrap_or_else(|| detection.qid.as_ref().map(|q| format!("QID {q}")).unwrap_or_default()),
        description: paragraphs([
            detection.threat.clone().unwrap_or_default(),
            labelled("Impact", detection.impact.as_deref()),
            labelled("Result", detection.result.as_deref()),
            labelled("Category", detection.category.as_deref()),
            labelled("Parameter", detection.param.as_deref()),
        ]),
        severity,
        cve_id: first_cve(detection.cves.iter().flat_map(|c| c.split(',')).filter(|c| is_cve(c.trim()))),
        rule_id: detection.qid,
        cwe_ids: detection.cwes,
        cvss_vector: detection.vector,
        location: Location {
            url: detection.url,
            host,
            port: detection.port.as_deref().and_then(|p| p.parse().ok()).filter(|&p| p != 0),
            protocol: detection.protocol,
            ..Location::default()
        },
        references: detection.references.iter().flat_map(|r| urls(r)).collect(),
        remediation: detection.solution.map(Into::into),
        dismissed,
        fingerprint,
        ..Finding::default()
    }
}

fn push(report: &mut ReportBuilder, detection: Detection) {
    let qid = detection.qid.clone().unwrap_or_default();
    let fingerprint = match &detection.url {
        Some(url) => Finding::fingerprint_of(FORMAT, &[&qid, url, detection.param.as_deref().unwrap_or("")]),
        None => {
            let host = detection.ip.as_deref().or(detection.dns.as_deref()).unwrap_or("");
            Finding::fingerprint_of(FORMAT, &[&qid, host, detection.port.as_deref().unwrap_or("")])
        }
    };
    report.push(finding(detection, fingerprint));
}

/// The byte offset and line number (0-based) of the CSV header: the first
/// line with a `QID` column and an `IP` or title column.
fn header_line(data: &[u8]) -> Option<(usize, usize)> {
    let mut offset = 0;
    for (number, line) in data.split(|&b| b == b'\n').take(PREAMBLE_LINES).enumerate() {
        let line_text = String::from_utf8_lossy(line);
        let fields: Vec<String> =
            line_text.split(',').map(|f| f.trim().trim_matches('"').trim().to_ascii_uppercase()).collect();
        let has = |name: &str| fields.iter().any(|f| f == name);
        if has("QID") && ["IP", "TITLE", "VULN TITLE", "SEVERITY"].iter().any(|n| has(n)) {
            return Some((offset, number));
        }
        offset += line.len() + 1;
    }
    None
}

fn parse_csv(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    let data = without_bom(data);
    let Some((offset, skipped)) = header_line(data) else {
        return Err(ParseError::new("not a valid qualys report: no CSV header with a QID column"));
    };
    let body = data.get(offset..).unwrap_or_default();
    let located = |error: &csv::Error| {
        let mut error = ParseError::csv(FORMAT, error);
        error.line = error.line.map(|line| line + skipped as u64);
        error
    };
    let mut reader = csv_reader(body);
    let columns = Columns::new(reader.headers().map_err(|e| located(&e))?);
    let mut held = web::Affected::default();
    for row in reader.records() {
        let row = row.map_err(|e| located(&e))?;
        let get = |names: &[&str]| columns.text(&row, names);
        // Sections after the detections repeat a header or carry no QID.
        let Some(qid) = get(&["qid"]).filter(|q| !q.eq_ignore_ascii_case("qid")) else {
            continue;
        };
        let numeric = |name: &str| get(&[name]).filter(|v| v.parse::<u8>().is_ok());
        let cvss3 = ["cvss3.1 base", "cvss3 base", "cvss3.1", "cvss3"]
            .iter()
            .find_map(|name| get(&[name]).and_then(|v| vector(&v, if name.contains("3.1") { "3.1" } else { "3.0" })));
        let detection = Detection {
            title: get(&["title", "vuln title", "vulnerability title"]),
            severity: numeric("q_severity").or_else(|| get(&["severity", "severity level"])),
            kind: get(&["type"]),
            ip: get(&["ip", "ip address"]),
            dns: get(&["dns", "hostname", "fqdn", "dns name", "netbios"]),
            port: get(&["port"]),
            protocol: get(&["protocol"]),
            threat: get(&["threat"]).map(|t| html_text(&t)),
            impact: get(&["impact"]).map(|t| html_text(&t)),
            solution: get(&["solution"]).map(|t| html_text(&t)),
            result: get(&["results", "result"]).map(|t| html_text(&t)),
            category: get(&["category"]),
            status: get(&["vuln status", "status"]).or_else(|| get(&["false positive status"])),
            cves: get(&["cve id", "cveid", "cve", "cve ids"]).into_iter().collect(),
            vector: cvss3,
            references: get(&["vendor reference"]).into_iter().collect(),
            qid: Some(qid.clone()),
            ..Detection::default()
        };
        let place = match (&detection.dns, &detection.ip, &detection.port) {
            (Some(name), _, Some(port)) | (None, Some(name), Some(port)) => format!("{name} {port}"),
            (Some(name), _, None) | (None, Some(name), None) => name.clone(),
            _ => String::new(),
        };
        held.add(finding(detection, Finding::fingerprint_of(FORMAT, &[&qid])), place);
    }
    held.push_all(report, "Found on");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    fn read(data: &str) -> Result<crate::Report, ParseError> {
        let mut report = ReportBuilder::new(Format::Qualys);
        parse(data.as_bytes(), &mut report).map(|()| report.finish())
    }

    #[test]
    fn an_asset_data_report_takes_details_from_its_glossary() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8" ?>
<!DOCTYPE ASSET_DATA_REPORT SYSTEM "https://qualysguard.qualys.com/asset_data_report.dtd">
<ASSET_DATA_REPORT><HOST_LIST><HOST><IP network_id="0">10.0.0.7</IP><DNS><![CDATA[web.example]]></DNS>
<VULN_INFO_LIST><VULN_INFO><QID id="qid_38170">38170</QID><TYPE>Vuln</TYPE><PORT>443</PORT><PROTOCOL>tcp</PROTOCOL>
<RESULT><![CDATA[Certificate expired]]></RESULT><VULN_STATUS>Active</VULN_STATUS><CVSS3_FINAL>5.3 (AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N)</CVSS3_FINAL></VULN_INFO>
<VULN_INFO><QID id="qid_6">6</QID><TYPE>Ig</TYPE><VULN_STATUS>Fixed</VULN_STATUS></VULN_INFO></VULN_INFO_LIST></HOST></HOST_LIST>
<GLOSSARY><VULN_DETAILS_LIST><VULN_DETAILS id="qid_38170"><QID id="qid_38170">38170</QID><TITLE><![CDATA[SSL Certificate - Expired]]></TITLE>
<SEVERITY>4</SEVERITY><THREAT><![CDATA[The certificate has expired.<P>Clients warn.]]></THREAT><SOLUTION><![CDATA[Renew it.]]></SOLUTION>
<CVE_ID_LIST><CVE_ID><ID><![CDATA[CVE-2020-0001]]></ID><URL><![CDATA[https://nvd.nist.gov/vuln/detail/CVE-2020-0001]]></URL></CVE_ID></CVE_ID_LIST></VULN_DETAILS>
<VULN_DETAILS id="qid_6"><QID id="qid_6">6</QID><TITLE>DNS Host Name</TITLE><SEVERITY>2</SEVERITY></VULN_DETAILS></VULN_DETAILS_LIST></GLOSSARY>
</ASSET_DATA_REPORT>"#;
        let report = read(xml).unwrap();
        assert_eq!(report.findings.len(), 2);
        let first = &report.findings[0];
        assert_eq!((first.title.as_str(), first.severity), ("SSL Certificate - Expired", Some(Severity::High)));
        assert_eq!((first.rule_id.as_deref(), first.cve_id.as_deref()), (Some("38170"), Some("CVE-2020-0001")));
        assert_eq!(first.cvss_vector.as_deref(), Some("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"));
        assert_eq!((first.location.host.as_deref(), first.location.port), (Some("web.example"), Some(443)));
        assert!(first.description.starts_with("The certificate has expired.\nClients warn."), "{}", first.description);
        let second = &report.findings[1];
        assert_eq!((second.severity, second.dismissed.is_some()), (Some(Severity::Info), true));
    }

    #[test]
    fn a_scan_csv_with_a_preamble_merges_a_qid_across_hosts() {
        let csv = "\"Scan Results\",\"scan/1.2\"\n\"Company\",\"Example\"\n\n\
                   \"IP\",\"DNS\",\"QID\",\"Title\",\"Type\",\"Severity\",\"Port\",\"Protocol\",\"CVE ID\",\"CVSS3.1 Base\"\n\
                   \"10.0.0.1\",\"a.example\",\"105971\",\"EOL Software\",\"Vuln\",\"5\",\"80\",\"tcp\",\"CVE-2011-3389, CVE-2014-3566\",\"9.8 (AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H)\"\n\
                   \"10.0.0.2\",\"b.example\",\"105971\",\"EOL Software\",\"Vuln\",\"5\",\"80\",\"tcp\",\"\",\"\"\n";
        let report = read(csv).unwrap();
        assert_eq!(report.findings.len(), 1);
        let finding = &report.findings[0];
        assert_eq!((finding.severity, finding.occurrences), (Some(Severity::Critical), 2));
        assert_eq!(finding.cve_id.as_deref(), Some("CVE-2011-3389"));
        assert!(finding.cvss_vector.as_deref().is_some_and(|v| v.starts_with("CVSS:3.1/AV:N")));
        assert!(finding.description.contains("- b.example 80"), "{}", finding.description);
    }

    #[test]
    fn a_malformed_report_names_the_line() {
        let error = read("<SCAN>\n<IP value=\"1\">\n</SCAN>").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        let mut report = ReportBuilder::new(Format::Qualys);
        let error = parse(b"preamble\nIP,QID,Title\n1.2.3.4,1,a\n1.2.3.4,2,\xff\n", &mut report).unwrap_err();
        assert_eq!(error.line, Some(4), "{error}");
    }
}

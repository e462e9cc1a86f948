//! Nessus and Tenable reports.
//!
//! Variants read: `.nessus` XML (`NessusClientData_v2` › `Report` ›
//! `ReportHost` › `ReportItem`, Nessus and Tenable WAS exports), and CSV
//! exports — Nessus (default or all columns), Tenable WAS, Tenable.sc
//! (`Plugin`, `Plugin Name`, `IP Address`, `Severity`…) and Tenable VM
//! (`definition.*`, `asset.*`, often `;`-separated) — columns found by name
//! in any letter case. Rows the export marks `Fixed` are dismissed.
//!
//! Severity: XML `severity` 0 Info, 1 Low, 2 Medium, 3 High, 4 Critical
//! (else `risk_factor`); CSV `Risk`/`Severity` words (None → Info) or the
//! same 0–4 codes, else the CVSS v3 then v2 base score band.
//!
//! Fingerprint: XML — `pluginID` (else the plugin name) alone: a plugin's
//! items on every host and port merge into one finding, the first host the
//! location, the description listing them all. CSV — `Plugin ID` (else
//! `Name`), host and port: the rows Nessus writes per CVE of one plugin on
//! one port merge; rows without a name are skipped.

use vulntrack_domain::vulnerability::Severity;

use super::{
    support::{Columns, csv_reader, is_blank, text},
    web::{self, paragraphs, url_parts, urls},
    xml_tree::{self, Node},
};
use crate::{
    Finding, Location, ParseError, ReportBuilder,
    detect::{Head, Shape},
    finding::{cwe_number, first_cve, is_cve, is_v3_or_v4_vector, severity_from_score, severity_from_word},
};

const FORMAT: &str = "nessus";

/// The plugin whose output names the Nessus version.
const SCAN_INFORMATION: &str = "19506";

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    if super::support::without_bom(data).trim_ascii_start().starts_with(b"<") {
        parse_xml(data, report)
    } else {
        parse_csv(data, report)
    }
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    match head.shape {
        Shape::Xml => head.xml_root() == Some("NessusClientData_v2"),
        Shape::Text => {
            let header = head.first_line().to_ascii_lowercase();
            header.contains("plugin")
                && (header.contains("risk") || header.contains("severity"))
                && ["host", "ip address", "asset"].iter().any(|h| header.contains(h))
        }
        _ => false,
    }
}

fn parse_xml(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    let document = xml_tree::read(FORMAT, data)?;
    let Some(root) = document.child("NessusClientData_v2") else {
        return Err(ParseError::new("not a valid nessus report: the root element is not <NessusClientData_v2>"));
    };
    let mut version = None;
    let mut held = web::Affected::default();
    for host in root.items("Report", "ReportHost") {
        let name = host.attr("name").map(str::to_owned);
        let tag = |wanted: &str| {
            host.items("HostProperties", "tag").find(|t| t.attr("name") == Some(wanted)).and_then(Node::value)
        };
        let host_name = name.clone().or_else(|| tag("host-fqdn")).or_else(|| tag("host-ip")).unwrap_or_default();
        for item in host.children("ReportItem") {
            if item.attr("pluginID") == Some(SCAN_INFORMATION) && version.is_none() {
                version = item.get("plugin_output").as_deref().and_then(nessus_version);
            }
            let finding = xml_finding(item, &host_name);
            let place = match (item.attr("port"), item.attr("protocol")) {
                (Some(port), Some(protocol)) if port != "0" => format!("{host_name} {port}/{protocol}"),
                _ => host_name.clone(),
            };
            held.add(finding, place);
        }
    }
    let was = root.children("Report").any(|r| r.attr("type") == Some("was"));
    report.scanner(if was { "Tenable WAS" } else { "Nessus" }, version.as_deref());
    held.push_all(report, "Found on");
    Ok(())
}

/// "Nessus version : 10.6.1" in the scan information plugin's output.
fn nessus_version(output: &str) -> Option<String> {
    output.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "Nessus version").then(|| value.trim().to_owned()).filter(|v| !v.is_empty())
    })
}

fn xml_finding(item: &Node, host: &str) -> Finding {
    let plugin = item.attr("pluginID").map(str::to_owned);
    let name = item.attr("pluginName").map(str::to_owned).or_else(|| item.get("plugin_name"));
    let severity = match item.attr("severity").and_then(|s| s.parse::<u8>().ok()) {
        Some(code) => severity_of_code(code),
        None => item.get("risk_factor").as_deref().and_then(severity_from_word),
    };
    let cves: Vec<String> = item.children("cve").filter_map(Node::value).collect();
    let mut cwes: Vec<u32> = item.children("cwe").filter_map(Node::value).filter_map(|c| cwe_number(&c)).collect();
    cwes.extend(item.children("xref").filter_map(Node::value).filter_map(|x| xref_cwe(&x)));
    cwes.dedup();
    let output = item.get("plugin_output").map(|o| format!("Plugin output:\n{o}")).unwrap_or_default();
    let key = plugin.clone().or_else(|| name.clone()).unwrap_or_default();
    Finding {
        title: name.unwrap_or_default(),
        description: paragraphs([
            item.get("synopsis").unwrap_or_default(),
            item.get("description").unwrap_or_default(),
            output,
        ]),
        severity,
        rule_id: plugin,
        cve_id: first_cve(cves.iter().map(String::as_str)),
        cwe_ids: cwes,
        cvss_vector: item
            .get("cvss3_vector")
            .and_then(|v| vector(&v, "3.0"))
            .or_else(|| item.get("cvss4_vector").and_then(|v| vector(&v, "4.0"))),
        location: location(host, item.attr("port"), item.attr("protocol")),
        references: item.children("see_also").filter_map(Node::value).flat_map(|s| urls(&s)).collect(),
        remediation: item.get("solution").filter(|s| !s.eq_ignore_ascii_case("n/a")).map(Into::into),
        fingerprint: Finding::fingerprint_of(FORMAT, &[&key]),
        ..Finding::default()
    }
}

fn severity_of_code(code: u8) -> Option<Severity> {
    match code {
        0 => Some(Severity::Info),
        1 => Some(Severity::Low),
        2 => Some(Severity::Medium),
        3 => Some(Severity::High),
        4 => Some(Severity::Critical),
        _ => None,
    }
}

/// `CWE:79` in an `xref`.
fn xref_cwe(xref: &str) -> Option<u32> {
    let (kind, id) = xref.split_once(':')?;
    if kind.trim().eq_ignore_ascii_case("CWE") { cwe_number(id) } else { None }
}

/// A CVSS v3.x or v4.0 vector as Nessus writes it (`CVSS:3.0/AV:N/…`); a
/// bare `AV:…` vector takes the version its field names.
fn vector(value: &str, version: &str) -> Option<String> {
    let value = value.trim();
    if is_v3_or_v4_vector(value) {
        Some(value.to_owned())
    } else {
        value.starts_with("AV:").then(|| format!("CVSS:{version}/{value}"))
    }
}

/// A host (a URL for Tenable WAS) with the item's port; port 0 is "no port".
fn location(host: &str, port: Option<&str>, protocol: Option<&str>) -> Location {
    let port = port.and_then(|p| p.parse::<u16>().ok()).filter(|&p| p != 0);
    let protocol = protocol.map(str::to_owned);
    if host.contains("://") {
        let parts = url_parts(host);
        return Location {
            url: Some(host.to_owned()),
            host: parts.host,
            port: port.or(parts.port),
            protocol: protocol.or(parts.scheme),
            ..Location::default()
        };
    }
    Location { host: Some(host.to_owned()).filter(|h| !h.is_empty()), port, protocol, ..Location::default() }
}

const PLUGIN: &[&str] = &["plugin id", "plugin", "pluginid", "definition.id"];
const NAME: &[&str] = &["name", "plugin name", "definition.name"];
const RISK: &[&str] = &["risk", "severity", "risk factor", "definition.severity"];
const HOST: &[&str] = &[
    "host",
    "ip address",
    "dns name",
    "asset name",
    "asset.host_name",
    "asset.display_fqdn",
    "asset.name",
    "asset.display_ipv4_address",
    "ip",
];
const CVSS3_SCORE: &[&str] = &["cvss v3.0 base score", "cvssv3", "cvss v3 base score", "cvss3 base score"];
const CVSS2_SCORE: &[&str] = &["cvss v2.0 base score", "cvss", "cvss v2 base score", "cvss base score"];
/// Vector columns and the CVSS version a bare `AV:…` vector in them has.
const VECTORS: &[(&str, &str)] = &[
    ("cvss v3.0 vector", "3.0"),
    ("cvss v3 vector", "3.0"),
    ("cvssv3 vector", "3.0"),
    ("cvss3 vector", "3.0"),
    ("definition.cvss3.base_vector", "3.0"),
    ("cvss v4.0 vector", "4.0"),
    ("cvss v4 vector", "4.0"),
    ("definition.cvss4.base_vector", "4.0"),
];

fn parse_csv(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    let mut reader = csv_reader(data);
    let columns = Columns::new(reader.headers().map_err(|e| ParseError::csv(FORMAT, &e))?);
    if !NAME.iter().chain(PLUGIN).any(|c| columns.has(c)) {
        return Err(ParseError::at("not a valid nessus report: the CSV header has no Plugin ID or Name column", 1, 1));
    }
    for row in reader.records() {
        let row = row.map_err(|e| ParseError::csv(FORMAT, &e))?;
        let line = row.position().map_or(0, |p| p.line());
        let Some(name) = columns.text(&row, NAME) else {
            report.warn(format!("line {line}: a row without a plugin name is skipped"));
            continue;
        };
        report.push(csv_finding(&columns, &row, name));
    }
    Ok(())
}

fn csv_finding(columns: &Columns, row: &csv::StringRecord, name: String) -> Finding {
    let get = |names: &[&str]| columns.text(row, names);
    let plugin = get(PLUGIN);
    let host = get(HOST).unwrap_or_default();
    let port = get(&["port"]);
    let score = |names: &[&str]| get(names).and_then(|s| s.parse::<f64>().ok()).map(severity_from_score);
    let severity = get(RISK)
        .and_then(|risk| match risk.parse::<u8>() {
            Ok(code) => severity_of_code(code),
            Err(_) => severity_from_word(&risk),
        })
        .or_else(|| score(CVSS3_SCORE))
        .or_else(|| score(CVSS2_SCORE));
    let cves = get(&["cve", "definition.cve"]).unwrap_or_default();
    let xrefs = get(&["xref", "cross references", "definition.xrefs"]).unwrap_or_default();
    let mut cwes: Vec<u32> = split_ids(&xrefs).filter_map(xref_cwe).collect();
    cwes.extend(split_ids(&get(&["cwe", "definition.cwe"]).unwrap_or_default()).filter_map(cwe_number));
    cwes.dedup();
    let fixed = get(&["state", "vulnerability state"]).is_some_and(|s| s.eq_ignore_ascii_case("fixed"));
    let output = get(&["plugin output", "plugin text", "output"]).map(|o| format!("Plugin output:\n{o}"));
    let key = plugin.clone().unwrap_or_else(|| name.clone());
    Finding {
        fingerprint: Finding::fingerprint_of(FORMAT, &[&key, &host, port.as_deref().unwrap_or("")]),
        title: name,
        description: paragraphs([
            get(&["synopsis", "definition.synopsis"]).unwrap_or_default(),
            get(&["description", "definition.description"]).unwrap_or_default(),
            output.unwrap_or_default(),
        ]),
        severity,
        rule_id: plugin,
        cve_id: first_cve(split_ids(&cves).filter(|id| is_cve(id))),
        cwe_ids: cwes,
        cvss_vector: VECTORS.iter().find_map(|(column, version)| get(&[column]).and_then(|v| vector(&v, version))),
        location: location(&host, port.as_deref(), get(&["protocol"]).as_deref()),
        references: get(&["see also", "definition.see_also"]).as_deref().map(urls).unwrap_or_default(),
        remediation: text(get(&["solution", "definition.solution"]).as_deref())
            .filter(|s| !s.eq_ignore_ascii_case("n/a"))
            .map(Into::into),
        dismissed: fixed.then(|| "Tenable reports this vulnerability fixed".to_owned()),
        ..Finding::default()
    }
}

/// Ids in a cell that lists several (`CVE-1, CVE-2` or one a line).
fn split_ids(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([',', ';', '\n', ' ']).map(str::trim).filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    fn read(data: &str) -> Result<crate::Report, ParseError> {
        read_bytes(data.as_bytes())
    }

    fn read_bytes(data: &[u8]) -> Result<crate::Report, ParseError> {
        let mut report = ReportBuilder::new(Format::Nessus);
        parse(data, &mut report).map(|()| report.finish())
    }

    #[test]
    fn xml_items_of_one_plugin_merge_across_hosts() {
        let xml = r#"<?xml version="1.0" ?>
<NessusClientData_v2><Report name="r">
<ReportHost name="10.0.0.1"><HostProperties><tag name="host-ip">10.0.0.1</tag></HostProperties>
<ReportItem port="0" svc_name="general" protocol="tcp" severity="0" pluginID="19506" pluginName="Nessus Scan Information">
<plugin_output>Nessus version : 10.6.1
Plugin feed version : 202401010000</plugin_output></ReportItem>
<ReportItem port="443" svc_name="www" protocol="tcp" severity="4" pluginID="200162" pluginName="PHP 8.2.x &lt; 8.2.20 Multiple Vulnerabilities">
<cve>CVE-2024-4577</cve><cve>CVE-2024-5458</cve><cvss3_vector>CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</cvss3_vector>
<cvss_vector>CVSS2#AV:N/AC:L/Au:N/C:C/I:C/A:C</cvss_vector><xref>CWE:78</xref><see_also>https://php.net/ChangeLog-8.php#8.2.20
https://example.com/b</see_also><solution>Upgrade to PHP 8.2.20.</solution></ReportItem>
</ReportHost>
<ReportHost name="10.0.0.2"><ReportItem port="8443" protocol="tcp" severity="4" pluginID="200162" pluginName="PHP 8.2.x &lt; 8.2.20 Multiple Vulnerabilities"/></ReportHost>
</Report></NessusClientData_v2>"#;
        let report = read(xml).unwrap();
        assert_eq!(report.scanner.as_deref(), Some("Nessus 10.6.1"));
        assert_eq!(report.findings.len(), 2);
        let php = &report.findings[1];
        assert_eq!((php.severity, php.occurrences), (Some(Severity::Critical), 2));
        assert_eq!(php.title, "PHP 8.2.x < 8.2.20 Multiple Vulnerabilities");
        assert_eq!((php.cve_id.as_deref(), php.cwe_ids.as_slice()), (Some("CVE-2024-4577"), &[78][..]));
        assert!(php.cvss_vector.as_deref().is_some_and(|v| v.starts_with("CVSS:3.0/")));
        assert_eq!((php.location.host.as_deref(), php.location.port), (Some("10.0.0.1"), Some(443)));
        assert_eq!(php.references.len(), 2);
        assert!(php.description.contains("- 10.0.0.2 8443/tcp"), "{}", php.description);
    }

    #[test]
    fn a_tenable_sc_csv_and_its_severity_words() {
        let csv = "\"Plugin\",\"Plugin Name\",\"Family\",\"Severity\",\"IP Address\",\"Protocol\",\"Port\",\"CVE\",\"Cross References\"\n\
                   \"51192\",\"SSL Certificate Cannot Be Trusted\",\"General\",\"Medium\",\"10.0.0.5\",\"TCP\",\"443\",\"\",\"CWE:295\"\n\
                   \"51192\",\"SSL Certificate Cannot Be Trusted\",\"General\",\"Medium\",\"10.0.0.5\",\"TCP\",\"443\",\"\",\"\"\n\
                   \"10863\",\"\",\"General\",\"Info\",\"10.0.0.5\",\"TCP\",\"443\",\"\",\"\"\n";
        let report = read(csv).unwrap();
        assert_eq!(report.findings.len(), 1);
        let finding = &report.findings[0];
        assert_eq!((finding.rule_id.as_deref(), finding.severity), (Some("51192"), Some(Severity::Medium)));
        assert_eq!((finding.occurrences, finding.cwe_ids.as_slice()), (2, &[295][..]));
        assert_eq!(report.warnings.len(), 1);
    }

    #[test]
    fn a_semicolon_separated_tenable_vm_export() {
        let csv = "asset.name;definition.id;definition.name;severity;port;protocol;definition.cvss3.base_vector;definition.cwe;state\n\
                   web1;33851;Network daemons not managed by the package system;Low;0;TCP;AV:N/AC:H/PR:L/UI:N/S:U/C:N/I:L/A:N;200;FIXED\n";
        let report = read(csv).unwrap();
        let finding = &report.findings[0];
        assert_eq!((finding.rule_id.as_deref(), finding.severity), (Some("33851"), Some(Severity::Low)));
        assert_eq!((finding.location.host.as_deref(), finding.location.port), (Some("web1"), None));
        assert_eq!(finding.cvss_vector.as_deref(), Some("CVSS:3.0/AV:N/AC:H/PR:L/UI:N/S:U/C:N/I:L/A:N"));
        assert_eq!((finding.cwe_ids.as_slice(), finding.dismissed.is_some()), (&[200][..], true));
    }

    #[test]
    fn a_malformed_report_names_the_line() {
        let error = read_bytes(b"Plugin ID,Risk,Host,Name\n1,High,h,n\n2,High,\xff,n\n").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        let error = read("<NessusClientData_v2>\n<Report>\n</ReportHost></NessusClientData_v2>").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
    }
}

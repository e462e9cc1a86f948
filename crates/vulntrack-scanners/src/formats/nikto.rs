//! Nikto reports.
//!
//! Variants read: XML (`-Format xml`, nxmlversion 1.1/1.2, Nikto 2.1–2.5:
//! `niktoscan` › `scandetails` › `item` with `id`, `osvdbid`, `osvdblink`,
//! `method` and `description`, `uri`, `namelink`, `references`; several
//! hosts nest `niktoscan` in a wrapper `niktoscan`); JSON (`-Format json`:
//! one host object or a list of them, `host`, `ip`, `port`,
//! `vulnerabilities[]` with `id`, `OSVDB`, `method`, `url`, `msg`,
//! `references`).
//!
//! Severity: Nikto rates nothing. An item citing an OSVDB entry (id other
//! than 0) is a known vulnerability → Medium; every other item → Info.
//!
//! Fingerprint: target host name (else IP), port and message, and for XML
//! the item URI and method too. In JSON a message repeated on several URLs
//! merges into one finding listing them. The item id is not part of it:
//! one id covers many checks (999100 is every uncommon header).

use serde::Deserialize;
use serde_json::Value;
use vulntrack_domain::vulnerability::Severity;

use super::{
    support::{Lenient, from_json, is_blank, one_or_many, starts_as_json, string_list},
    web::{self, paragraphs, url_parts, urls},
    xml_tree::{self, Node},
};
use crate::{
    Finding, Location, ParseError, ReportBuilder,
    detect::{Head, Shape},
};

const FORMAT: &str = "nikto";

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    if starts_as_json(data) { parse_json(data, report) } else { parse_xml(data, report) }
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    match head.shape {
        Shape::Xml => head.xml_root() == Some("niktoscan"),
        Shape::Json => head.has_key("vulnerabilities") && head.has_key("msg") && head.has_key("banner"),
        _ => false,
    }
}

/// One Nikto item as either shape gives it.
#[derive(Debug, Default)]
struct Item {
    id: Option<String>,
    method: Option<String>,
    uri: Option<String>,
    url: Option<String>,
    message: Option<String>,
    osvdb: Option<String>,
    references: Vec<String>,
    host: Option<String>,
    port: Option<u16>,
    scheme: Option<String>,
}

fn parse_xml(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    let document = xml_tree::read(FORMAT, data)?;
    let Some(root) = document.child("niktoscan") else {
        return Err(ParseError::new("not a valid nikto report: the root element is not <niktoscan>"));
    };
    let version = std::iter::once(root).chain(root.find_all("niktoscan")).find_map(|scan| scan.attr("version"));
    report.scanner("Nikto", version);
    let mut held = web::Affected::default();
    for details in root.find_all("scandetails") {
        let site = details.attr("sitename").map(url_parts).unwrap_or_default();
        let host = details.attr("targethostname").or(details.attr("targetip")).map(str::to_owned);
        let port = details.attr("targetport").and_then(|p| p.parse().ok());
        for item in details.find_all("item") {
            let item = xml_item(item, host.clone().or(site.host.clone()), port.or(site.port), site.scheme.clone());
            hold(&mut held, item, true);
        }
    }
    held.push_all(report, "Found at");
    Ok(())
}

fn xml_item(item: &Node, host: Option<String>, port: Option<u16>, scheme: Option<String>) -> Item {
    let mut references: Vec<String> = item.attr("osvdblink").map(urls).unwrap_or_default();
    references.extend(item.get("references").as_deref().map(urls).unwrap_or_default());
    Item {
        id: item.attr("id").map(str::to_owned),
        method: item.attr("method").map(str::to_owned),
        uri: item.get("uri"),
        url: item.get("namelink"),
        message: item.get("description"),
        osvdb: item.attr("osvdbid").map(str::to_owned),
        references,
        host,
        port,
        scheme,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonHost {
    host: Lenient,
    ip: Lenient,
    port: Lenient,
    vulnerabilities: Vec<JsonItem>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonItem {
    id: Lenient,
    #[serde(rename = "OSVDB")]
    osvdb: Lenient,
    method: Lenient,
    url: Lenient,
    msg: Lenient,
    references: Value,
}

fn parse_json(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    let value: Value = from_json(FORMAT, data)?;
    let hosts: Vec<JsonHost> = one_or_many(value)
        .map_err(|e| ParseError::new(format!("not a valid nikto report: a host is malformed: {e}")))?;
    report.scanner("Nikto", None);
    let mut held = web::Affected::default();
    for host in hosts {
        let port = host.port.text().and_then(|p| p.parse().ok());
        for item in host.vulnerabilities {
            let references = string_list(&item.references).iter().flat_map(|r| urls(r)).collect();
            let item = Item {
                id: item.id.text(),
                method: item.method.text(),
                uri: item.url.text(),
                message: item.msg.text(),
                osvdb: item.osvdb.text(),
                references,
                host: host.host.text().or_else(|| host.ip.text()),
                port,
                ..Item::default()
            };
            hold(&mut held, item, false);
        }
    }
    held.push_all(report, "Found at");
    Ok(())
}

/// `by_request`: XML items are told apart by URI and method as well; JSON
/// ones merge across URIs.
fn hold(held: &mut web::Affected, item: Item, by_request: bool) {
    let port = item.port.map(|p| p.to_string()).unwrap_or_default();
    let (uri, method) = match by_request {
        true => (item.uri.as_deref().unwrap_or(""), item.method.as_deref().unwrap_or("")),
        false => ("", ""),
    };
    let fingerprint = Finding::fingerprint_of(
        FORMAT,
        &[item.host.as_deref().unwrap_or(""), &port, item.message.as_deref().unwrap_or(""), uri, method],
    );
    let osvdb = item.osvdb.filter(|id| !id.is_empty() && id != "0");
    let severity = if osvdb.is_some() { Severity::Medium } else { Severity::Info };
    let osvdb = osvdb.map(|id| format!("OSVDB-{id}")).unwrap_or_default();
    let place = item.url.clone().or_else(|| item.uri.clone()).unwrap_or_default();
    let request = match (&item.method, &item.uri) {
        (Some(method), Some(uri)) => format!("Request: {method} {uri}"),
        _ => String::new(),
    };
    let finding = Finding {
        title: item.message.clone().unwrap_or_default(),
        description: paragraphs([item.message.clone().unwrap_or_default(), request, osvdb]),
        severity: Some(severity),
        rule_id: item.id,
        location: Location {
            url: item.url.or(item.uri),
            host: item.host,
            port: item.port,
            protocol: item.scheme,
            ..Location::default()
        },
        references: item.references,
        fingerprint,
        ..Finding::default()
    };
    held.add(finding, place);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    fn read(data: &str) -> Result<crate::Report, ParseError> {
        let mut report = ReportBuilder::new(Format::Nikto);
        parse(data.as_bytes(), &mut report).map(|()| report.finish())
    }

    #[test]
    fn a_json_list_of_hosts_from_nikto_2_5() {
        let json = r#"[{"host":"a.example","ip":"10.0.0.1","port":"80","banner":"","vulnerabilities":[
            {"id":"999986","references":"https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-Frame-Options","method":"GET","url":"/","msg":"/: The anti-clickjacking X-Frame-Options header is not present."}]},
            {"host":"b.example","ip":"10.0.0.2","port":"443","banner":"","vulnerabilities":[
            {"id":"999986","method":"GET","url":"/","msg":"/: The anti-clickjacking X-Frame-Options header is not present."}]}]"#;
        let report = read(json).unwrap();
        assert_eq!(report.findings.len(), 2);
        let first = &report.findings[0];
        assert_eq!((first.rule_id.as_deref(), first.severity), (Some("999986"), Some(Severity::Info)));
        assert_eq!((first.location.host.as_deref(), first.location.port), (Some("a.example"), Some(80)));
        assert_eq!(first.references.len(), 1);
    }

    #[test]
    fn a_json_message_on_several_urls_is_one_finding() {
        let json = r#"{"host":"a.example","ip":"10.0.0.1","port":"443","banner":"","vulnerabilities":[
            {"id":"999100","OSVDB":"0","method":"GET","url":"/","msg":"Uncommon header 'x-a' found, with contents: 1"},
            {"id":"999100","OSVDB":"0","method":"GET","url":"/b","msg":"Uncommon header 'x-a' found, with contents: 1"},
            {"id":"999100","OSVDB":"0","method":"GET","url":"/","msg":"Uncommon header 'x-b' found, with contents: 2"}]}"#;
        let report = read(json).unwrap();
        assert_eq!(report.findings.len(), 2);
        assert_eq!(report.findings[0].occurrences, 2);
        assert!(report.findings[0].description.contains("Found at:\n- /\n- /b"), "{}", report.findings[0].description);
    }

    #[test]
    fn xml_items_of_several_hosts() {
        let xml = r#"<?xml version="1.0" ?>
<!DOCTYPE niktoscan SYSTEM "/usr/share/doc/nikto/nikto.dtd">
<niktoscan><niktoscan version="2.5.0" nxmlversion="1.2">
<scandetails targetip="10.0.0.1" targethostname="a.example" targetport="80" sitename="http://a.example:80/">
<item id="001234" osvdbid="3092" osvdblink="http://osvdb.org/3092" method="GET">
<description><![CDATA[/admin/: This might be interesting.]]></description><uri><![CDATA[/admin/]]></uri>
<namelink><![CDATA[http://a.example:80/admin/]]></namelink></item>
</scandetails></niktoscan></niktoscan>"#;
        let report = read(xml).unwrap();
        assert_eq!(report.scanner.as_deref(), Some("Nikto 2.5.0"));
        let finding = &report.findings[0];
        assert_eq!(finding.location.url.as_deref(), Some("http://a.example:80/admin/"));
        assert_eq!(finding.references, ["http://osvdb.org/3092"]);
        assert!(finding.description.contains("OSVDB-3092"));
        assert_eq!(finding.severity, Some(Severity::Medium));
    }

    #[test]
    fn a_malformed_report_names_the_line() {
        let error = read("{\"host\": \"a\",\n\"vulnerabilities\": [\n{\"id\": }]}").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        let error = read("<niktoscan>\n<scandetails>\n</niktoscan>").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
    }
}

//! OWASP ZAP reports.
//!
//! Variants read: the traditional XML report and "XML plus" (`OWASPZAPReport`
//! › `site` › `alerts` › `alertitem`, with `instances`, or the `uri`/`param`
//! of ZAP before 2.5 directly in the item); the traditional JSON report
//! (`site[]` › `alerts[]`, the same fields as strings, `site` also as a
//! single object); and the API's alert list (`{"alerts": [...]}`, one alert
//! per instance, `risk`/`confidence` as words). Request and response
//! headers and bodies of "XML plus" are not kept.
//!
//! Severity: `riskcode` 0 Info, 1 Low, 2 Medium, 3 High (else the first word
//! of `riskdesc`/`risk`). Confidence 0 ("False Positive") marks the finding
//! dismissed.
//!
//! Fingerprint: `pluginid`, `alertRef`, alert title, severity, confidence,
//! site (`site@name`, or the scheme, host and port of the URL) — one finding
//! per `alertitem`; its instances are counted as occurrences, the first
//! instance's URL is the location and the instances are listed in the
//! description.

use serde::Deserialize;
use serde_json::Value;
use vulntrack_domain::vulnerability::Severity;

use super::{
    support::{Lenient, from_json, is_blank, one_or_many, starts_as_json, text},
    web::{html_text, paragraphs, url_parts, urls},
    xml_tree::{self, Node},
};
use crate::{
    Finding, Location, ParseError, ReportBuilder,
    detect::{Head, Shape},
    finding::{cwe_number, severity_from_word},
};

const FORMAT: &str = "zap";

/// Instances listed in a finding's description; the rest are counted.
const LISTED_INSTANCES: usize = 25;

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    if starts_as_json(data) { parse_json(data, report) } else { parse_xml(data, report) }
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    match head.shape {
        Shape::Xml => head.xml_root() == Some("OWASPZAPReport"),
        Shape::Json => {
            let report = head.has_key("site") && head.has_key("@version") && head.has_key("alerts");
            let api = head.has_key("alerts") && head.has_key("pluginId") && head.has_key("alertRef");
            report || api
        }
        _ => false,
    }
}

/// One alert as either report shape gives it.
#[derive(Debug, Default)]
struct Alert {
    plugin_id: Option<String>,
    alert_ref: Option<String>,
    title: Option<String>,
    risk: Option<String>,
    risk_desc: Option<String>,
    confidence: Option<String>,
    desc: Option<String>,
    other_info: Option<String>,
    solution: Option<String>,
    reference: Option<String>,
    cwe: Option<String>,
    instances: Vec<Instance>,
    count: Option<u32>,
}

#[derive(Debug, Default)]
struct Instance {
    uri: Option<String>,
    method: Option<String>,
    param: Option<String>,
}

/// The `site` an alert was raised on.
#[derive(Debug, Default)]
struct Site {
    name: Option<String>,
    host: Option<String>,
    port: Option<String>,
    ssl: Option<String>,
}

fn parse_xml(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    let bodies = ["requestheader", "requestbody", "responseheader", "responsebody"];
    let document = xml_tree::read_without(FORMAT, data, &bodies)?;
    let Some(root) = document.child("OWASPZAPReport") else {
        return Err(ParseError::new("not a valid zap report: the root element is not <OWASPZAPReport>"));
    };
    report.scanner("OWASP ZAP", root.attr("version"));
    for site_node in root.children("site") {
        let site = Site {
            name: site_node.attr("name").map(str::to_owned),
            host: site_node.attr("host").map(str::to_owned),
            port: site_node.attr("port").map(str::to_owned),
            ssl: site_node.attr("ssl").map(str::to_owned),
        };
        for item in site_node.items("alerts", "alertitem") {
            push_alert(report, &site, xml_alert(item));
        }
    }
    Ok(())
}

fn xml_alert(item: &Node) -> Alert {
    let instance =
        |node: &Node| Instance { uri: node.get("uri"), method: node.get("method"), param: node.get("param") };
    let mut instances: Vec<Instance> = item.items("instances", "instance").map(instance).collect();
    if instances.is_empty() && item.get("uri").is_some() {
        instances.push(instance(item));
    }
    Alert {
        plugin_id: item.get("pluginid"),
        alert_ref: item.get("alertRef"),
        title: item.get("alert").or_else(|| item.get("name")),
        risk: item.get("riskcode"),
        risk_desc: item.get("riskdesc"),
        confidence: item.get("confidence"),
        desc: item.get("desc"),
        other_info: item.get("otherinfo"),
        solution: item.get("solution"),
        reference: item.get("reference"),
        cwe: item.get("cweid"),
        instances,
        count: item.get("count").and_then(|c| c.parse().ok()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonReport {
    #[serde(rename = "@version")]
    version: Lenient,
    #[serde(rename = "@programName")]
    program: Lenient,
    site: Value,
    /// The API's alert list instead of a report.
    alerts: Vec<ApiAlert>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonSite {
    #[serde(rename = "@name")]
    name: Lenient,
    #[serde(rename = "@host")]
    host: Lenient,
    #[serde(rename = "@port")]
    port: Lenient,
    #[serde(rename = "@ssl")]
    ssl: Lenient,
    alerts: Vec<JsonAlert>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonAlert {
    pluginid: Lenient,
    #[serde(rename = "alertRef")]
    alert_ref: Lenient,
    alert: Lenient,
    name: Lenient,
    riskcode: Lenient,
    riskdesc: Lenient,
    confidence: Lenient,
    desc: Lenient,
    otherinfo: Lenient,
    solution: Lenient,
    reference: Lenient,
    cweid: Lenient,
    count: Lenient,
    instances: Vec<JsonInstance>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonInstance {
    uri: Lenient,
    method: Lenient,
    param: Lenient,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApiAlert {
    #[serde(rename = "pluginId")]
    plugin_id: Lenient,
    #[serde(rename = "alertRef")]
    alert_ref: Lenient,
    alert: Lenient,
    name: Lenient,
    risk: Lenient,
    confidence: Lenient,
    description: Lenient,
    other: Lenient,
    solution: Lenient,
    reference: Lenient,
    cweid: Lenient,
    url: Lenient,
    method: Lenient,
    param: Lenient,
}

fn parse_json(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    let json: JsonReport = from_json(FORMAT, data)?;
    let program = json.program.text().unwrap_or_else(|| "OWASP ZAP".to_owned());
    report.scanner(&program, json.version.text().as_deref());
    let sites: Vec<JsonSite> = match json.site {
        Value::Array(_) | Value::Object(_) => one_or_many(json.site)
            .map_err(|e| ParseError::new(format!("not a valid zap report: a site is malformed: {e}")))?,
        _ => Vec::new(),
    };
    for site in sites {
        let place =
            Site { name: site.name.text(), host: site.host.text(), port: site.port.text(), ssl: site.ssl.text() };
        for alert in site.alerts {
            let instances = alert
                .instances
                .iter()
                .map(|i| Instance { uri: i.uri.text(), method: i.method.text(), param: i.param.text() })
                .collect();
            let alert = Alert {
                plugin_id: alert.pluginid.text(),
                alert_ref: alert.alert_ref.text(),
                title: alert.alert.text().or_else(|| alert.name.text()),
                risk: alert.riskcode.text(),
                risk_desc: alert.riskdesc.text(),
                confidence: alert.confidence.text(),
                desc: alert.desc.text(),
                other_info: alert.otherinfo.text(),
                solution: alert.solution.text(),
                reference: alert.reference.text(),
                cwe: alert.cweid.text(),
                instances,
                count: alert.count.text().and_then(|c| c.parse().ok()),
            };
            push_alert(report, &place, alert);
        }
    }
    for alert in json.alerts {
        let url = alert.url.text();
        let site = Site { name: url.as_deref().and_then(origin), ..Site::default() };
        let alert = Alert {
            plugin_id: alert.plugin_id.text(),
            alert_ref: alert.alert_ref.text(),
            title: alert.alert.text().or_else(|| alert.name.text()),
            risk_desc: alert.risk.text(),
            confidence: alert.confidence.text(),
            desc: alert.description.text(),
            other_info: alert.other.text(),
            solution: alert.solution.text(),
            reference: alert.reference.text(),
            cwe: alert.cweid.text(),
            instances: vec![Instance { uri: url, method: alert.method.text(), param: alert.param.text() }],
            ..Alert::default()
        };
        push_alert(report, &site, alert);
    }
    Ok(())
}

/// `scheme://host:port` of a URL, which is how ZAP names a site.
fn origin(url: &str) -> Option<String> {
    let parts = url_parts(url);
    let host = parts.host?;
    Some(match (parts.scheme, parts.port) {
        (Some(scheme), Some(port)) => format!("{scheme}://{host}:{port}"),
        (Some(scheme), None) => format!("{scheme}://{host}"),
        (None, _) => host,
    })
}

fn severity(alert: &Alert) -> Option<Severity> {
    let code = alert.risk.as_deref().and_then(|r| r.trim().parse::<i32>().ok());
    match code {
        Some(0) => Some(Severity::Info),
        Some(1) => Some(Severity::Low),
        Some(2) => Some(Severity::Medium),
        Some(3) => Some(Severity::High),
        _ => alert.risk_desc.as_deref().and_then(|d| d.split_whitespace().next()).and_then(severity_from_word),
    }
}

/// ZAP's confidence as its code: 0 false positive, 1 low, 2 medium, 3 high, 4 confirmed.
fn confidence_code(confidence: Option<&str>) -> &'static str {
    match confidence.map(|c| c.trim().to_ascii_lowercase()).as_deref() {
        Some("0" | "false positive") => "0",
        Some("1" | "low") => "1",
        Some("2" | "medium") => "2",
        Some("3" | "high") => "3",
        Some("4" | "confirmed" | "user confirmed") => "4",
        _ => "",
    }
}

fn push_alert(report: &mut ReportBuilder, site: &Site, alert: Alert) {
    let severity = severity(&alert);
    let confidence = confidence_code(alert.confidence.as_deref());
    let site_name = site.name.clone().unwrap_or_default();
    let fingerprint = Finding::fingerprint_of(
        FORMAT,
        &[
            alert.plugin_id.as_deref().unwrap_or(""),
            alert.alert_ref.as_deref().unwrap_or(""),
            alert.title.as_deref().unwrap_or(""),
            severity.map_or("", |s| s.as_str()),
            confidence,
            &site_name,
        ],
    );
    let location = location(site, alert.instances.first());
    let mut description = alert.desc.as_deref().map(html_text).unwrap_or_default();
    if let Some(other) = alert.other_info.as_deref().map(html_text).filter(|o| !o.is_empty()) {
        description = paragraphs([description, format!("Other information:\n{other}")]);
    }
    description = paragraphs([description, instance_list(&alert.instances)]);
    let occurrences = alert.count.unwrap_or(0).max(u32::try_from(alert.instances.len()).unwrap_or(u32::MAX));
    report.push(Finding {
        title: alert.title.clone().unwrap_or_default(),
        description,
        severity,
        rule_id: alert.plugin_id.clone(),
        cwe_ids: alert.cwe.as_deref().and_then(cwe_number).into_iter().collect(),
        location,
        references: alert.reference.as_deref().map(urls).unwrap_or_default(),
        remediation: alert.solution.as_deref().map(html_text).and_then(|s| text(Some(&s))).map(Into::into),
        dismissed: (confidence == "0").then(|| "ZAP marks this alert a false positive".to_owned()),
        fingerprint,
        occurrences,
        ..Finding::default()
    });
}

fn location(site: &Site, first: Option<&Instance>) -> Location {
    let url = first.and_then(|i| i.uri.clone());
    let parts = url.as_deref().map(url_parts).unwrap_or_default();
    let site_scheme = match site.ssl.as_deref() {
        Some("true") => Some("https".to_owned()),
        Some("false") => Some("http".to_owned()),
        _ => None,
    };
    Location {
        host: parts.host.or_else(|| site.host.clone()),
        port: parts.port.or_else(|| site.port.as_deref().and_then(|p| p.parse().ok())),
        protocol: parts.scheme.or(site_scheme),
        url: url.or_else(|| site.name.clone()),
        ..Location::default()
    }
}

fn instance_list(instances: &[Instance]) -> String {
    if instances.is_empty() {
        return String::new();
    }
    let mut list = String::from("Instances:");
    for instance in instances.iter().take(LISTED_INSTANCES) {
        list.push_str("\n- ");
        if let Some(method) = &instance.method {
            list.push_str(method);
            list.push(' ');
        }
        list.push_str(instance.uri.as_deref().unwrap_or("(no URL)"));
        if let Some(param) = &instance.param {
            list.push_str(&format!(" (parameter {param})"));
        }
    }
    if instances.len() > LISTED_INSTANCES {
        list.push_str(&format!("\n… and {} more", instances.len() - LISTED_INSTANCES));
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    fn read(data: &str) -> crate::Report {
        let mut report = ReportBuilder::new(Format::Zap);
        parse(data.as_bytes(), &mut report).unwrap();
        report.finish()
    }

    #[test]
    fn the_json_report_reads_like_the_xml_one() {
        let json = r#"{"@programName":"ZAP","@version":"2.14.0","@generated":"x","site":[{"@name":"https://a.example","@host":"a.example","@port":"443","@ssl":"true","alerts":[
            {"pluginid":"10038","alertRef":"10038-1","alert":"Content Security Policy (CSP) Header Not Set","riskcode":"2","confidence":"3",
             "desc":"<p>CSP is an added layer.</p>","solution":"<p>Set the header.</p>","reference":"<p>https://developer.mozilla.org/csp</p><p>https://www.w3.org/TR/CSP/</p>",
             "cweid":"693","wascid":"15","count":"2","instances":[{"uri":"https://a.example/","method":"GET","param":""},{"uri":"https://a.example/b","method":"GET"}]}]}]}"#;
        let report = read(json);
        assert_eq!(report.scanner.as_deref(), Some("ZAP 2.14.0"));
        let finding = &report.findings[0];
        assert_eq!(finding.severity, Some(Severity::Medium));
        assert_eq!((finding.rule_id.as_deref(), finding.cwe_ids.as_slice()), (Some("10038"), &[693][..]));
        assert_eq!(finding.references, ["https://developer.mozilla.org/csp", "https://www.w3.org/TR/CSP/"]);
        assert_eq!(finding.remediation.as_deref(), Some("Set the header."));
        assert!(finding.description.starts_with("CSP is an added layer.\n\nInstances:\n- GET https://a.example/"));
        assert_eq!((finding.location.url.as_deref(), finding.location.port), (Some("https://a.example/"), Some(443)));
        assert_eq!(finding.occurrences, 2);
    }

    #[test]
    fn api_alerts_merge_per_alert_and_site() {
        let json = r#"{"alerts":[
            {"pluginId":"10020","alertRef":"10020-1","alert":"Missing Anti-clickjacking Header","risk":"Medium","confidence":"Medium","url":"http://h:8080/a","messageId":"1"},
            {"pluginId":"10020","alertRef":"10020-1","alert":"Missing Anti-clickjacking Header","risk":"Medium","confidence":"Medium","url":"http://h:8080/b","messageId":"2"},
            {"pluginId":"10020","alertRef":"10020-1","alert":"Missing Anti-clickjacking Header","risk":"Medium","confidence":"False Positive","url":"http://other/","messageId":"3"}]}"#;
        let report = read(json);
        assert_eq!(report.findings.len(), 2);
        assert_eq!(report.findings[0].occurrences, 2);
        assert!(report.findings[1].dismissed.is_some());
    }

    #[test]
    fn old_reports_without_instances_keep_the_uri() {
        let xml = "<OWASPZAPReport version=\"2.4.0\"><site name=\"http://h\"><alerts><alertitem><pluginid>40012</pluginid>\
                   <alert>Cross Site Scripting (Reflected)</alert><riskcode>3</riskcode><uri>http://h/q?x=1</uri><param>x</param>\
                   </alertitem></alerts></site></OWASPZAPReport>";
        let finding = &read(xml).findings[0];
        assert_eq!(finding.severity, Some(Severity::High));
        assert_eq!(finding.location.url.as_deref(), Some("http://h/q?x=1"));
    }

    #[test]
    fn a_malformed_report_names_the_line() {
        let mut report = ReportBuilder::new(Format::Zap);
        let error = parse(b"<OWASPZAPReport>\n<site>\n</alerts></OWASPZAPReport>", &mut report).unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        let error = parse(b"{\"site\": [\n{\"alerts\": }]}", &mut report).unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
    }
}

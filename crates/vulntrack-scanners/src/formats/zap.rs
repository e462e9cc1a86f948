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

use super::support::{from_json, is_blank, text, without_bom};
use crate::{
    Finding, Location, ParseError, ReportBuilder,
    detect::{Head, Shape},
    finding::{cwe_number, severity_from_word},
};
use kit::{Lenient, Node, html_text, url_parts, urls};

const FORMAT: &str = "zap";

/// Instances listed in a finding's description; the rest are counted.
const LISTED_INSTANCES: usize = 25;

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    if kit::starts_as_json(data) { parse_json(data, report) } else { parse_xml(data, report) }
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
    let document = kit::read_xml_without(FORMAT, data, &bodies)?;
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
        for item in site_node.children("alerts").flat_map(|alerts| alerts.children("alertitem")) {
            push_alert(report, &site, xml_alert(item));
        }
    }
    Ok(())
}

fn xml_alert(item: &Node) -> Alert {
    let instance =
        |node: &Node| Instance { uri: node.get("uri"), method: node.get("method"), param: node.get("param") };
    let mut instances: Vec<Instance> =
        item.children("instances").flat_map(|list| list.children("instance")).map(instance).collect();
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
        Value::Array(_) | Value::Object(_) => kit::one_or_many(json.site)
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
        description = kit::paragraphs([description, format!("Other information:\n{other}")]);
    }
    description = kit::paragraphs([description, instance_list(&alert.instances)]);
    let occurrences = alert.count.unwrap_or(0).max(u32::try_from(alert.instances.len()).unwrap_or(u32::MAX));
    report.push(Finding {
        title: alert.title.clone().unwrap_or_default(),
        description,
        severity,
        rule_id: alert.plugin_id.clone(),
        cwe_ids: alert.cwe.as_deref().and_then(cwe_number).into_iter().collect(),
        location,
        references: alert.reference.as_deref().map(urls).unwrap_or_default(),
        remediation: alert.solution.as_deref().map(html_text).and_then(|s| text(Some(&s))),
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

/// Readers shared by the web and network scanner modules (zap, burp, nikto,
/// nuclei, nessus, openvas, qualys), which were written together; a
/// candidate for `formats/support.rs`.
pub(super) mod kit {
    use std::{borrow::Cow, collections::HashMap};

    use quick_xml::{Reader, escape::resolve_predefined_entity, events::Event};
    use serde::{Deserialize, Deserializer, de::DeserializeOwned};
    use serde_json::Value;

    use super::without_bom;
    use crate::{Finding, ParseError, ReportBuilder};

    /// Whether the report starts as JSON rather than XML or CSV.
    pub(crate) fn starts_as_json(data: &[u8]) -> bool {
        matches!(without_bom(data).trim_ascii_start().first(), Some(b'{' | b'['))
    }

    /// An XML element as read: its local name, attributes, the text directly
    /// in it (CDATA and entities resolved) and its child elements.
    #[derive(Debug, Default)]
    pub(crate) struct Node {
        pub name: String,
        pub attrs: Vec<(String, String)>,
        pub text: String,
        pub children: Vec<Node>,
    }

    impl Node {
        pub fn attr(&self, name: &str) -> Option<&str> {
            self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
        }

        pub fn child(&self, name: &str) -> Option<&Node> {
            self.children.iter().find(|c| c.name == name)
        }

        pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
            self.children.iter().filter(move |c| c.name == name)
        }

        /// The element's own text, trimmed, unless blank.
        pub fn value(&self) -> Option<String> {
            Some(self.text.trim()).filter(|t| !t.is_empty()).map(str::to_owned)
        }

        /// The text of the first child `name`, trimmed, unless blank.
        pub fn get(&self, name: &str) -> Option<String> {
            self.children(name).find_map(Node::value)
        }

        /// Every element `name` below this one, in document order, without
        /// looking inside the matches.
        pub fn find_all<'a>(&'a self, name: &str) -> Vec<&'a Node> {
            let mut found = Vec::new();
            let mut pending: Vec<&Node> = self.children.iter().rev().collect();
            while let Some(node) = pending.pop() {
                if node.name == name {
                    found.push(node);
                } else {
                    pending.extend(node.children.iter().rev());
                }
            }
            found
        }

        pub fn find(&self, name: &str) -> Option<&Node> {
            self.find_all(name).into_iter().next()
        }
    }

    /// Reads a whole XML report into a tree under a document node, after
    /// [`crate::xml::check`] (which accepts the DOCTYPE real Burp, Nikto and
    /// Qualys reports carry, and refuses one that declares entities).
    pub(crate) fn read_xml(format: &str, data: &[u8]) -> Result<Node, ParseError> {
        read_xml_without(format, data, &[])
    }

    /// [`read_xml`], dropping the text of the elements `bodies` (request and
    /// response bodies that are never stored and can be most of a report).
    pub(crate) fn read_xml_without(format: &str, data: &[u8], bodies: &[&str]) -> Result<Node, ParseError> {
        let data = without_bom(data);
        crate::xml::check(format, data)?;
        let mut reader = Reader::from_reader(data);
        let mut stack = vec![Node { name: "#document".to_owned(), ..Node::default() }];
        let fail = |reader: &Reader<&[u8]>, error: &dyn std::fmt::Display| {
            ParseError::xml(format, error, data, reader.error_position())
        };
        loop {
            let event = reader.read_event().map_err(|e| fail(&reader, &e))?;
            match event {
                Event::Start(start) => stack.push(element(&start)),
                Event::Empty(start) => {
                    let node = element(&start);
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(node);
                    }
                }
                Event::End(_) => close(&mut stack),
                Event::Eof => break,
                _ if stack.last().is_some_and(|node| bodies.contains(&node.name.as_str())) => {}
                Event::Text(t) => append(&mut stack, &t.xml10_content().map_err(|e| fail(&reader, &e))?),
                Event::CData(t) => append(&mut stack, &t.xml10_content().map_err(|e| fail(&reader, &e))?),
                Event::GeneralRef(r) => {
                    let name = r.decode().map_err(|e| fail(&reader, &e))?;
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => resolve_predefined_entity(&name).map_or_else(|| format!("&{name};"), str::to_owned),
                    };
                    append(&mut stack, &resolved);
                }
                _ => {}
            }
        }
        while stack.len() > 1 {
            close(&mut stack);
        }
        Ok(stack.pop().unwrap_or_default())
    }

    fn element(start: &quick_xml::events::BytesStart<'_>) -> Node {
        let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
        let attrs = start
            .attributes()
            .flatten()
            .map(|a| {
                let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
                let value =
                    a.unescape_value().map_or_else(|_| String::from_utf8_lossy(&a.value).into_owned(), Cow::into_owned);
                (key, value)
            })
            .collect();
        Node { name, attrs, ..Node::default() }
    }

    fn append(stack: &mut [Node], text: &str) {
        if let Some(node) = stack.last_mut() {
            node.text.push_str(text);
        }
    }

    fn close(stack: &mut Vec<Node>) {
        if stack.len() > 1
            && let Some(node) = stack.pop()
            && let Some(parent) = stack.last_mut()
        {
            parent.children.push(node);
        }
    }

    /// HTML as readable text: block tags become line breaks, list items
    /// "- " lines, other tags vanish and entities are resolved. Text with no
    /// HTML tag in it is returned trimmed, its line breaks kept.
    pub(crate) fn html_text(html: &str) -> String {
        const BLOCKS: &[&str] = &["p", "div", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre"];
        let lower = html.to_ascii_lowercase();
        let is_html = ["<p>", "<p ", "<br", "<li", "<ul", "<div", "<a ", "<b>", "<i>", "<code", "</"]
            .iter()
            .any(|tag| lower.contains(tag));
        if !is_html {
            return entities(html.trim());
        }
        let mut out = String::with_capacity(html.len());
        let mut rest = html;
        // A link's target, kept when its text does not show it.
        let mut link: Option<(String, usize)> = None;
        while let Some(at) = rest.find('<') {
            out.push_str(&rest[..at].replace(['\r', '\n', '\t'], " "));
            let after = &rest[at + 1..];
            let is_tag = after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!');
            match after.find('>').filter(|_| is_tag) {
                Some(end) => {
                    let closing = after.starts_with('/');
                    let tag = after[..end].trim_start_matches('/').to_ascii_lowercase();
                    let name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("");
                    if name == "li" && !closing {
                        out.push_str("\n- ");
                    } else if name == "br" || BLOCKS.contains(&name) {
                        out.push('\n');
                    } else if name == "a" && !closing {
                        link = urls(&after[..end]).into_iter().next().map(|url| (url, out.len()));
                    } else if name == "a"
                        && let Some((url, start)) = link.take()
                    {
                        match out.get(start..).map(str::trim) {
                            Some("") | None => out.push_str(&format!(" {url}")),
                            Some(text) if !text.contains(&url) => out.push_str(&format!(" ({url})")),
                            Some(_) => {}
                        }
                    }
                    rest = &after[end + 1..];
                }
                None => {
                    out.push('<');
                    rest = after;
                }
            }
        }
        out.push_str(&rest.replace(['\r', '\n', '\t'], " "));
        tidy(&entities(&out))
    }

    /// Runs of spaces collapsed, lines trimmed, at most one blank line.
    fn tidy(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut blank_lines = 0;
        for line in text.lines() {
            let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
            if line.is_empty() {
                blank_lines += 1;
                continue;
            }
            if !out.is_empty() {
                out.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
            }
            blank_lines = 0;
            out.push_str(&line);
        }
        out
    }

    /// HTML character references resolved (the common named ones and numeric).
    fn entities(text: &str) -> String {
        if !text.contains('&') {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find('&') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let resolved = after.find(';').filter(|&end| end <= 10).and_then(|end| {
                let name = &after[..end];
                let c = match name {
                    "nbsp" => Some(' '),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "amp" => Some('&'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => name
                        .strip_prefix("#x")
                        .or_else(|| name.strip_prefix("#X"))
                        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                        .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                        .and_then(char::from_u32),
                };
                c.map(|c| (c, end))
            });
            match resolved {
                Some((c, end)) => {
                    out.push(c);
                    rest = &after[end + 1..];
                }
                None => {
                    out.push('&');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The http(s) URLs in a text, HTML or a run of URLs with no separator
    /// (as older ZAP reports write them), each once.
    pub(crate) fn urls(text: &str) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        let starts: Vec<usize> =
            text.match_indices("http").map(|(at, _)| at).filter(|&at| is_url_start(&text[at..])).collect();
        for (index, &start) in starts.iter().enumerate() {
            let limit = starts.get(index + 1).copied().unwrap_or(text.len());
            let candidate = &text[start..limit];
            let end = candidate
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
                .unwrap_or(candidate.len());
            let url = trim_url(&candidate[..end]);
            if url.len() > "https://".len() && !found.iter().any(|f| f == url) {
                found.push(url.to_owned());
            }
        }
        found
    }

    fn is_url_start(text: &str) -> bool {
        text.starts_with("http://") || text.starts_with("https://")
    }

    /// Trailing punctuation that ends a sentence, not the URL; a closing
    /// parenthesis stays when the URL opened one.
    fn trim_url(url: &str) -> &str {
        let mut url = url.trim_end_matches(['.', ',', ';', ':', ']', '*']);
        while url.ends_with(')') && url.matches('(').count() < url.matches(')').count() {
            url = &url[..url.len() - 1];
        }
        url
    }

    /// The scheme, host and port of a URL or a `host:port`.
    #[derive(Debug, Default, Clone, PartialEq, Eq)]
    pub(crate) struct UrlParts {
        pub scheme: Option<String>,
        pub host: Option<String>,
        pub port: Option<u16>,
    }

    pub(crate) fn url_parts(url: &str) -> UrlParts {
        let url = url.trim();
        let (scheme, rest) = match url.split_once("://") {
            Some((scheme, rest))
                if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+') =>
            {
                (Some(scheme.to_ascii_lowercase()), rest)
            }
            _ => (None, url.strip_prefix("//").unwrap_or(url)),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            match bracketed.split_once(']') {
                Some((host, port)) => (host, port.strip_prefix(':')),
                None => (bracketed, None),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) if !host.contains(':') => (host, Some(port)),
                _ => (authority, None),
            }
        };
        let port = port.and_then(|p| p.parse::<u16>().ok()).or(match scheme.as_deref() {
            Some("http") => Some(80),
            Some("https") => Some(443),
            _ => None,
        });
        let host = Some(host.to_ascii_lowercase()).filter(|h| !h.is_empty());
        UrlParts { scheme, host, port }
    }

    /// Findings held back until the report is read, so that the first of
    /// each fingerprint (the one the report keeps) can list every place the
    /// merged repeats were found.
    #[derive(Debug, Default)]
    pub(crate) struct Affected(Vec<(Finding, String)>);

    /// Places listed in a merged finding's description; the rest are counted.
    const LISTED_PLACES: usize = 25;

    impl Affected {
        pub fn add(&mut self, finding: Finding, place: String) {
            self.0.push((finding, place));
        }

        /// Pushes every finding in report order, the first of a fingerprint
        /// found in several places with the list of them under `heading`.
        pub fn push_all(self, report: &mut ReportBuilder, heading: &str) {
            let mut places: HashMap<String, Vec<String>> = HashMap::new();
            for (finding, place) in &self.0 {
                let list = places.entry(finding.fingerprint.clone()).or_default();
                if !place.is_empty() && !list.contains(place) {
                    list.push(place.clone());
                }
            }
            for (mut finding, _) in self.0 {
                if let Some(list) = places.remove(&finding.fingerprint)
                    && list.len() > 1
                {
                    let mut text = format!("{heading}:");
                    for place in list.iter().take(LISTED_PLACES) {
                        text.push_str("\n- ");
                        text.push_str(place);
                    }
                    if list.len() > LISTED_PLACES {
                        text.push_str(&format!("\n… and {} more", list.len() - LISTED_PLACES));
                    }
                    finding.description = paragraphs([std::mem::take(&mut finding.description), text]);
                }
                report.push(finding);
            }
        }
    }

    /// Non-empty parts, one paragraph each.
    pub(crate) fn paragraphs(parts: impl IntoIterator<Item = String>) -> String {
        parts.into_iter().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join("\n\n")
    }

    /// `support::csv_reader`, or its like with the delimiter the header
    /// line uses when that is `;` or a tab (Tenable and Qualys exports).
    pub(crate) fn csv_reader(data: &[u8]) -> csv::Reader<&[u8]> {
        let header = without_bom(data).split(|&b| b == b'\n').next().unwrap_or_default();
        let count = |delimiter: u8| header.iter().filter(|&&b| b == delimiter).count();
        match [b';', b'\t'].into_iter().find(|&d| count(d) > count(b',')) {
            Some(delimiter) => {
                csv::ReaderBuilder::new().flexible(true).delimiter(delimiter).from_reader(without_bom(data))
            }
            None => super::super::support::csv_reader(data),
        }
    }

    /// A CSV header row, looked up by column name in any letter case.
    #[derive(Debug)]
    pub(crate) struct Columns(HashMap<String, usize>);

    impl Columns {
        pub fn new(header: &csv::StringRecord) -> Self {
            let mut index = HashMap::new();
            for (at, name) in header.iter().enumerate() {
                index.entry(name.trim().to_ascii_lowercase()).or_insert(at);
            }
            Self(index)
        }

        pub fn has(&self, name: &str) -> bool {
            self.0.contains_key(name)
        }

        /// The first non-blank value among the columns `names` (lower case).
        pub fn get<'r>(&self, row: &'r csv::StringRecord, names: &[&str]) -> Option<&'r str> {
            names
                .iter()
                .filter_map(|name| self.0.get(*name))
                .filter_map(|&at| row.get(at))
                .map(str::trim)
                .find(|value| !value.is_empty())
        }

        pub fn text(&self, row: &csv::StringRecord, names: &[&str]) -> Option<String> {
            self.get(row, names).map(str::to_owned)
        }
    }

    /// A JSON value that may be a string, a number or a boolean, read as text.
    #[derive(Debug, Default, Clone)]
    pub(crate) struct Lenient(Option<String>);

    impl Lenient {
        pub fn text(&self) -> Option<String> {
            self.0.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
        }
    }

    impl<'de> Deserialize<'de> for Lenient {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            Ok(Lenient(match Value::deserialize(deserializer)? {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }))
        }
    }

    /// A JSON value that is one `T` or a list of them.
    pub(crate) fn one_or_many<T: DeserializeOwned>(value: Value) -> Result<Vec<T>, serde_json::Error> {
        match value {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items.into_iter().map(serde_json::from_value).collect(),
            other => Ok(vec![serde_json::from_value(other)?]),
        }
    }

    /// Strings from a JSON string, a list of strings, or nothing.
    pub(crate) fn strings(value: &Value) -> Vec<String> {
        match value {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn html_becomes_readable_text() {
            let text = html_text("<p>Intro &amp; more.</p><ul><li>One</li><li>Two</li></ul>A&nbsp;b < c");
            assert_eq!(text, "Intro & more.\n\n- One\n- Two\nA b < c");
            assert_eq!(html_text("plain\nlines"), "plain\nlines");
            let links =
                html_text("See <a href=\"https://a.example/kb\">the KB</a> or <A HREF=https://b.example/x></A>.");
            assert_eq!(links, "See the KB (https://a.example/kb) or https://b.example/x.");
        }

        #[test]
        fn urls_are_split_and_trimmed() {
            let found = urls(
                "<a href=\"https://a.example/x\">x</a> http://b.example/y(z).http://c.example/, (see https://d.example/)",
            );
            assert_eq!(
                found,
                ["https://a.example/x", "http://b.example/y(z)", "http://c.example/", "https://d.example/"]
            );
        }

        #[test]
        fn url_parts_handle_ports_and_bare_hosts() {
            let parts = url_parts("https://user@Example.com:8443/a?b");
            assert_eq!(
                (parts.scheme.as_deref(), parts.host.as_deref(), parts.port),
                (Some("https"), Some("example.com"), Some(8443))
            );
            assert_eq!(url_parts("host.example:22").port, Some(22));
            assert_eq!(url_parts("http://[::1]/").host.as_deref(), Some("::1"));
            assert_eq!(url_parts("http://h/").port, Some(80));
        }

        #[test]
        fn an_entity_free_doctype_is_read_and_an_entity_is_refused() {
            let ok = b"<?xml version=\"1.0\"?>\n<!DOCTYPE r [\n<!ELEMENT r (#PCDATA)>\n]>\n<r>a &amp; b</r>";
            let document = read_xml("burp", ok).unwrap();
            assert_eq!(document.child("r").and_then(Node::value).as_deref(), Some("a & b"));
            let bad = b"<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<r>&x;</r>";
            assert!(read_xml("burp", bad).unwrap_err().message.contains("DTD"));
        }

        #[test]
        fn a_broken_document_names_its_line() {
            let error = read_xml("zap", b"<a>\n<b>\n</c></a>").unwrap_err();
            assert_eq!(error.line, Some(3), "{error}");
        }
    }
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

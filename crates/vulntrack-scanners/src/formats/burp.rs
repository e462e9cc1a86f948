//! Burp Suite XML export ("Report selected issues" › XML, Burp 1.x to
//! 2024.x): `issues` › `issue` with `type`, `name`, `host`, `path`,
//! `location`, `severity`, `confidence`, the HTML fields `issueBackground`,
//! `issueDetail`, `remediationBackground`, `remediationDetail`, `references`
//! and `vulnerabilityClassifications` (CWE links). Request and response
//! bodies, base64 or not, are not read. The export's internal DTD (element
//! declarations only) is accepted; one declaring entities is refused.
//!
//! Severity: High, Medium, Low as named, Information → Info; "False
//! positive" → Info, marked dismissed.
//!
//! Fingerprint: the issue `type` — issues of one type merge into one finding
//! (the first issue's URL is the location, the rest are counted); for
//! extension-generated issues (type 134217728, shared by every extension)
//! the issue `name` too. The merged finding's description lists every URL.

use vulntrack_domain::vulnerability::Severity;

use super::{
    support::{is_blank, text, unique},
    web::{self, html_text, paragraphs, url_parts, urls},
    xml_tree::{self, Node},
};
use crate::{Finding, Location, ParseError, ReportBuilder, detect::Head, finding::cwe_number};

const FORMAT: &str = "burp";

/// The type Burp gives every issue an extension raises.
const EXTENSION_ISSUE: &str = "134217728";

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    let document = xml_tree::read_without(FORMAT, data, &["request", "response"])?;
    let Some(root) = document.child("issues") else {
        return Err(ParseError::new("not a valid burp report: the root element is not <issues>"));
    };
    report.scanner("Burp Suite", root.attr("burpVersion"));
    let mut held = web::Affected::default();
    for issue in root.children("issue") {
        let finding = finding(issue);
        let place = match (issue.get("host"), issue.get("location")) {
            (Some(host), Some(at)) => format!("{}{at}", host.trim_end_matches('/')),
            _ => finding.location.url.clone().unwrap_or_default(),
        };
        held.add(finding, place);
    }
    held.push_all(report, "Found at");
    Ok(())
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    head.xml_root() == Some("issues")
        && (head.text.contains("burpVersion")
            || (head.text.contains("<issue>") && head.text.contains("<serialNumber>")))
}

fn finding(issue: &Node) -> Finding {
    let issue_type = issue.get("type");
    let name = issue.get("name");
    let mut parts = vec![issue_type.clone().unwrap_or_default()];
    if issue_type.as_deref() == Some(EXTENSION_ISSUE) || issue_type.is_none() {
        parts.push(name.clone().unwrap_or_default());
    }
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let severity_word = issue.get("severity").unwrap_or_default();
    let false_positive = severity_word.eq_ignore_ascii_case("false positive");
    let severity = if false_positive { Some(Severity::Info) } else { burp_severity(&severity_word) };
    let html = |field: &str| issue.get(field).map(|value| html_text(&value)).unwrap_or_default();
    let detail_items: Vec<String> =
        issue.items("issueDetailItems", "issueDetailItem").filter_map(Node::value).collect();
    let place = issue.get("location").map(|l| format!("Location: {l}")).unwrap_or_default();
    Finding {
        title: name.clone().unwrap_or_default(),
        description: paragraphs([html("issueDetail"), detail_items.join("\n"), html("issueBackground"), place]),
        severity,
        rule_id: issue_type,
        cwe_ids: cwes(&issue.get("vulnerabilityClassifications").unwrap_or_default()),
        location: location(issue),
        references: issue.get("references").as_deref().map(urls).unwrap_or_default(),
        remediation: text(Some(&paragraphs([html("remediationDetail"), html("remediationBackground")])))
            .map(Into::into),
        dismissed: false_positive.then(|| "Burp marks this issue a false positive".to_owned()),
        fingerprint: Finding::fingerprint_of(FORMAT, &parts),
        ..Finding::default()
    }
}

fn burp_severity(word: &str) -> Option<Severity> {
    match word.trim().to_ascii_lowercase().as_str() {
        "high" => Some(Severity::High),
        "medium" => Some(Severity::Medium),
        "low" => Some(Severity::Low),
        "information" | "info" | "informational" => Some(Severity::Info),
        _ => None,
    }
}

/// The URL is the `host` (`https://example.com`) joined with the `path`.
fn location(issue: &Node) -> Location {
    let host = issue.get("host").unwrap_or_default();
    let parts = url_parts(&host);
    let path = issue.get("path").unwrap_or_default();
    let url = match (host.is_empty(), path.is_empty()) {
        (true, _) => None,
        (false, true) => Some(host.clone()),
        (false, false) => Some(format!("{}/{}", host.trim_end_matches('/'), path.trim_start_matches('/'))),
    };
    let ip = issue.child("host").and_then(|h| h.attr("ip")).map(str::to_owned);
    Location { url, host: parts.host.or(ip), port: parts.port, protocol: parts.scheme, ..Location::default() }
}

/// The CWE numbers in a classifications list (`CWE-524: …` links).
fn cwes(classifications: &str) -> Vec<u32> {
    unique(classifications.match_indices("CWE-").filter_map(|(at, _)| cwe_number(classifications.get(at..)?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    fn read(data: &str) -> Result<crate::Report, ParseError> {
        let mut report = ReportBuilder::new(Format::Burp);
        parse(data.as_bytes(), &mut report).map(|()| report.finish())
    }

    #[test]
    fn an_export_without_a_dtd_and_extension_issues_by_name() {
        let xml = r#"<?xml version="1.0"?>
<issues burpVersion="2023.10.3">
  <issue><type>134217728</type><name>Custom check A</name><host ip="10.0.0.1">http://app.example:8080</host>
    <path>/a</path><severity>Medium</severity><confidence>Firm</confidence>
    <issueBackground>&lt;p&gt;Found &amp;amp; checked.&lt;/p&gt;</issueBackground>
    <references><![CDATA[<ul><li><a href="https://portswigger.net/kb/issues">KB</a></li></ul>]]></references></issue>
  <issue><type>134217728</type><name>Custom check B</name><host>http://app.example:8080</host><path>/b</path>
    <severity>False positive</severity></issue>
  <issue><type>134217728</type><name>Custom check A</name><host>http://app.example:8080</host><path>/c</path>
    <severity>Medium</severity></issue>
</issues>"#;
        let report = read(xml).unwrap();
        assert_eq!(report.scanner.as_deref(), Some("Burp Suite 2023.10.3"));
        assert_eq!(report.findings.len(), 2);
        let first = &report.findings[0];
        assert_eq!((first.occurrences, first.severity), (2, Some(Severity::Medium)));
        assert_eq!(first.location.url.as_deref(), Some("http://app.example:8080/a"));
        assert_eq!(first.location.port, Some(8080));
        assert!(first.description.starts_with("Found & checked.\n\nFound at:\n- http://app.example:8080/a"));
        assert_eq!(first.references, ["https://portswigger.net/kb/issues"]);
        assert!(report.findings[1].dismissed.is_some());
    }

    #[test]
    fn a_malformed_export_names_the_line() {
        let error = read("<issues>\n<issue>\n<type>1</name>\n</issue></issues>").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
    }
}

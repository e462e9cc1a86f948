//! Nuclei results (`-json`/`-jsonl`, `-json-export`): JSON lines, one
//! object, consecutive objects, or a JSON array. Both key spellings are read
//! (`template-id`/`templateID`, `matcher-name`/`matcher_name`,
//! `matched-at`/`matched`, `extracted-results`/`extracted_results`), with
//! `info.name`, `severity`, `description`, `remediation`, `reference`
//! (string or list) and `classification` (`cve-id`, `cwe-id`,
//! `cvss-metrics`, `cvss-score`). A result with `matcher-status: false`
//! (written under `-ms`) did not match and is skipped.
//!
//! The matcher name (the technology, header or version matched) is the
//! finding's component.
//!
//! Severity: `info.severity` (critical, high, medium, low, info; unknown →
//! Info), else the band of `cvss-score`.
//!
//! Fingerprint: `template-id`, `type`, `matcher-name` and the host name of
//! `matched-at` (else `host`) without its port — results of one template and
//! matcher on one host merge; the merged finding counts them as occurrences
//! and its description lists every URL matched.

use serde::Deserialize;
use serde_json::Value;

use super::{
    support::{Lenient, from_json, is_blank, string_list, without_bom},
    web::{self, paragraphs, url_parts, urls},
};
use crate::{
    Component, Finding, Location, ParseError, ReportBuilder,
    detect::Head,
    finding::{cwe_number, first_cve, is_v3_or_v4_vector, severity_from_score, severity_from_word},
};

const FORMAT: &str = "nuclei";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Match {
    #[serde(rename = "template-id", alias = "templateID")]
    template_id: Lenient,
    info: Option<Info>,
    #[serde(rename = "matcher-name", alias = "matcher_name")]
    matcher_name: Lenient,
    #[serde(rename = "type")]
    kind: Lenient,
    host: Lenient,
    #[serde(rename = "matched-at", alias = "matched")]
    matched_at: Lenient,
    url: Lenient,
    ip: Lenient,
    #[serde(rename = "extracted-results", alias = "extracted_results")]
    extracted: Value,
    #[serde(rename = "matcher-status")]
    matcher_status: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Info {
    name: Lenient,
    severity: Lenient,
    description: Lenient,
    remediation: Lenient,
    reference: Value,
    classification: Option<Classification>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Classification {
    #[serde(rename = "cve-id")]
    cve: Value,
    #[serde(rename = "cwe-id")]
    cwe: Value,
    #[serde(rename = "cvss-metrics")]
    cvss: Lenient,
    #[serde(rename = "cvss-score")]
    score: Lenient,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    report.scanner("Nuclei", None);
    let data = without_bom(data);
    let mut held = web::Affected::default();
    if data.trim_ascii_start().starts_with(b"[") {
        let matches: Vec<Match> = from_json(FORMAT, data)?;
        matches.into_iter().for_each(|m| hold(&mut held, m));
    } else {
        // Objects one after another covers JSON lines, one object and pretty-printed objects.
        for item in serde_json::Deserializer::from_slice(data).into_iter::<Match>() {
            hold(&mut held, item.map_err(|e| ParseError::json(FORMAT, &e))?);
        }
    }
    held.push_all(report, "Matched at");
    Ok(())
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    head.is_json() && (head.has_key("template-id") || head.has_key("templateID")) && head.has_key("info")
}

fn hold(held: &mut web::Affected, result: Match) {
    if result.matcher_status == Some(false) {
        return;
    }
    let info = result.info.unwrap_or_default();
    let classification = info.classification.unwrap_or_default();
    let template = result.template_id.text();
    let matcher = result.matcher_name.text();
    let matched = result.matched_at.text().or_else(|| result.url.text()).or_else(|| result.host.text());
    let parts = matched.as_deref().map(url_parts).unwrap_or_default();
    let host = parts.host.clone().or_else(|| result.host.text()).or_else(|| result.ip.text()).unwrap_or_default();
    let fingerprint = Finding::fingerprint_of(
        FORMAT,
        &[
            template.as_deref().unwrap_or(""),
            result.kind.text().as_deref().unwrap_or(""),
            matcher.as_deref().unwrap_or(""),
            &host,
        ],
    );
    let name = info.name.text().or_else(|| template.clone()).unwrap_or_default();
    let title = match &matcher {
        Some(matcher) => format!("{name} - {matcher}"),
        None => name,
    };
    let severity = info
        .severity
        .text()
        .as_deref()
        .and_then(severity_from_word)
        .or_else(|| classification.score.text().and_then(|s| s.parse().ok()).map(severity_from_score));
    let extracted = string_list(&result.extracted).join(", ");
    let description = paragraphs([
        info.description.text().unwrap_or_default(),
        if extracted.is_empty() { String::new() } else { format!("Extracted: {extracted}") },
    ]);
    let cves = string_list(&classification.cve);
    let place = matched.clone().unwrap_or_default();
    let url = matched.filter(|m| m.contains("://"));
    held.add(
        Finding {
            title,
            description,
            severity,
            cve_id: first_cve(cves.iter().map(String::as_str).chain(template.as_deref())),
            rule_id: template,
            // What matched: the technology, header or version the template found.
            component: matcher.map(|name| Component { name, ..Component::default() }),
            cwe_ids: string_list(&classification.cwe).iter().filter_map(|c| cwe_number(c)).collect(),
            cvss_vector: classification.cvss.text().filter(|v| is_v3_or_v4_vector(v)),
            location: Location {
                url,
                host: Some(host).filter(|h| !h.is_empty()),
                port: parts.port,
                protocol: parts.scheme,
                ..Location::default()
            },
            references: string_list(&info.reference).iter().flat_map(|r| urls(r)).collect(),
            remediation: info.remediation.text().map(Into::into),
            fingerprint,
            ..Finding::default()
        },
        place,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;
    use vulntrack_domain::vulnerability::Severity;

    fn read(data: &str) -> Result<crate::Report, ParseError> {
        let mut report = ReportBuilder::new(Format::Nuclei);
        parse(data.as_bytes(), &mut report).map(|()| report.finish())
    }

    #[test]
    fn a_json_export_array_with_classification() {
        let json = r#"[{"template-id":"CVE-2021-44228","info":{"name":"Apache Log4j2 Remote Code Injection","severity":"critical",
            "reference":["https://logging.apache.org/log4j/2.x/security.html"],"remediation":"Upgrade to 2.15.0.",
            "classification":{"cve-id":["cve-2021-44228"],"cwe-id":["cwe-502","cwe-400"],"cvss-metrics":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H","cvss-score":10}},
            "type":"http","host":"https://app.example:8443","matched-at":"https://app.example:8443/api?x=1","matcher-status":true},
            {"template-id":"CVE-2021-44228","info":{"name":"Apache Log4j2 Remote Code Injection","severity":"critical"},
            "type":"http","host":"https://app.example:8443","matched-at":"https://app.example:8443/other"},
            {"template-id":"x","info":{"name":"no match","severity":"high"},"type":"http","host":"h","matcher-status":false}]"#;
        let report = read(json).unwrap();
        assert_eq!(report.findings.len(), 1);
        let finding = &report.findings[0];
        assert_eq!(finding.occurrences, 2);
        assert_eq!(finding.severity, Some(Severity::Critical));
        assert_eq!(finding.cve_id.as_deref(), Some("CVE-2021-44228"));
        assert_eq!(finding.cwe_ids, [502, 400]);
        assert!(finding.cvss_vector.as_deref().is_some_and(|v| v.starts_with("CVSS:3.1/")));
        assert_eq!((finding.location.host.as_deref(), finding.location.port), (Some("app.example"), Some(8443)));
        assert_eq!(finding.remediation.as_deref(), Some("Upgrade to 2.15.0."));
        assert!(
            finding
                .description
                .contains("Matched at:\n- https://app.example:8443/api?x=1\n- https://app.example:8443/other")
        );
    }

    #[test]
    fn the_matcher_is_the_component_and_old_keys_are_read() {
        let line = r#"{"templateID":"tech-detect","info":{"name":"Wappalyzer Technology Detection","severity":"info"},"matcher_name":"nginx","type":"http","host":"http://h:8080/a","matched":"http://h:8080/a"}"#;
        let report = read(line).unwrap();
        let finding = &report.findings[0];
        assert_eq!(finding.component.as_ref().map(|c| c.name.as_str()), Some("nginx"));
        assert_eq!(finding.title, "Wappalyzer Technology Detection - nginx");
        assert_eq!(finding.rule_id.as_deref(), Some("tech-detect"));
    }

    #[test]
    fn a_malformed_line_is_named() {
        let error = read("{\"template-id\":\"a\",\"info\":{}}\n{\"template-id\": }\n").unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
    }
}

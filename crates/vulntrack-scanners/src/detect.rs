//! `format=auto`: which format a file is, from its first bytes.

use std::fmt;

use crate::{Format, formats};

/// How much of the file the detector reads.
pub const HEAD_BYTES: usize = 64 * 1024;

/// The order formats are asked in: where one format's markers can appear
/// inside another's (a SARIF or CycloneDX file written by Trivy or Snyk
/// names that tool), the container format comes first.
const ORDER: &[Format] = &[
    Format::Sarif,
    Format::CycloneDx,
    Format::GitlabSast,
    Format::Trivy,
    Format::Grype,
    Format::Osv,
    Format::DependencyCheck,
    Format::NpmAudit,
    Format::Snyk,
    Format::GithubDependabot,
    Format::Semgrep,
    Format::Bandit,
    Format::Checkov,
    Format::Gitleaks,
    Format::Trufflehog,
    Format::Nuclei,
    Format::Zap,
    Format::Burp,
    Format::Nikto,
    Format::Nessus,
    Format::Openvas,
    Format::Qualys,
];

/// What kind of text the file starts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Nothing but whitespace (or `null`, `[]`, `{}`).
    Empty,
    /// Starts with `{` or `[` and is one JSON document.
    Json,
    /// One JSON object per line.
    JsonLines,
    Xml,
    /// Anything else textual: CSV and other delimited text.
    Text,
}

/// The start of a file, as the sniffers see it.
#[derive(Debug)]
pub struct Head<'a> {
    pub text: std::borrow::Cow<'a, str>,
    pub shape: Shape,
}

impl<'a> Head<'a> {
    pub fn of(data: &'a [u8]) -> Self {
        let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        let text = String::from_utf8_lossy(&data[..data.len().min(HEAD_BYTES)]);
        let trimmed = text.trim_start();
        let shape = if matches!(trimmed.trim_end(), "" | "null" | "[]" | "{}") {
            Shape::Empty
        } else if trimmed.starts_with('<') {
            Shape::Xml
        } else if trimmed.starts_with('{') && looks_like_json_lines(trimmed) {
            Shape::JsonLines
        } else if trimmed.starts_with('{') || trimmed.starts_with('[') {
            Shape::Json
        } else {
            Shape::Text
        };
        Self { text, shape }
    }

    /// Whether the file is JSON: one document or JSON lines.
    pub fn is_json(&self) -> bool {
        matches!(self.shape, Shape::Json | Shape::JsonLines)
    }

    /// Whether the text has `"key"` (a JSON key or string) in it.
    pub fn has_key(&self, key: &str) -> bool {
        let quoted = format!("\"{key}\"");
        self.text.contains(&quoted)
    }

    /// The name of the XML document's root element, without a namespace prefix.
    pub fn xml_root(&self) -> Option<&str> {
        if self.shape != Shape::Xml {
            return None;
        }
        let mut rest: &str = &self.text;
        loop {
            let start = rest.find('<')?;
            rest = &rest[start + 1..];
            if rest.starts_with('?') || rest.starts_with('!') {
                continue;
            }
            let end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
            let name = &rest[..end];
            return Some(name.rsplit(':').next().unwrap_or(name));
        }
    }

    /// The first line (a CSV header), without a trailing carriage return.
    pub fn first_line(&self) -> &str {
        self.text.trim_start().lines().next().unwrap_or("").trim_end_matches('\r')
    }
}

/// JSON lines: the first line is a whole object and a second object follows.
fn looks_like_json_lines(text: &str) -> bool {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("");
    first.starts_with('{') && first.ends_with('}') && lines.next().is_some_and(|l| l.starts_with('{'))
}

/// A file no format claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undetected {
    /// What the file looked like: "an empty file", "JSON", "XML with root <x>", "text".
    pub found: String,
}

impl fmt::Display for Undetected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the format could not be detected: found {}, expected a report of one of the supported formats; name the format",
            self.found
        )
    }
}

impl std::error::Error for Undetected {}

/// The format of a report, from its first 64 KiB.
pub fn detect(data: &[u8]) -> Result<Format, Undetected> {
    let head = Head::of(data);
    if let Some(format) = ORDER.iter().copied().find(|&format| formats::sniff(format, &head)) {
        return Ok(format);
    }
    Err(Undetected { found: describe(&head) })
}

/// A few words on what a file looks like, for error messages.
pub fn describe(head: &Head<'_>) -> String {
    match head.shape {
        Shape::Empty => "an empty report".to_owned(),
        Shape::Json => "JSON".to_owned(),
        Shape::JsonLines => "JSON lines".to_owned(),
        Shape::Xml => match head.xml_root() {
            Some(root) => format!("XML with root element <{root}>"),
            None => "XML".to_owned(),
        },
        Shape::Text => "text".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_told_apart() {
        assert_eq!(Head::of(b"  \n").shape, Shape::Empty);
        assert_eq!(Head::of(b"null").shape, Shape::Empty);
        assert_eq!(Head::of(b"{\"a\": 1}").shape, Shape::Json);
        assert_eq!(Head::of(b"{\"a\":\n 1}").shape, Shape::Json);
        assert_eq!(Head::of(b"{\"a\":1}\n{\"a\":2}\n").shape, Shape::JsonLines);
        assert_eq!(
            Head::of(b"\xEF\xBB\xBF<?xml version=\"1.0\"?><!-- x --><ns:Root a=\"1\">").xml_root(),
            Some("Root")
        );
        assert_eq!(Head::of(b"Plugin ID,CVE\n1,2").first_line(), "Plugin ID,CVE");
    }

    /// A large report whose keys were sorted has its schema version past
    /// the head the detector reads.
    #[test]
    fn a_large_trivy_report_with_sorted_keys_is_detected() {
        let vulnerability = r#"{"PkgName": "openssl", "VulnerabilityID": "CVE-2024-0001", "Severity": "HIGH"}"#;
        let many = vec![vulnerability; 2_000].join(", ");
        let report = format!(
            r#"{{"ArtifactName": "shop:1.4", "ArtifactType": "container_image", "Results": [{{"Target": "shop", "Vulnerabilities": [{many}]}}], "SchemaVersion": 2}}"#
        );
        assert!(report.len() > HEAD_BYTES);
        assert_eq!(detect(report.as_bytes()).ok(), Some(Format::Trivy));
    }

    #[test]
    fn an_unknown_file_says_what_it_found() {
        let error = detect(b"<html><body>hi</body></html>").unwrap_err();
        assert!(error.to_string().contains("XML with root element <html>"), "{error}");
    }
}

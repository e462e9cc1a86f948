//! A report's findings, with repeats inside the report merged.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use crate::{Finding, Format};

/// What one report yielded.
#[derive(Debug, Clone)]
pub struct Report {
    pub format: Format,
    /// The tool and its version as the report names them (`Trivy 0.50.1`).
    pub scanner: Option<String>,
    /// The tool alone (`Trivy`): what a reimport is matched on, since the
    /// version changes between runs.
    pub tool: Option<String>,
    /// Distinct findings in report order.
    pub findings: Vec<Finding>,
    /// Items skipped or values dropped, and why, for the import record.
    pub warnings: Vec<String>,
    /// Items read before repeats were merged.
    pub items: u64,
}

/// Collects a parser's findings, merging those with one fingerprint.
#[derive(Debug)]
pub struct ReportBuilder {
    format: Format,
    scanner: Option<String>,
    tool: Option<String>,
    findings: Vec<Finding>,
    index: HashMap<String, usize>,
    /// The rule texts (`details`, `remediation`) kept so far, each held
    /// once however many findings give it.
    texts: HashSet<Arc<str>>,
    warnings: Vec<String>,
    items: u64,
}

/// Warnings beyond this many are counted, not listed: a report of a million
/// malformed items must not make a million-line import record.
const MAX_WARNINGS: usize = 100;

impl ReportBuilder {
    pub fn new(format: Format) -> Self {
        Self {
            format,
            scanner: None,
            tool: None,
            findings: Vec::new(),
            index: HashMap::new(),
            texts: HashSet::new(),
            warnings: Vec::new(),
            items: 0,
        }
    }

    /// Names the tool (`name`, with `version` when the report gives one).
    pub fn scanner(&mut self, name: &str, version: Option<&str>) {
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        self.tool = Some(name.to_owned());
        self.scanner = Some(match version.map(str::trim).filter(|v| !v.is_empty()) {
            Some(version) => format!("{name} {version}"),
            None => name.to_owned(),
        });
    }

    /// The tool named so far, if any.
    pub fn tool(&self) -> Option<&str> {
        self.tool.as_deref()
    }

    /// Notes an item skipped or a value dropped.
    pub fn warn(&mut self, warning: impl Into<String>) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(warning.into());
        } else if self.warnings.len() == MAX_WARNINGS {
            self.warnings.push("further warnings are not listed".to_owned());
        }
    }

    /// Adds a finding, or counts another occurrence of one with the same
    /// fingerprint (the first one's fields are kept).
    pub fn push(&mut self, mut finding: Finding) {
        debug_assert!(!finding.fingerprint.is_empty(), "a finding needs a fingerprint");
        self.items += 1;
        if let Some(&at) = self.index.get(&finding.fingerprint) {
            self.findings[at].occurrences += finding.occurrences.max(1);
            return;
        }
        finding.occurrences = finding.occurrences.max(1);
        finding.title = one_line(&finding.title);
        if finding.title.is_empty() {
            finding.title = finding
                .rule_id
                .clone()
                .or_else(|| finding.cve_id.clone())
                .unwrap_or_else(|| format!("{} finding", self.format.name()));
        }
        finding.details = finding.details.map(|text| self.shared(text));
        finding.remediation = finding.remediation.map(|text| self.shared(text));
        self.index.insert(finding.fingerprint.clone(), self.findings.len());
        self.findings.push(finding);
    }

    /// The report's copy of `text`: a scanner repeats a rule's or plugin's
    /// text for each of its findings, and a 100 MB report would otherwise
    /// hold it tens of thousands of times.
    fn shared(&mut self, text: Arc<str>) -> Arc<str> {
        match self.texts.get(&text) {
            Some(kept) => Arc::clone(kept),
            None => {
                self.texts.insert(Arc::clone(&text));
                text
            }
        }
    }

    pub fn finish(self) -> Report {
        Report {
            format: self.format,
            scanner: self.scanner,
            tool: self.tool,
            findings: self.findings,
            warnings: self.warnings,
            items: self.items,
        }
    }
}

/// Titles are one line: runs of whitespace (newlines included) become one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(title: &str, fingerprint: &str) -> Finding {
        Finding { title: title.to_owned(), fingerprint: fingerprint.to_owned(), ..Finding::default() }
    }

    #[test]
    fn repeats_merge_into_one_finding_counting_occurrences() {
        let mut report = ReportBuilder::new(Format::Semgrep);
        report.push(finding("first", "a"));
        report.push(finding("again", "a"));
        report.push(finding("other", "b"));
        let report = report.finish();
        assert_eq!(report.items, 3);
        assert_eq!(report.findings.len(), 2);
        assert_eq!((report.findings[0].title.as_str(), report.findings[0].occurrences), ("first", 2));
    }

    #[test]
    fn findings_that_give_the_same_remediation_share_one_copy() {
        let mut report = ReportBuilder::new(Format::Sarif);
        for (fingerprint, text) in
            [("a", "Use a prepared statement."), ("b", "Use a prepared statement."), ("c", "Escape it.")]
        {
            report.push(Finding { remediation: Some(text.into()), ..finding("t", fingerprint) });
        }
        let report = report.finish();
        let texts: Vec<&Arc<str>> = report.findings.iter().filter_map(|f| f.remediation.as_ref()).collect();
        assert_eq!(
            texts.iter().map(|t| &***t).collect::<Vec<_>>(),
            ["Use a prepared statement.", "Use a prepared statement.", "Escape it."]
        );
        assert!(Arc::ptr_eq(texts[0], texts[1]), "the same text is held once");
        assert!(!Arc::ptr_eq(texts[0], texts[2]));
    }

    #[test]
    fn titles_are_one_line_and_never_empty() {
        let mut report = ReportBuilder::new(Format::Trivy);
        report.push(finding("  two\n lines ", "a"));
        report.push(Finding { rule_id: Some("R1".into()), ..finding("", "b") });
        let report = report.finish();
        assert_eq!(report.findings[0].title, "two lines");
        assert_eq!(report.findings[1].title, "R1");
    }

    #[test]
    fn warnings_are_capped() {
        let mut report = ReportBuilder::new(Format::Trivy);
        for i in 0..1000 {
            report.warn(format!("w{i}"));
        }
        assert_eq!(report.finish().warnings.len(), MAX_WARNINGS + 1);
    }
}

//! Bandit JSON (`bandit -f json`): `results[]` with `test_id`, `test_name`,
//! `issue_text`, `issue_severity`, `issue_confidence`, `issue_cwe`
//! (Bandit ≥ 1.7.3), `filename`, `line_number`, `code` and `more_info`.
//!
//! - Severity: HIGH, MEDIUM, LOW as themselves; UNDEFINED→INFO. The
//!   confidence goes into the description.
//! - rule_id is `test_name:test_id` (`assert_used:B101`).
//! - The hard-coded password tests (B105–B107) quote the password in their
//!   text: it is replaced by `[REDACTED]` and their code is left out.
//! - Fingerprint: test id + file + line and column (the code snippet when
//!   there is no line).

use serde::Deserialize;
use serde_json::Value;
use vulntrack_domain::vulnerability::Severity;

use super::support::{each, from_json, is_blank, line_number, text};
use crate::finding::{cwe_number, severity_from_word};
use crate::{Finding, Location, ParseError, ReportBuilder, detect::Head};

const FORMAT: &str = "bandit";

/// Tests whose text and code hold a password.
const PASSWORD_TESTS: &[&str] = &["B105", "B106", "B107"];

#[derive(Deserialize, Default)]
#[serde(default)]
struct Output {
    results: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Issue {
    test_id: Option<String>,
    test_name: Option<String>,
    issue_text: Option<String>,
    issue_severity: Option<String>,
    issue_confidence: Option<String>,
    issue_cwe: Option<Cwe>,
    filename: Option<String>,
    line_number: Option<Value>,
    col_offset: Option<Value>,
    code: Option<String>,
    more_info: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Cwe {
    id: Option<Value>,
    link: Option<String>,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    let output: Output = from_json(FORMAT, data)?;
    report.scanner("Bandit", None);
    for issue in each::<Issue>(output.results.unwrap_or_default(), "result", report) {
        report.push(finding(issue));
    }
    Ok(())
}

fn finding(issue: Issue) -> Finding {
    let test_id = text(issue.test_id.as_deref());
    let holds_password = test_id.as_deref().is_some_and(|id| PASSWORD_TESTS.contains(&id));
    let issue_text = text(issue.issue_text.as_deref()).map(|t| if holds_password { redact_quoted(&t) } else { t });
    let file = text(issue.filename.as_deref());
    let line = line_number(issue.line_number.as_ref());
    let code = text(issue.code.as_deref()).filter(|_| !holds_password);

    let mut description: Vec<String> = issue_text.iter().cloned().collect();
    if let Some(confidence) = text(issue.issue_confidence.as_deref()) {
        description.push(format!("Confidence: {}", confidence.to_ascii_lowercase()));
    }
    if let Some(code) = &code {
        description.push(format!("```\n{code}\n```"));
    }
    let cwe = issue.issue_cwe.unwrap_or_default();
    let mut references: Vec<String> = [text(issue.more_info.as_deref()), text(cwe.link.as_deref())]
        .into_iter()
        .flatten()
        .filter(|link| link.starts_with("http"))
        .collect();
    references.dedup();

    let rule_id = match (text(issue.test_name.as_deref()), &test_id) {
        (Some(name), Some(id)) => Some(format!("{name}:{id}")),
        (name, id) => name.or_else(|| id.clone()),
    };
    let place = match line {
        // Bandit ≥ 1.7 gives the column: two calls on one line are two findings.
        Some(line) => format!("{line}:{}", issue.col_offset.as_ref().and_then(Value::as_u64).unwrap_or(0)),
        None => code.clone().unwrap_or_default(),
    };
    let fingerprint =
        Finding::fingerprint_of(FORMAT, &[test_id.as_deref().unwrap_or(""), file.as_deref().unwrap_or(""), &place]);
    Finding {
        title: issue_text.clone().unwrap_or_default(),
        description: description.join("\n\n"),
        severity: issue.issue_severity.as_deref().and_then(severity),
        rule_id,
        cwe_ids: cwe.id.as_ref().and_then(cwe_id).into_iter().collect(),
        location: Location { file, line, ..Location::default() },
        references,
        fingerprint,
        ..Finding::default()
    }
}

fn severity(word: &str) -> Option<Severity> {
    match word.trim().to_ascii_uppercase().as_str() {
        "UNDEFINED" => Some(Severity::Info),
        other => severity_from_word(other),
    }
}

/// Bandit writes `"id": 703` (and an empty string when it has none).
fn cwe_id(value: &Value) -> Option<u32> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()).filter(|&n| n > 0),
        Value::String(s) => cwe_number(s),
        _ => None,
    }
}

/// `Possible hardcoded password: 'hunter2'` → `Possible hardcoded password: [REDACTED]`.
fn redact_quoted(text: &str) -> String {
    match text.split_once(": ") {
        Some((head, _)) => format!("{head}: [REDACTED]"),
        None => text.to_owned(),
    }
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    head.is_json()
        && head.has_key("results")
        && ((head.has_key("test_id") && head.has_key("issue_severity"))
            || (head.has_key("generated_at") && head.has_key("metrics")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, parse};

    #[test]
    fn a_hardcoded_password_is_redacted_and_the_cwe_read() {
        let report = parse(
            Format::Bandit,
            br#"{"results":[{"code":"4 password = 'hunter2-very-secret'\n","filename":"app/settings.py",
              "issue_confidence":"MEDIUM","issue_cwe":{"id":259,"link":"https://cwe.mitre.org/data/definitions/259.html"},
              "issue_severity":"LOW","issue_text":"Possible hardcoded password: 'hunter2-very-secret'",
              "line_number":4,"more_info":"https://bandit.readthedocs.io/en/1.7.5/plugins/b105_hardcoded_password_string.html",
              "test_id":"B105","test_name":"hardcoded_password_string"}]}"#,
        )
        .unwrap();
        let finding = &report.findings[0];
        assert!(!format!("{finding:?}").contains("hunter2"), "{finding:?}");
        assert_eq!(finding.title, "Possible hardcoded password: [REDACTED]");
        assert_eq!(finding.cwe_ids, vec![259]);
        assert_eq!(finding.rule_id.as_deref(), Some("hardcoded_password_string:B105"));
        assert_eq!(finding.severity, Some(Severity::Low));
    }

    #[test]
    fn a_malformed_report_is_an_error_with_its_line() {
        let error = parse(Format::Bandit, b"{\n\"results\": [\n{\"test_id\": \"B101\",}\n]}").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
    }
}

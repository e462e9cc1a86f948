//! Gitleaks JSON: a list of leaks, or `null` when there are none. Version 8
//! (`RuleID`, `Description`, `File`, `StartLine`, `Secret`, `Match`,
//! `Commit`, `Date`, `Tags`, `Link`) and the legacy form of versions 1–7
//! (`rule` — `reason` before version 4 —, `file`, `lineNumber`, `offender`,
//! `line`, `commit`, `date`, `tags`, `leakURL`).
//!
//! - Severity: HIGH (Gitleaks does not verify a secret is live).
//! - CWE-798. The secret is never stored: it is replaced by `[REDACTED]` in
//!   the matched line shown in the description, and only its SHA-256 enters
//!   the fingerprint. Author names and e-mail addresses are not kept.
//! - Fingerprint: rule + file + line + SHA-256 of the secret. The commit is
//!   left out: one secret at one place, found again in later commits, is
//!   one leak (its occurrences are counted).

use serde::Deserialize;
use serde_json::Value;
use vulntrack_domain::vulnerability::Severity;

use super::support::{CWE_HARD_CODED_CREDENTIALS, from_json, is_blank, line_number, sha256_hex, text};
use crate::{Finding, Location, ParseError, ReportBuilder, detect::Head};

const FORMAT: &str = "gitleaks";

/// One leak, in either layout (their field names differ in letter case).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Leak {
    #[serde(rename = "RuleID")]
    rule_id: Option<String>,
    #[serde(rename = "Description")]
    description: Option<String>,
    #[serde(rename = "File")]
    file: Option<String>,
    #[serde(rename = "StartLine")]
    start_line: Option<Value>,
    #[serde(rename = "Secret")]
    secret: Option<String>,
    #[serde(rename = "Match")]
    matched: Option<String>,
    #[serde(rename = "Commit")]
    commit: Option<String>,
    #[serde(rename = "Date")]
    date: Option<String>,
    #[serde(rename = "Message")]
    message: Option<String>,
    #[serde(rename = "Tags")]
    tags: Option<Value>,
    #[serde(rename = "Link")]
    link: Option<String>,

    rule: Option<String>,
    reason: Option<String>,
    #[serde(rename = "file")]
    legacy_file: Option<String>,
    #[serde(rename = "lineNumber")]
    line_number: Option<Value>,
    offender: Option<String>,
    line: Option<String>,
    #[serde(rename = "commit")]
    legacy_commit: Option<String>,
    #[serde(rename = "commitMessage", alias = "commitMsg")]
    commit_message: Option<String>,
    #[serde(rename = "date")]
    legacy_date: Option<String>,
    #[serde(rename = "tags")]
    legacy_tags: Option<Value>,
    #[serde(rename = "leakURL")]
    leak_url: Option<String>,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    let leaks: Option<Vec<Value>> = from_json(FORMAT, data)?;
    report.scanner("Gitleaks", None);
    for (at, item) in leaks.unwrap_or_default().into_iter().enumerate() {
        match serde_json::from_value::<Leak>(item) {
            Ok(leak)
                if leak.rule_id.is_some()
                    || leak.description.is_some()
                    || leak.rule.is_some()
                    || leak.reason.is_some() =>
            {
                report.push(finding(leak));
            }
            Ok(_) => report.warn(format!("item {} skipped: it names no rule", at + 1)),
            Err(error) => report.warn(format!("item {} skipped: {error}", at + 1)),
        }
    }
    Ok(())
}

fn finding(leak: Leak) -> Finding {
    let rule =
        text(leak.rule_id.as_deref()).or_else(|| text(leak.rule.as_deref())).or_else(|| text(leak.reason.as_deref()));
    let name = text(leak.description.as_deref()).or_else(|| rule.clone()).unwrap_or_else(|| "secret".to_owned());
    let file = text(leak.file.as_deref()).or_else(|| text(leak.legacy_file.as_deref()));
    let line = line_number(leak.start_line.as_ref()).or_else(|| line_number(leak.line_number.as_ref()));
    let matched = leak.matched.as_deref().or(leak.line.as_deref());
    // Early 8.x reports have no `Secret`: the match then stands for it.
    let secret = [leak.secret.as_deref(), leak.offender.as_deref(), matched]
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty())
        .unwrap_or("");
    let commit = text(leak.commit.as_deref()).or_else(|| text(leak.legacy_commit.as_deref()));

    let mut description = vec![format!("Gitleaks rule `{}` matched a secret.", rule.as_deref().unwrap_or(&name))];
    if let Some(shown) = matched.and_then(|m| redacted(m, secret)) {
        description.push(format!("```\n{shown}\n```"));
    }
    if let Some(commit) = &commit {
        description.push(format!("Commit: {commit}"));
    }
    if let Some(date) = text(leak.date.as_deref()).or_else(|| text(leak.legacy_date.as_deref())) {
        description.push(format!("Date: {date}"));
    }
    if let Some(message) = text(leak.message.as_deref()).or_else(|| text(leak.commit_message.as_deref())) {
        description.push(format!("Commit message: {}", message.lines().next().unwrap_or("")));
    }
    let tags = tags(leak.tags.as_ref().or(leak.legacy_tags.as_ref()));
    if !tags.is_empty() {
        description.push(format!("Tags: {}", tags.join(", ")));
    }

    let fingerprint = Finding::fingerprint_of(
        FORMAT,
        &[
            rule.as_deref().unwrap_or(&name),
            file.as_deref().unwrap_or(""),
            &line.map(|l| l.to_string()).unwrap_or_default(),
            &sha256_hex(secret),
        ],
    );
    Finding {
        title: match &file {
            Some(file) => format!("Hard-coded {name} found in {file}"),
            None => format!("Hard-coded {name}"),
        },
        description: description.join("\n\n"),
        severity: Some(Severity::High),
        rule_id: rule,
        cwe_ids: vec![CWE_HARD_CODED_CREDENTIALS],
        location: Location { file, line, ..Location::default() },
        references: [leak.link, leak.leak_url].into_iter().flatten().filter(|l| l.starts_with("http")).collect(),
        remediation: Some("Revoke and rotate the secret, then remove it from the code and its history.".into()),
        fingerprint,
        ..Finding::default()
    }
}

/// The matched text with the secret replaced, or nothing when the secret
/// is not found in it (the text may then hold the secret in another form).
fn redacted(matched: &str, secret: &str) -> Option<String> {
    let secret = secret.trim();
    if secret.is_empty() || !matched.contains(secret) {
        return None;
    }
    Some(matched.replace(secret, "[REDACTED]")).filter(|shown| !shown.trim().is_empty())
}

/// Version 8 writes a list; older versions a comma-separated string.
fn tags(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).filter_map(|t| text(Some(t))).collect(),
        Some(Value::String(list)) => list.split(',').filter_map(|t| text(Some(t))).collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    head.is_json()
        && ((head.has_key("RuleID") && (head.has_key("StartLine") || head.has_key("Secret")))
            || (head.has_key("offender") && (head.has_key("rule") || head.has_key("reason"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, parse};

    const SECRET: &str = "ghp_R3allyS3cretT0kenValue0123456789abcd";

    #[test]
    fn the_secret_never_appears_in_the_finding() {
        let json = format!(
            r#"[{{"Description":"GitHub Personal Access Token","StartLine":3,"EndLine":3,"Match":"token = \"{SECRET}\"",
                "Secret":"{SECRET}","File":"ci/deploy.sh","Commit":"abc123","Author":"A","Email":"a@example.com",
                "Date":"2024-01-01T00:00:00Z","Message":"add deploy","Tags":[],"RuleID":"github-pat",
                "Fingerprint":"abc123:ci/deploy.sh:github-pat:3"}}]"#
        );
        let report = parse(Format::Gitleaks, json.as_bytes()).unwrap();
        let finding = &report.findings[0];
        let shown = format!("{finding:?}");
        assert!(!shown.contains(SECRET) && !shown.contains("a@example.com"), "{shown}");
        assert!(finding.description.contains("token = \"[REDACTED]\""));
        assert_eq!(finding.title, "Hard-coded GitHub Personal Access Token found in ci/deploy.sh");
        assert_eq!(finding.severity, Some(Severity::High));
    }

    #[test]
    fn a_legacy_seven_x_leak_reads_its_line_number() {
        let report = parse(
            Format::Gitleaks,
            br#"[{"line":"aws_key = AKIAIOSFODNN7EXAMPLE","lineNumber":13,"offender":"AKIAIOSFODNN7EXAMPLE",
                "commit":"c1","repo":"r","repoURL":"","leakURL":"","rule":"AWS Access Key","commitMessage":"m",
                "author":"a","email":"e","file":"conf.py","date":"2021-01-01T00:00:00Z","tags":"key, AWS"}]"#,
        )
        .unwrap();
        let finding = &report.findings[0];
        assert_eq!((finding.location.line, finding.rule_id.as_deref()), (Some(13), Some("AWS Access Key")));
        assert!(!format!("{finding:?}").contains("AKIAIOSFODNN7EXAMPLE"));
        assert!(finding.description.contains("Tags: key, AWS"));
    }

    #[test]
    fn a_malformed_report_is_an_error_with_its_line() {
        let error = parse(Format::Gitleaks, b"[\n{\"RuleID\": \"x\",\n\"StartLine\": ]").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
    }
}

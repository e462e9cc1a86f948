//! TruffleHog JSON lines (`trufflehog … --json`), one secret a line; a JSON
//! list of the same objects is read too. Version 3: `DetectorName`,
//! `DecoderName`, `Verified`, `VerificationError`, `Raw`/`RawV2` and
//! `SourceMetadata.Data.<source>` (Git, Github, Gitlab, Filesystem, S3,
//! Docker, …: `file`, `line`, `commit`, `repository`, `link`, `bucket`,
//! `image`). Version 2: `path`, `reason`, `branch`, `commitHash`, `date`,
//! `stringsFound`. Log lines mixed into the output (`level` and `msg`) are
//! skipped.
//!
//! - Severity (v3): verified live → CRITICAL, otherwise HIGH. (v2, which
//!   does not verify): `High Entropy` → LOW, `Generic …` rules → MEDIUM,
//!   other rules → HIGH.
//! - CWE-798. The secret is never stored: `Raw`, `RawV2`, `Redacted`,
//!   `ExtraData`, `stringsFound` and the diff are not copied; only a
//!   SHA-256 of the raw secret enters the fingerprint. E-mail addresses are
//!   not kept.
//! - Fingerprint (v3): detector + file (or link, bucket, image) + line +
//!   commit + SHA-256 of `Raw` and `RawV2`. (v2, whose items are commit
//!   diffs without line numbers): reason + path, so the same rule in the
//!   same file across the history is one finding with its occurrences.

use serde::Deserialize;
use serde_json::{Map, Value};
use vulntrack_domain::vulnerability::Severity;

use super::support::{
    CWE_HARD_CODED_CREDENTIALS, from_json, is_blank, json_lines, line_number, sha256_hex, string_or_number, without_bom,
};
use crate::{Finding, Location, ParseError, ReportBuilder, detect::Head};

const FORMAT: &str = "trufflehog";

#[derive(Deserialize, Default)]
#[serde(default)]
struct Line {
    // Version 3.
    #[serde(rename = "SourceMetadata")]
    source_metadata: Option<SourceMetadata>,
    #[serde(rename = "SourceName")]
    source_name: Option<Value>,
    #[serde(rename = "DetectorName")]
    detector_name: Option<Value>,
    #[serde(rename = "DecoderName")]
    decoder_name: Option<Value>,
    #[serde(rename = "Verified")]
    verified: Option<Value>,
    #[serde(rename = "VerificationError")]
    verification_error: Option<Value>,
    #[serde(rename = "Raw")]
    raw: Option<Value>,
    #[serde(rename = "RawV2")]
    raw_v2: Option<Value>,
    // Version 2.
    path: Option<Value>,
    reason: Option<Value>,
    branch: Option<Value>,
    #[serde(rename = "commitHash")]
    commit_hash: Option<Value>,
    date: Option<Value>,
    // A log line.
    level: Option<Value>,
    msg: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SourceMetadata {
    #[serde(rename = "Data")]
    data: Option<Map<String, Value>>,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    let lines: Vec<Value> = if without_bom(data).trim_ascii_start().starts_with(b"[") {
        from_json(FORMAT, data)?
    } else {
        json_lines(FORMAT, data)?
    };
    report.scanner("TruffleHog", None);
    for (at, item) in lines.into_iter().enumerate() {
        let line = match serde_json::from_value::<Line>(item) {
            Ok(line) => line,
            Err(error) => {
                report.warn(format!("line {} skipped: {error}", at + 1));
                continue;
            }
        };
        if line.source_metadata.is_some() || line.detector_name.is_some() {
            report.push(version_3(line));
        } else if line.reason.is_some() || line.path.is_some() {
            report.push(version_2(line));
        } else if line.level.is_none() || line.msg.is_none() {
            report.warn(format!("line {} skipped: it is not a TruffleHog finding", at + 1));
        }
    }
    Ok(())
}

fn version_3(line: Line) -> Finding {
    let (source, fields) = line
        .source_metadata
        .and_then(|m| m.data)
        .and_then(|data| data.into_iter().next())
        .map(|(name, fields)| (name, fields.as_object().cloned().unwrap_or_default()))
        .unwrap_or_default();
    let field = |key: &str| string_or_number(fields.get(key));
    let detector = string_or_number(line.detector_name.as_ref()).unwrap_or_else(|| "unknown".to_owned());
    let file = field("file").or_else(|| field("path"));
    let place = file.clone().or_else(|| field("link")).or_else(|| field("bucket")).or_else(|| field("image"));
    let at_line = line_number(fields.get("line"));
    let commit = field("commit");
    let verified = line.verified.as_ref().and_then(Value::as_bool).unwrap_or(false);
    let verification_error = string_or_number(line.verification_error.as_ref());

    let mut description = vec![format!(
        "TruffleHog's {detector} detector found a secret{}.",
        if verified { " and verified that it is live" } else { "" }
    )];
    if let Some(error) = &verification_error {
        description.push(format!("Verification failed: {error}"));
    }
    let source_name = string_or_number(line.source_name.as_ref()).unwrap_or(source);
    let details = [
        ("Source", Some(source_name).filter(|s| !s.is_empty())),
        ("Decoder", string_or_number(line.decoder_name.as_ref())),
        ("Repository", field("repository")),
        ("Commit", commit.clone()),
        ("Committed", field("timestamp")),
        ("Bucket", field("bucket")),
        ("Image", field("image")),
        ("Layer", field("layer")),
    ];
    for (label, value) in details {
        if let Some(value) = value {
            description.push(format!("{label}: {value}"));
        }
    }
    let raw = format!(
        "{}\u{0}{}",
        string_or_number(line.raw.as_ref()).unwrap_or_default(),
        string_or_number(line.raw_v2.as_ref()).unwrap_or_default()
    );
    let fingerprint = Finding::fingerprint_of(
        FORMAT,
        &[
            &detector,
            place.as_deref().unwrap_or(""),
            &at_line.map(|l| l.to_string()).unwrap_or_default(),
            commit.as_deref().unwrap_or(""),
            &sha256_hex(&raw),
        ],
    );
    Finding {
        title: match &place {
            Some(place) => format!("Hard-coded {detector} secret in {place}"),
            None => format!("Hard-coded {detector} secret"),
        },
        description: description.join("\n\n"),
        severity: Some(if verified { Severity::Critical } else { Severity::High }),
        rule_id: Some(detector),
        cwe_ids: vec![CWE_HARD_CODED_CREDENTIALS],
        location: Location { file: place, line: at_line, ..Location::default() },
        references: field("link").filter(|l| l.starts_with("http")).into_iter().collect(),
        remediation: Some(remediation(verified).into()),
        fingerprint,
        ..Finding::default()
    }
}

fn version_2(line: Line) -> Finding {
    let reason = string_or_number(line.reason.as_ref()).unwrap_or_else(|| "secret".to_owned());
    let file = string_or_number(line.path.as_ref());
    let severity = match reason.as_str() {
        "High Entropy" => Severity::Low,
        r if r.starts_with("Generic") => Severity::Medium,
        _ => Severity::High,
    };
    let mut description = vec![format!("TruffleHog rule \"{reason}\" matched a secret.")];
    for (label, value) in [("Branch", &line.branch), ("Commit", &line.commit_hash), ("Date", &line.date)] {
        if let Some(value) = string_or_number(value.as_ref()) {
            description.push(format!("{label}: {value}"));
        }
    }
    Finding {
        title: match &file {
            Some(file) => format!("Hard-coded {reason} in {file}"),
            None => format!("Hard-coded {reason}"),
        },
        description: description.join("\n\n"),
        severity: Some(severity),
        cwe_ids: vec![CWE_HARD_CODED_CREDENTIALS],
        fingerprint: Finding::fingerprint_of(FORMAT, &["v2", &reason, file.as_deref().unwrap_or("")]),
        rule_id: Some(reason),
        location: Location { file, ..Location::default() },
        remediation: Some(remediation(false).into()),
        ..Finding::default()
    }
}

fn remediation(verified: bool) -> String {
    let urgency = if verified { "The secret is live: revoke it now" } else { "Revoke the secret" };
    format!("{urgency}, rotate it, and remove it from the code and its history.")
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    head.is_json()
        && ((head.has_key("SourceMetadata") && head.has_key("DetectorName"))
            || (head.has_key("stringsFound") && head.has_key("reason")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, parse};

    const RAW: &str = "AKIAYVP4CIPPERUVIFXG";

    #[test]
    fn an_unverified_filesystem_secret_is_high_and_never_stored() {
        let data = format!(
            "{{\"level\":\"info-0\",\"ts\":\"2024-01-01T00:00:00Z\",\"logger\":\"trufflehog\",\"msg\":\"running source\"}}\n\
             {{\"SourceMetadata\":{{\"Data\":{{\"Filesystem\":{{\"file\":\"/src/.env\",\"line\":2}}}}}},\"SourceName\":\"trufflehog - filesystem\",\
             \"DetectorName\":\"AWS\",\"DecoderName\":\"PLAIN\",\"Verified\":false,\"Raw\":\"{RAW}\",\"RawV2\":\"{RAW}secretpart\",\
             \"Redacted\":\"{RAW}\",\"ExtraData\":{{\"account\":\"1\"}}}}\n"
        );
        let report = parse(Format::Trufflehog, data.as_bytes()).unwrap();
        assert_eq!(report.findings.len(), 1);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        let finding = &report.findings[0];
        assert!(!format!("{finding:?}").contains(RAW));
        assert_eq!(finding.severity, Some(Severity::High));
        assert_eq!((finding.location.file.as_deref(), finding.location.line), (Some("/src/.env"), Some(2)));
    }

    #[test]
    fn version_2_lines_merge_by_rule_and_file() {
        let line = r#"{"branch":"origin/dev","commit":"m","commitHash":"HASH","date":"2021-01-30 19:50:09","diff":"-secret = 'abc'","path":"test_all.py","printDiff":"x","reason":"Generic Secret","stringsFound":["secret = 'd15627104d07846ac2914a976e8e347a663bbd9b'"]}"#;
        let data = format!("{}\n{}\n", line, line.replace("HASH", "OTHER"));
        let report = parse(Format::Trufflehog, data.as_bytes()).unwrap();
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.findings[0].occurrences, 2);
        assert_eq!(report.findings[0].severity, Some(Severity::Medium));
        assert!(!format!("{:?}", report.findings[0]).contains("d15627104d07846ac2914a976e8e347a663bbd9b"));
    }

    #[test]
    fn a_malformed_line_is_an_error_naming_it() {
        let data = b"{\"SourceMetadata\":{},\"DetectorName\":\"AWS\"}\n{\"SourceMetadata\": \n";
        let error = parse(Format::Trufflehog, data).unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
    }
}

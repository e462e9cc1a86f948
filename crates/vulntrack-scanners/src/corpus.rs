//! The shared scanner-report corpus (`tests/fixtures/scans`, copied from
//! DefectDojo's parser tests under the BSD-3-Clause notice beside it) and
//! its manifest: the distinct findings each report must yield and the first
//! finding's fields. Read by this crate's tests and by the server's import
//! tests, which check the same fields through the API and the CLI.

use std::path::PathBuf;

use serde::Deserialize;

/// One report of the corpus.
#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    pub format: String,
    /// Relative to [`dir`].
    pub file: String,
    /// Distinct findings after merging repeats inside the report.
    pub findings: usize,
    /// The first finding's fields.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// Where the corpus is.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scans")
}

/// Every entry of the manifest.
pub fn entries() -> Vec<Entry> {
    let manifest = std::fs::read(dir().join("manifest.json")).unwrap_or_default();
    serde_json::from_slice(&manifest).unwrap_or_default()
}

/// A finding's fields as the manifest names them, wherever it was read from.
#[derive(Debug, Default)]
pub struct Observed<'a> {
    pub title: &'a str,
    /// Upper case, as VulnTrack writes severities.
    pub severity: Option<&'a str>,
    pub cve_id: Option<&'a str>,
    pub rule_id: Option<&'a str>,
    pub component_name: Option<&'a str>,
    pub component_version: Option<&'a str>,
    pub file: Option<&'a str>,
    pub line: Option<u64>,
    pub cwe_ids: Vec<u64>,
}

/// Lower-case words of letters and digits.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Titles and paths are one tool's composition: equal ignoring case and
/// punctuation, one inside the other, or sharing half the expected words.
pub fn loosely_equal(expected: &str, actual: &str) -> bool {
    let (want, have) = (words(expected), words(actual));
    if want.is_empty() {
        return true;
    }
    let (want_text, have_text) = (want.join(" "), have.join(" "));
    if have_text.contains(&want_text) || (!have_text.is_empty() && want_text.contains(&have_text)) {
        return true;
    }
    let shared = want.iter().filter(|w| have.contains(w)).count();
    shared * 2 >= want.len()
}

/// Whether one manifest field holds: severity, ids, component, version and
/// line exactly; titles and paths loosely (the manifest's README says why).
pub fn check(key: &str, value: &serde_json::Value, seen: &Observed<'_>) -> Result<(), String> {
    let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
    let ok = match key {
        "title" => loosely_equal(&text, seen.title),
        "severity" => seen.severity == Some(&*text.to_uppercase()),
        "vuln_id" => seen.cve_id == Some(&*text) || seen.rule_id == Some(&*text),
        "rule_id" => seen.rule_id == Some(&*text),
        "component_name" => seen.component_name == Some(&*text),
        "component_version" => seen.component_version == Some(&*text),
        "file_path" => seen.file.is_some_and(|file| loosely_equal(&text, file)),
        "line" => seen.line == value.as_u64(),
        "cwe" => value.as_u64().is_some_and(|cwe| seen.cwe_ids.contains(&cwe)),
        other => return Err(format!("the manifest has a field this check does not know: {other}")),
    };
    if ok { Ok(()) } else { Err(format!("{key}: expected {value}, got {seen:?}")) }
}

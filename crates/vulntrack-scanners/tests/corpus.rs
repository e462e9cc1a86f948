//! Every report of the shared corpus (tests/fixtures/scans, copied from
//! DefectDojo's parser tests under the BSD-3-Clause notice beside them)
//! reads with the manifest's number of distinct findings and the first
//! finding's fields; and `format=auto` names the right format.

use vulntrack_scanners::{
    Finding, Format,
    corpus::{self, Observed},
    detect, parse, parse_reader,
};

fn observed(finding: &Finding) -> Observed<'_> {
    Observed {
        title: &finding.title,
        severity: finding.severity.map(|s| s.as_str()),
        cve_id: finding.cve_id.as_deref(),
        rule_id: finding.rule_id.as_deref(),
        component_name: finding.component.as_ref().map(|c| c.name.as_str()),
        component_version: finding.component.as_ref().and_then(|c| c.version.as_deref()),
        file: finding.location.file.as_deref(),
        line: finding.location.line.map(u64::from),
        cwe_ids: finding.cwe_ids.iter().map(|&c| u64::from(c)).collect(),
    }
}

#[test]
fn every_corpus_report_yields_the_manifest_findings_and_fields() {
    let (root, entries) = (corpus::dir(), corpus::entries());
    assert_eq!(entries.len(), 82, "the corpus manifest lists 82 reports");
    let mut failures = Vec::new();
    for entry in &entries {
        let format: Format = entry.format.parse().expect("a known format");
        let data = std::fs::read(root.join(&entry.file)).expect("the report file");
        let report = match parse(format, &data) {
            Ok(report) => report,
            Err(error) => {
                failures.push(format!("{}: {error}", entry.file));
                continue;
            }
        };
        if report.findings.len() != entry.findings {
            failures.push(format!("{}: {} findings, expected {}", entry.file, report.findings.len(), entry.findings));
            continue;
        }
        for finding in &report.findings {
            if finding.fingerprint.len() != 64 || finding.title.is_empty() || finding.severity.is_none() {
                failures.push(format!("{}: incomplete finding {finding:#?}", entry.file));
            }
        }
        if let Some(first) = report.findings.first() {
            for (key, value) in &entry.fields {
                if let Err(why) = corpus::check(key, value, &observed(first)) {
                    failures.push(format!("{}: {why}", entry.file));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} reports differ:\n{}", failures.len(), entries.len(), failures.join("\n"));
}

#[test]
fn auto_detection_names_each_corpus_format() {
    let (root, entries) = (corpus::dir(), corpus::entries());
    let mut failures = Vec::new();
    for entry in &entries {
        let data = std::fs::read(root.join(&entry.file)).expect("the report file");
        let text = String::from_utf8_lossy(&data);
        // An empty file, `null` or `[]` is no format's in particular.
        if matches!(text.trim(), "" | "null" | "[]" | "{}") {
            continue;
        }
        match detect(&data) {
            Ok(format) if format.name() == entry.format => {}
            Ok(format) => failures.push(format!("{}: detected {format}", entry.file)),
            Err(error) => failures.push(format!("{}: {error}", entry.file)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fingerprints_are_stable_across_reads_and_distinct_within_a_report() {
    let (root, entries) = (corpus::dir(), corpus::entries());
    for entry in entries.iter().filter(|e| e.findings > 1) {
        let format: Format = entry.format.parse().expect("a known format");
        let data = std::fs::read(root.join(&entry.file)).expect("the report file");
        let (Ok(once), Ok(twice)) = (parse(format, &data), parse(format, &data)) else { continue };
        let prints: Vec<&str> = once.findings.iter().map(|f| f.fingerprint.as_str()).collect();
        let again: Vec<&str> = twice.findings.iter().map(|f| f.fingerprint.as_str()).collect();
        assert_eq!(prints, again, "{}", entry.file);
        let mut distinct = prints.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), prints.len(), "{}", entry.file);
    }
}

/// Every corpus report read from a reader (as a file is) gives what the
/// same bytes give, for the formats that stream and the ones read whole;
/// so do its variants with a byte-order mark and blank space in front,
/// and a truncated one fails alike.
#[test]
fn reports_read_from_a_reader_are_read_as_from_memory() {
    let (root, entries) = (corpus::dir(), corpus::entries());
    let summary = |report: &vulntrack_scanners::Report| {
        let findings: Vec<(String, String, u32)> =
            report.findings.iter().map(|f| (f.fingerprint.clone(), f.title.clone(), f.occurrences)).collect();
        (report.format, report.scanner.clone(), findings, report.warnings.clone())
    };
    for entry in entries {
        let format: Format = entry.format.parse().expect("a known format");
        let data = std::fs::read(root.join(&entry.file)).expect("the report file");
        let mut padded = b"\xEF\xBB\xBF \n\t".to_vec();
        padded.extend_from_slice(&data);
        let truncated = &data[..data.len() / 2];
        for (variant, bytes) in [("as written", &data[..]), ("padded", &padded[..]), ("truncated", truncated)] {
            let from_memory = parse(format, bytes);
            let from_reader = parse_reader(format, std::io::BufReader::with_capacity(64, bytes));
            match (from_memory, from_reader) {
                (Ok(memory), Ok(reader)) => {
                    assert_eq!(summary(&memory), summary(&reader), "{} {variant}", entry.file)
                }
                (Err(memory), Err(reader)) => assert_eq!(memory, reader, "{} {variant}", entry.file),
                (memory, reader) => panic!(
                    "{} {variant}: from memory {:?}, from a reader {:?}",
                    entry.file,
                    memory.map(|r| r.findings.len()),
                    reader.map(|r| r.findings.len())
                ),
            }
        }
    }
}

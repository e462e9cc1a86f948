//! The register's columns, shared by the CSV and XLSX exports: one table
//! of headings and cell functions, so both files always carry the same
//! columns in the same order.

use chrono::{DateTime, Utc};
use vulntrack_domain::vulnerability::scanner::Location;
use vulntrack_store::vulnerabilities::Vulnerability;

use super::People;

/// One cell, typed so a spreadsheet gets numbers and dates, not text.
#[derive(Debug)]
pub enum Cell {
    Text(String),
    Number(f64),
    Bool(bool),
    Time(DateTime<Utc>),
    Empty,
}

impl Cell {
    fn text(value: Option<&str>) -> Self {
        value.filter(|v| !v.is_empty()).map_or(Cell::Empty, |v| Cell::Text(v.to_owned()))
    }

    fn time(value: Option<DateTime<Utc>>) -> Self {
        value.map_or(Cell::Empty, Cell::Time)
    }

    fn joined(values: impl IntoIterator<Item = String>) -> Self {
        let text = values.into_iter().collect::<Vec<_>>().join("; ");
        if text.is_empty() { Cell::Empty } else { Cell::Text(text) }
    }

    /// The cell as CSV writes it (before formula neutralising).
    pub fn to_text(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Time(at) => at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            Cell::Empty => String::new(),
        }
    }
}

/// What a row is made from: the record, the time SLA states are judged
/// at, and the team's people (for names in place of ids).
#[derive(Debug)]
pub struct Row<'a> {
    pub record: &'a Vulnerability,
    pub people: &'a People,
    pub now: DateTime<Utc>,
}

type Column = (&'static str, fn(&Row<'_>) -> Cell);

/// Where a finding is, as one line: `file:line`, the URL, or
/// `host:port/protocol`.
pub fn location_label(location: &Location) -> Option<String> {
    if let Some(file) = &location.file {
        return Some(location.line.map_or_else(|| file.clone(), |line| format!("{file}:{line}")));
    }
    if let Some(url) = &location.url {
        return Some(url.clone());
    }
    location.host.as_ref().map(|host| {
        let mut label = host.clone();
        if let Some(port) = location.port {
            label.push_str(&format!(":{port}"));
        }
        if let Some(protocol) = &location.protocol {
            label.push_str(&format!("/{protocol}"));
        }
        label
    })
}

pub const COLUMNS: &[Column] = &[
    ("Key", |r| Cell::Text(r.record.key())),
    ("Title", |r| Cell::Text(r.record.record.title.clone())),
    ("Severity", |r| Cell::Text(r.record.record.severity.as_str().to_owned())),
    ("Status", |r| Cell::Text(r.record.record.status.as_str().to_owned())),
    ("Resolution", |r| Cell::text(r.record.record.resolution.map(|res| res.as_str()))),
    ("CVSS score", |r| r.record.record.cvss_score.map_or(Cell::Empty, Cell::Number)),
    ("CVSS vector", |r| Cell::text(r.record.record.cvss_vector.as_deref())),
    ("Priority", |r| Cell::Number(f64::from(r.record.intel.priority))),
    ("Known exploited", |r| Cell::Bool(r.record.intel.known_exploited)),
    ("EPSS", |r| r.record.intel.epss.map_or(Cell::Empty, Cell::Number)),
    ("CVE", |r| Cell::text(r.record.record.cve_id.as_deref())),
    ("CWE", |r| Cell::joined(r.record.scan.cwe_ids.iter().map(|n| format!("CWE-{n}")))),
    ("Kind", |r| Cell::Text(r.record.record.kind.as_str().to_owned())),
    ("Assignee", |r| Cell::text(r.record.record.assignee_id.and_then(|id| r.people.email(id)))),
    ("Reporter", |r| Cell::text(r.record.reporter_id.and_then(|id| r.people.email(id)))),
    ("Assets", |r| Cell::joined(r.record.record.assets.iter().cloned())),
    ("Tags", |r| Cell::joined(r.record.record.tags.iter().cloned())),
    ("Component", |r| Cell::text(r.record.scan.component.as_ref().map(|c| c.name.as_str()))),
    ("Component version", |r| Cell::text(r.record.scan.component.as_ref().and_then(|c| c.version.as_deref()))),
    ("Package URL", |r| Cell::text(r.record.scan.component.as_ref().and_then(|c| c.purl.as_deref()))),
    ("Fixed version", |r| Cell::text(r.record.scan.fixed_version.as_deref())),
    ("Location", |r| Cell::text(location_label(&r.record.scan.location).as_deref())),
    ("Source", |r| Cell::Text(r.record.scan.source.clone())),
    ("Scanner", |r| Cell::text(r.record.scan.scanner.as_deref())),
    ("Rule", |r| Cell::text(r.record.scan.rule_id.as_deref())),
    ("Due", |r| Cell::time(r.record.deadlines.map(|d| d.due_at))),
    ("SLA", |r| {
        let open = !r.record.record.is_resolved();
        Cell::text(r.record.deadlines.filter(|_| open).map(|d| d.state(r.now).as_str()))
    }),
    ("Created", |r| Cell::Time(r.record.created_at)),
    ("Updated", |r| Cell::Time(r.record.updated_at)),
    ("Resolved", |r| Cell::time(r.record.resolved_at)),
    ("First seen", |r| Cell::time(r.record.scan.first_seen_at)),
    ("Last seen", |r| Cell::time(r.record.scan.last_seen_at)),
    ("Description", |r| Cell::Text(r.record.record.description.clone())),
    ("Remediation", |r| Cell::text(r.record.record.remediation.as_deref())),
    ("References", |r| Cell::joined(r.record.record.references.iter().cloned())),
    ("Id", |r| Cell::Text(r.record.id.to_string())),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_reads_as_one_line() {
        let file = Location { file: Some("src/db.rs".into()), line: Some(7), ..Location::default() };
        assert_eq!(location_label(&file).as_deref(), Some("src/db.rs:7"));
        let host = Location {
            host: Some("10.0.0.5".into()),
            port: Some(443),
            protocol: Some("tcp".into()),
            ..Location::default()
        };
        assert_eq!(location_label(&host).as_deref(), Some("10.0.0.5:443/tcp"));
        assert_eq!(location_label(&Location::default()), None);
    }
}

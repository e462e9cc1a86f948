//! The register leaving the product: the vulnerability list, with its
//! filters and sort, as CSV, JSON Lines, XLSX, SARIF 2.1.0 or CycloneDX
//! 1.6 VEX. Every format is written a page of records at a time, so the
//! size of an export does not change the memory it takes (CycloneDX keeps
//! one entry per distinct component; XLSX keeps its rows in temporary
//! files until the workbook is zipped).

mod cyclonedx;
pub mod register;
mod sarif;
mod xlsx;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use vulntrack_domain::UserId;
use vulntrack_store::{users::User, vulnerabilities::Vulnerability};

use crate::spreadsheet::neutralise;

pub use xlsx::Workbook;

/// The formats an export can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
    Xlsx,
    Sarif,
    CycloneDx,
}

impl Format {
    pub const NAMES: &'static str = "csv, jsonl, xlsx, sarif or cyclonedx";

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "csv" => Format::Csv,
            "jsonl" | "ndjson" => Format::Jsonl,
            "xlsx" => Format::Xlsx,
            "sarif" => Format::Sarif,
            "cyclonedx" | "cyclonedx-vex" | "vex" => Format::CycloneDx,
            _ => return None,
        })
    }

    pub const fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Xlsx => "xlsx",
            Format::Sarif => "sarif",
            Format::CycloneDx => "cyclonedx",
        }
    }

    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Jsonl => "application/x-ndjson",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Sarif => "application/sarif+json",
            Format::CycloneDx => "application/vnd.cyclonedx+json",
        }
    }

    /// The download's file name ending.
    pub const fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Xlsx => "xlsx",
            Format::Sarif => "sarif",
            Format::CycloneDx => "cdx.json",
        }
    }

    /// Only records with a component are findings a VEX document can name.
    pub const fn needs_component(self) -> bool {
        matches!(self, Format::CycloneDx)
    }
}

/// The team's people by id, for email addresses in place of ids.
#[derive(Debug, Default, Clone)]
pub struct People(HashMap<UserId, String>);

impl People {
    pub fn of(users: Vec<User>) -> Self {
        Self(users.into_iter().map(|u| (u.id, u.email)).collect())
    }

    pub fn email(&self, id: UserId) -> Option<&str> {
        self.0.get(&id).map(String::as_str)
    }
}

/// A format written as text, piece by piece: what comes before the first
/// record, each page of records, and what closes the document.
pub trait TextEncoder: Send {
    fn begin(&mut self) -> Vec<u8>;
    fn page(&mut self, records: &[Vulnerability]) -> std::io::Result<Vec<u8>>;
    fn end(&mut self) -> std::io::Result<Vec<u8>>;
}

/// How a record reads as JSON (the API's record view, which the API
/// module owns and passes in).
pub type JsonRecord = fn(&Vulnerability) -> serde_json::Value;

/// The encoder of a text format (`None` for XLSX, see [`Workbook`]).
pub fn text_encoder(format: Format, people: People, excel_bom: bool, json: JsonRecord) -> Option<Box<dyn TextEncoder>> {
    let now = Utc::now();
    Some(match format {
        Format::Csv => Box::new(Csv { people, now, excel_bom }),
        Format::Jsonl => Box::new(Jsonl(json)),
        Format::Sarif => Box::new(sarif::Sarif::default()),
        Format::CycloneDx => Box::new(cyclonedx::Vex::new(now)),
        Format::Xlsx => return None,
    })
}

struct Csv {
    people: People,
    now: DateTime<Utc>,
    excel_bom: bool,
}

impl TextEncoder for Csv {
    fn begin(&mut self) -> Vec<u8> {
        // Excel reads a CSV file as the machine's code page unless it
        // starts with a byte order mark.
        let mut out = if self.excel_bom { "\u{feff}".as_bytes().to_vec() } else { Vec::new() };
        let mut writer = csv::Writer::from_writer(&mut out);
        let _ = writer.write_record(register::COLUMNS.iter().map(|(heading, _)| *heading));
        drop(writer);
        out
    }

    fn page(&mut self, records: &[Vulnerability]) -> std::io::Result<Vec<u8>> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        for record in records {
            let row = register::Row { record, people: &self.people, now: self.now };
            writer.write_record(register::COLUMNS.iter().map(|(_, cell)| neutralise(&cell(&row).to_text())))?;
        }
        writer.into_inner().map_err(|e| e.into_error())
    }

    fn end(&mut self) -> std::io::Result<Vec<u8>> {
        Ok(Vec::new())
    }
}

/// One record per line.
struct Jsonl(JsonRecord);

impl TextEncoder for Jsonl {
    fn begin(&mut self) -> Vec<u8> {
        Vec::new()
    }

    fn page(&mut self, records: &[Vulnerability]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        for record in records {
            serde_json::to_writer(&mut out, &(self.0)(record))?;
            out.push(b'\n');
        }
        Ok(out)
    }

    fn end(&mut self) -> std::io::Result<Vec<u8>> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names() {
        for format in [Format::Csv, Format::Jsonl, Format::Xlsx, Format::Sarif, Format::CycloneDx] {
            assert_eq!(Format::parse(format.name()), Some(format));
        }
        assert_eq!(Format::parse("pdf"), None);
    }
}

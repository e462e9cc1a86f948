//! Scanner reports read into one finding shape.
//!
//! Each of the 22 formats has a module under `formats/` that reads the
//! report's own structure (its specification and the variants real tools
//! write) and emits [`Finding`]s into a [`ReportBuilder`], which merges the
//! repeats inside one report by fingerprint. Nothing here touches a
//! database: the import service decides what a finding means for a team.
//!
//! Input safety lives here too: [`unpack`] opens `.gz` and single-report
//! `.zip` uploads within a decompressed-size limit, and [`xml`] refuses
//! DTDs and runaway nesting before any XML format reads a byte.

pub mod corpus;
pub mod cve_feeds;
pub mod detect;
pub mod error;
pub mod finding;
pub mod format;
mod formats;
pub mod report;
pub mod unpack;
pub mod xml;

pub use detect::detect;
pub use error::ParseError;
pub use finding::{Component, Finding, Location};
pub use format::Format;
pub use report::{Report, ReportBuilder};
pub use unpack::{UnpackError, unpack};

/// Reads a report of `format` from `reader` (a report file, not compressed),
/// as it comes for the formats that stream (Trivy, SARIF), so a large
/// report is never in memory beside its findings; the others are read
/// whole, then parsed as by [`parse`].
pub fn parse_reader(format: Format, mut reader: impl std::io::BufRead) -> Result<Report, ParseError> {
    let unreadable = |e: std::io::Error| ParseError::new(format!("the report cannot be read: {e}"));
    // The byte-order mark is skipped (as `parse` does, so errors are at the
    // same lines and columns); the first byte after any blank space is
    // looked at, not taken. Kept for a format read whole.
    let mut skipped = Vec::new();
    if reader.fill_buf().map_err(unreadable)?.starts_with(b"\xEF\xBB\xBF") {
        skipped.extend_from_slice(b"\xEF\xBB\xBF");
        reader.consume(3);
    }
    let first = reader.fill_buf().map_err(unreadable)?.iter().copied().find(|b| !b.is_ascii_whitespace());
    let mut report = ReportBuilder::new(format);
    let streamed = first.and_then(|first| formats::parse_reader(format, first, &mut reader, &mut report));
    match streamed {
        Some(read) => {
            read?;
            Ok(report.finish())
        }
        None => {
            let mut data = skipped;
            reader.read_to_end(&mut data).map_err(unreadable)?;
            parse(format, &data)
        }
    }
}

/// Reads `data` as a report of `format`.
///
/// A malformed report is an error naming the line and column when the
/// parser knows them; nothing is returned half-read.
pub fn parse(format: Format, data: &[u8]) -> Result<Report, ParseError> {
    let mut report = ReportBuilder::new(format);
    formats::parse(format, data, &mut report)?;
    Ok(report.finish())
}

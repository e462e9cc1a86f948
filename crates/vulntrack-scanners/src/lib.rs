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

/// Reads `data` as a report of `format`.
///
/// A malformed report is an error naming the line and column when the
/// parser knows them; nothing is returned half-read.
pub fn parse(format: Format, data: &[u8]) -> Result<Report, ParseError> {
    let mut report = ReportBuilder::new(format);
    formats::parse(format, data, &mut report)?;
    Ok(report.finish())
}

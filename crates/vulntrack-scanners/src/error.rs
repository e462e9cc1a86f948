//! What went wrong reading a report, said so a person can find it.

use std::fmt;

/// A report that could not be read: the reason and, when the parser knows
/// it, where (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
}

impl ParseError {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), line: None, column: None }
    }

    pub fn at(message: impl Into<String>, line: u64, column: u64) -> Self {
        Self { message: message.into(), line: Some(line), column: Some(column) }
    }

    /// A JSON error where serde_json located it.
    pub fn json(format: &str, error: &serde_json::Error) -> Self {
        let message = format!("not a valid {format} report: {}", strip_position(&error.to_string()));
        match error.line() {
            0 => Self::new(message),
            line => Self::at(message, line as u64, error.column() as u64),
        }
    }

    /// An XML error at a byte offset of `data`.
    pub fn xml(format: &str, error: impl fmt::Display, data: &[u8], offset: u64) -> Self {
        let (line, column) = line_and_column(data, offset);
        Self::at(format!("not a valid {format} report: {error}"), line, column)
    }

    /// A CSV error, which the csv crate locates by record line.
    pub fn csv(format: &str, error: &csv::Error) -> Self {
        let message = format!("not a valid {format} report: {}", csv_reason(error));
        match error.position() {
            Some(position) => Self::at(message, position.line(), 1),
            None => Self::new(message),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "{} (line {line}, column {column})", self.message),
            (Some(line), None) => write!(f, "{} (line {line})", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ParseError {}

/// serde_json appends " at line L column C"; the position is kept apart.
fn strip_position(message: &str) -> &str {
    message.rsplit_once(" at line ").map_or(message, |(head, _)| head)
}

fn csv_reason(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("a row has {len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "a row is not UTF-8 text".to_owned(),
        _ => error.to_string(),
    }
}

/// 1-based line and column of a byte offset.
pub fn line_and_column(data: &[u8], offset: u64) -> (u64, u64) {
    let end = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
    let before = &data[..end];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() as u64 + 1;
    (line, column)
}

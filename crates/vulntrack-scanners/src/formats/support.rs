//! Small readers every format module shares.

use serde::de::DeserializeOwned;

use crate::ParseError;

/// The bytes without a UTF-8 byte order mark.
pub(crate) fn without_bom(data: &[u8]) -> &[u8] {
    data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data)
}

/// Whether a report holds nothing at all: no bytes, whitespace, `null`,
/// `[]` or `{}` (tools write each of these for "no findings").
pub(crate) fn is_blank(data: &[u8]) -> bool {
    let text = without_bom(data).trim_ascii();
    matches!(text, b"" | b"null" | b"[]" | b"{}")
}

/// One JSON document of type `T`, or an error naming the line.
pub(crate) fn from_json<T: DeserializeOwned>(format: &str, data: &[u8]) -> Result<T, ParseError> {
    serde_json::from_slice(without_bom(data)).map_err(|e| ParseError::json(format, &e))
}

/// Each non-blank line of a JSON-lines report as a `T`; an error names the line.
pub(crate) fn json_lines<T: DeserializeOwned>(format: &str, data: &[u8]) -> Result<Vec<T>, ParseError> {
    let mut items = Vec::new();
    for (index, line) in without_bom(data).split(|&b| b == b'\n').enumerate() {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let item = serde_json::from_slice(line).map_err(|e| {
            ParseError::at(
                format!(
                    "not a valid {format} report: {}",
                    e.to_string().rsplit_once(" at line ").map_or(e.to_string(), |(h, _)| h.to_owned())
                ),
                index as u64 + 1,
                e.column() as u64,
            )
        })?;
        items.push(item);
    }
    Ok(items)
}

/// A CSV reader over the report: headers by name, rows of any length
/// (exports differ in trailing columns), leading whitespace kept.
pub(crate) fn csv_reader(data: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().flexible(true).from_reader(without_bom(data))
}

/// `Some(trimmed)` unless the text is absent or blank.
pub(crate) fn text(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

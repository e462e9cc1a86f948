//! Small readers every format module shares: the report's bytes, JSON
//! values as tools write them, CSV columns by name, and a few text helpers.

use std::{collections::HashMap, fmt};

use serde::{
    Deserialize, Deserializer,
    de::{self, DeserializeOwned, DeserializeSeed, SeqAccess, Visitor},
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{ParseError, ReportBuilder};

/// Hard-coded credentials.
pub(crate) const CWE_HARD_CODED_CREDENTIALS: u32 = 798;

/// Hard-coded password, cryptographic key and credentials.
pub(crate) const HARD_CODED_SECRET_CWES: &[u32] = &[259, 321, CWE_HARD_CODED_CREDENTIALS];

// ---- Bytes ------------------------------------------------------------------

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

/// Whether the report starts as JSON rather than XML or CSV.
pub(crate) fn starts_as_json(data: &[u8]) -> bool {
    matches!(without_bom(data).trim_ascii_start().first(), Some(b'{' | b'['))
}

// ---- JSON -------------------------------------------------------------------

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

/// Each item read as a `T`; one that cannot be is skipped with a warning.
pub(crate) fn each<T: DeserializeOwned>(items: Vec<Value>, what: &str, report: &mut ReportBuilder) -> Vec<T> {
    let mut read = Vec::with_capacity(items.len());
    for (at, item) in items.into_iter().enumerate() {
        match serde_json::from_value(item) {
            Ok(item) => read.push(item),
            Err(error) => report.warn(format!("{what} {} skipped: {error}", at + 1)),
        }
    }
    read
}

/// What a streamed [`List`] does with each element.
pub(crate) trait EachElement<'de> {
    /// What the list is, for an error's "expected …".
    const EXPECTING: &'static str;

    /// Reads and handles the next element; `false` at the end of the list.
    fn next<A: SeqAccess<'de>>(&mut self, seq: &mut A) -> Result<bool, A::Error>;
}

/// A JSON list, or `null` (tools write it for an empty one), whose elements
/// are handled one at a time as they are read, never collected: how the
/// formats whose reports run to hundreds of megabytes are read.
pub(crate) struct List<T>(pub T);

impl<'de, T: EachElement<'de>> DeserializeSeed<'de> for List<T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, T: EachElement<'de>> Visitor<'de> for List<T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while self.0.next(&mut seq)? {}
        Ok(())
    }
}

/// For `#[serde(deserialize_with = "nullable")]`: `null` reads as the
/// default (tools write `null` for an empty list).
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A JSON value that is one `T` or a list of them.
pub(crate) fn one_or_many<T: DeserializeOwned>(value: Value) -> Result<Vec<T>, serde_json::Error> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.into_iter().map(serde_json::from_value).collect(),
        other => Ok(vec![serde_json::from_value(other)?]),
    }
}

/// A string or a number as text, trimmed, unless blank (tools write some
/// ids and line numbers as numbers).
pub(crate) fn string_or_number(value: Option<&Value>) -> Option<String> {
    let scalar = match value? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    text(Some(scalar.as_str()))
}

/// A string, a number or a boolean as text, trimmed, unless blank.
pub(crate) fn scalar_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Bool(b) => Some(b.to_string()),
        other => string_or_number(Some(other)),
    }
}

/// Strings from a JSON string, a list of strings, or nothing (as given:
/// not trimmed).
pub(crate) fn string_list(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// A positive line number, given as a number or a numeric string.
pub(crate) fn line_number(value: Option<&Value>) -> Option<u32> {
    let value = value?;
    let n = value.as_u64().or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))?;
    u32::try_from(n).ok().filter(|&n| n > 0)
}

/// A JSON value that may be a string, a number or a boolean, read as text.
#[derive(Debug, Default, Clone)]
pub(crate) struct Lenient(Option<String>);

impl Lenient {
    /// The value, trimmed, unless blank.
    pub fn text(&self) -> Option<String> {
        self.0.clone()
    }
}

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Lenient(scalar_text(Some(&Value::deserialize(deserializer)?))))
    }
}

// ---- CSV --------------------------------------------------------------------

/// A CSV reader over the report: headers by name, rows of any length
/// (exports differ in trailing columns), leading whitespace kept; the
/// delimiter is `;` or a tab when the header line uses more of that than of
/// commas (Tenable and Qualys exports).
pub(crate) fn csv_reader(data: &[u8]) -> csv::Reader<&[u8]> {
    let data = without_bom(data);
    let header = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |delimiter: u8| header.iter().filter(|&&b| b == delimiter).count();
    let delimiter = [b';', b'\t'].into_iter().find(|&d| count(d) > count(b',')).unwrap_or(b',');
    csv::ReaderBuilder::new().flexible(true).delimiter(delimiter).from_reader(data)
}

/// A CSV header row, looked up by column name in any letter case.
#[derive(Debug)]
pub(crate) struct Columns(HashMap<String, usize>);

impl Columns {
    pub fn new(header: &csv::StringRecord) -> Self {
        let mut index = HashMap::new();
        for (at, name) in header.iter().enumerate() {
            index.entry(name.trim().to_ascii_lowercase()).or_insert(at);
        }
        Self(index)
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The first non-blank value among the columns `names` (lower case).
    pub fn get<'r>(&self, row: &'r csv::StringRecord, names: &[&str]) -> Option<&'r str> {
        names
            .iter()
            .filter_map(|name| self.0.get(*name))
            .filter_map(|&at| row.get(at))
            .map(str::trim)
            .find(|value| !value.is_empty())
    }

    pub fn text(&self, row: &csv::StringRecord, names: &[&str]) -> Option<String> {
        self.get(row, names).map(str::to_owned)
    }
}

// ---- Text -------------------------------------------------------------------

/// `Some(trimmed)` unless the text is absent or blank.
pub(crate) fn text(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// Whether the text, trimmed, is one http(s) URL.
pub(crate) fn is_url(text: &str) -> bool {
    let text = text.trim();
    (text.starts_with("http://") || text.starts_with("https://")) && !text.contains(char::is_whitespace)
}

/// Appends each of `values` that the list does not hold yet, in order.
pub(crate) fn push_unique<T: PartialEq>(list: &mut Vec<T>, values: impl IntoIterator<Item = T>) {
    for value in values {
        if !list.contains(&value) {
            list.push(value);
        }
    }
}

/// `values` in order, each once.
pub(crate) fn unique<T: PartialEq>(values: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut list = Vec::new();
    push_unique(&mut list, values);
    list
}

/// Whether a rule is about secrets, so that what it matched is the secret:
/// its id names one, or it has a hard-coded secret CWE.
pub(crate) fn is_secrets_rule(rule_id: Option<&str>, cwe_ids: &[u32]) -> bool {
    rule_id.is_some_and(|id| id.to_ascii_lowercase().contains("secret"))
        || cwe_ids.iter().any(|cwe| HARD_CODED_SECRET_CWES.contains(cwe))
}

/// Hex SHA-256 of a secret: what stands for it in a fingerprint.
pub(crate) fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

//! The shape the NVD's and CISA's JSON feeds share: one object whose list
//! key holds the records, read one at a time as they stream past, and a
//! key naming the file's version; other keys are skipped.

use std::{fmt, io::BufRead, marker::PhantomData};

use serde::{
    Deserializer,
    de::{self, DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor},
};

use super::{STOPPED, Stop, Summary};
use crate::{
    ParseError,
    formats::support::{EachElement, List},
};

/// How one JSON feed is laid out.
pub(super) struct Layout<Raw, Record> {
    /// The feed's name in errors: "not a valid {format} report".
    pub format: &'static str,
    pub expecting: &'static str,
    /// The key of the list of records.
    pub list: &'static str,
    /// The key of the file's version.
    pub version: &'static str,
    /// A key that, when present, must hold this text (NVD: `format`).
    pub required: Option<(&'static str, &'static str)>,
    /// Keys that show another format, each with what to tell the person.
    pub refused: &'static [(&'static str, &'static str)],
    /// Each record as read, or why it is left out.
    pub record: fn(Raw) -> Result<Record, String>,
    pub raw: PhantomData<fn() -> Raw>,
}

/// Reads `reader` as a file of `layout`, handing each record to `each`.
pub(super) fn read<Raw: DeserializeOwned, Record>(
    layout: &Layout<Raw, Record>,
    reader: impl BufRead,
    summary: &mut Summary,
    each: &mut dyn FnMut(Record) -> Result<(), Stop>,
) -> Result<(), ParseError> {
    let mut json = serde_json::Deserializer::from_reader(reader);
    (&mut json)
        .deserialize_map(Top { layout, summary, each })
        .and_then(|()| json.end())
        .map_err(|e| ParseError::json(layout.format, &e))
}

struct Top<'a, Raw, Record> {
    layout: &'a Layout<Raw, Record>,
    summary: &'a mut Summary,
    each: &'a mut dyn FnMut(Record) -> Result<(), Stop>,
}

impl<'de, Raw: DeserializeOwned, Record> Visitor<'de> for Top<'_, Raw, Record> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.layout.expecting)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let layout = self.layout;
        while let Some(key) = map.next_key::<String>()? {
            if let Some((_, why)) = layout.refused.iter().find(|(refused, _)| *refused == key) {
                return Err(de::Error::custom(why));
            }
            if key == layout.list {
                let items = Items { layout, summary: &mut *self.summary, each: &mut *self.each };
                map.next_value_seed(List(items))?;
            } else if key == layout.version {
                self.summary.version = map.next_value::<Option<String>>()?;
            } else if let Some((_, wanted)) = layout.required.filter(|(required, _)| *required == key) {
                let found: Option<String> = map.next_value()?;
                if found.as_deref().is_some_and(|f| f != wanted) {
                    return Err(de::Error::custom(format!("the {key} is {found:?}, not {wanted:?}")));
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Items<'a, Raw, Record> {
    layout: &'a Layout<Raw, Record>,
    summary: &'a mut Summary,
    each: &'a mut dyn FnMut(Record) -> Result<(), Stop>,
}

impl<'de, Raw: DeserializeOwned, Record> EachElement<'de> for Items<'_, Raw, Record> {
    const EXPECTING: &'static str = "a list of records";

    fn next<A: SeqAccess<'de>>(&mut self, seq: &mut A) -> Result<bool, A::Error> {
        let Some(raw) = seq.next_element::<Raw>()? else { return Ok(false) };
        match (self.layout.record)(raw) {
            Ok(record) => {
                self.summary.read += 1;
                (self.each)(record).map_err(|Stop| de::Error::custom(STOPPED))?;
            }
            Err(reason) => self.summary.skip(reason),
        }
        Ok(true)
    }
}

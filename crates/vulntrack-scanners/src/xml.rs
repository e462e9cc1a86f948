//! XML input safety, checked before any format reads a document: no
//! entity declarations (so no external entity and no entity expansion),
//! and nesting no deeper than [`MAX_DEPTH`].
//!
//! quick-xml never fetches a DTD, nor expands entities beyond the five
//! predefined ones. A document type declaration is still looked at: real
//! Burp exports carry an internal subset of element declarations and
//! Nikto and Qualys reports name an external DTD, which are harmless and
//! accepted (and never read); one that declares an entity — the
//! "billion laughs" and XXE shapes — is refused outright rather than
//! left to the parser.

use quick_xml::{Reader, events::Event};

use crate::ParseError;

/// Deeper than any scanner report nests (Nessus and Burp stay under 10).
pub const MAX_DEPTH: usize = 64;

/// Refuses a DOCTYPE, runaway nesting and malformed XML, naming the line.
pub fn check(format: &str, data: &[u8]) -> Result<(), ParseError> {
    let mut reader = Reader::from_reader(data);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        let at = reader.buffer_position();
        let event =
            reader.read_event_into(&mut buf).map_err(|e| ParseError::xml(format, e, data, reader.error_position()))?;
        match event {
            Event::DocType(doctype) if declares_entities(&doctype) => {
                return Err(ParseError::xml(
                    format,
                    "a document type declaration (DTD) that declares entities is not accepted in an upload",
                    data,
                    at,
                ));
            }
            Event::Start(_) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ParseError::xml(
                        format,
                        format!("elements nest deeper than {MAX_DEPTH} levels"),
                        data,
                        at,
                    ));
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            // A report cut short would read as one with fewer findings, and
            // a reimport would close the rest: it is refused instead.
            Event::Eof if depth > 0 => {
                return Err(ParseError::xml(
                    format,
                    format!("the document ends with {depth} element(s) still open: the file is cut short"),
                    data,
                    at,
                ));
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}

/// Whether a DOCTYPE's internal subset declares an entity (`<!ENTITY`),
/// in any letter case and spacing.
fn declares_entities(doctype: &[u8]) -> bool {
    doctype.windows(6).any(|w| w.eq_ignore_ascii_case(b"ENTITY"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_document_passes() {
        check("zap", b"<?xml version=\"1.0\"?><a><b x=\"1\">t &amp; u</b></a>").unwrap();
    }

    #[test]
    fn a_doctype_without_entities_passes() {
        check("nikto", b"<?xml version=\"1.0\"?>\n<!DOCTYPE niktoscan SYSTEM \"docs/nikto.dtd\">\n<niktoscan/>")
            .unwrap();
        check("burp", b"<!DOCTYPE issues [<!ELEMENT issues (issue*)>]><issues/>").unwrap();
    }

    #[test]
    fn external_entities_and_entity_bombs_are_refused() {
        let xxe = b"<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<r>&x;</r>";
        let error = check("burp", xxe).unwrap_err();
        assert!(error.message.contains("DTD"), "{error}");
        assert_eq!(error.line, Some(2));
        let laughs = b"<!DOCTYPE l [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><l>&b;</l>";
        assert!(check("nessus", laughs).is_err());
    }

    #[test]
    fn deep_nesting_and_broken_documents_are_refused() {
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(check("zap", deep.as_bytes()).unwrap_err().message.contains("nest deeper"));
        let broken = check("zap", b"<a>\n<b></c></a>").unwrap_err();
        assert_eq!(broken.line, Some(2), "{broken}");
        let cut = check("nessus", b"<NessusClientData_v2>\n<Report>\n<ReportHost>").unwrap_err();
        assert!(cut.message.contains("cut short"), "{cut}");
    }
}

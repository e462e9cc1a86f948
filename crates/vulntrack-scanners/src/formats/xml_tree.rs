//! XML reports read into a tree of elements, after [`crate::xml::check`]
//! (which accepts the entity-free DOCTYPE real Burp, Nikto and Qualys
//! reports carry, and refuses one that declares entities).
//!
//! Elements and attributes are named by their local name, so
//! `v:vulnerability` (CycloneDX's 1.0 extension) and `vulnerability` read
//! alike. An element's text is its character data and CDATA together, with
//! character references and the five predefined entities resolved (any
//! other reference is kept as written). A byte order mark is skipped, and an
//! error names the line and column.

use std::borrow::Cow;

use quick_xml::{
    Reader,
    escape::resolve_predefined_entity,
    events::{BytesStart, Event},
};

use super::support::without_bom;
use crate::ParseError;

/// An XML element as read: its local name, attributes, the text directly
/// in it (CDATA and entities resolved) and its child elements.
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    /// The attribute `name`, trimmed, unless blank.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The elements `item` of the list elements `list` (`<cwes><cwe>`).
    pub fn items<'a>(&'a self, list: &'a str, item: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children(list).flat_map(move |l| l.children(item))
    }

    /// The element's own text, trimmed, unless blank.
    pub fn value(&self) -> Option<String> {
        Some(self.text.trim()).filter(|t| !t.is_empty()).map(str::to_owned)
    }

    /// The text of the first child `name` that has any, trimmed.
    pub fn get(&self, name: &str) -> Option<String> {
        self.children(name).find_map(Node::value)
    }

    /// The text of the first child `name`, trimmed, unless blank.
    pub fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).and_then(Node::value)
    }

    /// Every element `name` below this one, in document order, without
    /// looking inside the matches.
    pub fn find_all<'a>(&'a self, name: &str) -> Vec<&'a Node> {
        let mut found = Vec::new();
        let mut pending: Vec<&Node> = self.children.iter().rev().collect();
        while let Some(node) = pending.pop() {
            if node.name == name {
                found.push(node);
            } else {
                pending.extend(node.children.iter().rev());
            }
        }
        found
    }

    pub fn find(&self, name: &str) -> Option<&Node> {
        self.find_all(name).into_iter().next()
    }
}

/// Reads a whole XML report into a tree under a document node (whose
/// children are the top-level elements).
pub(crate) fn read(format: &str, data: &[u8]) -> Result<Node, ParseError> {
    read_without(format, data, &[])
}

/// [`read`], dropping the text of the elements `bodies` (request and
/// response bodies that are never stored and can be most of a report).
pub(crate) fn read_without(format: &str, data: &[u8], bodies: &[&str]) -> Result<Node, ParseError> {
    let data = without_bom(data);
    crate::xml::check(format, data)?;
    let mut reader = Reader::from_reader(data);
    let mut stack = vec![Node { name: "#document".to_owned(), ..Node::default() }];
    let fail = |reader: &Reader<&[u8]>, error: &dyn std::fmt::Display| {
        ParseError::xml(format, error, data, reader.error_position())
    };
    loop {
        let event = reader.read_event().map_err(|e| fail(&reader, &e))?;
        match event {
            Event::Start(start) => stack.push(element(&start)),
            Event::Empty(start) => {
                let node = element(&start);
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(node);
                }
            }
            Event::End(_) => close(&mut stack),
            Event::Eof => break,
            _ if stack.last().is_some_and(|node| bodies.contains(&node.name.as_str())) => {}
            Event::Text(t) => append(&mut stack, &t.xml10_content().map_err(|e| fail(&reader, &e))?),
            Event::CData(t) => append(&mut stack, &t.xml10_content().map_err(|e| fail(&reader, &e))?),
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| fail(&reader, &e))?;
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => resolve_predefined_entity(&name).map_or_else(|| format!("&{name};"), str::to_owned),
                };
                append(&mut stack, &resolved);
            }
            _ => {}
        }
    }
    while stack.len() > 1 {
        close(&mut stack);
    }
    Ok(stack.pop().unwrap_or_default())
}

fn element(start: &BytesStart<'_>) -> Node {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let attributes = start
        .attributes()
        .flatten()
        .map(|a| {
            let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
            let value =
                a.unescape_value().map_or_else(|_| String::from_utf8_lossy(&a.value).into_owned(), Cow::into_owned);
            (key, value)
        })
        .collect();
    Node { name, attributes, ..Node::default() }
}

fn append(stack: &mut [Node], text: &str) {
    if let Some(node) = stack.last_mut() {
        node.text.push_str(text);
    }
}

fn close(stack: &mut Vec<Node>) {
    if stack.len() > 1
        && let Some(node) = stack.pop()
        && let Some(parent) = stack.last_mut()
    {
        parent.children.push(node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entity_free_doctype_is_read_and_an_entity_is_refused() {
        let ok = b"<?xml version=\"1.0\"?>\n<!DOCTYPE r [\n<!ELEMENT r (#PCDATA)>\n]>\n<r>a &amp; b</r>";
        let document = read("burp", ok).unwrap();
        assert_eq!(document.child("r").and_then(Node::value).as_deref(), Some("a & b"));
        let bad = b"<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<r>&x;</r>";
        assert!(read("burp", bad).unwrap_err().message.contains("DTD"));
    }

    #[test]
    fn a_broken_document_names_its_line() {
        let error = read("zap", b"<a>\n<b>\n</c></a>").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
    }

    #[test]
    fn names_are_local_and_bodies_are_skipped() {
        let data = "\u{feff}<v:r xmlns:v=\"urn:x\" v:id=\" 7 \"><v:a>x&#65;<![CDATA[<y>]]></v:a><body>skipped<b/></body></v:r>";
        let document = read_without("zap", data.as_bytes(), &["body"]).unwrap();
        let root = document.child("r").unwrap();
        assert_eq!((root.attr("id"), root.get("a").as_deref()), (Some("7"), Some("xA<y>")));
        let body = root.child("body").unwrap();
        assert_eq!((body.text.as_str(), body.children.len()), ("", 1));
        assert_eq!(root.items("body", "b").count(), 1);
    }
}

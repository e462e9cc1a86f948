//! Control characters in text input. None of them belongs in a title, a
//! name, an email or a search; NUL in particular is refused by PostgreSQL's
//! text types, so letting it through made the same input a 500 on one
//! backend and stored data on the other. Every text input is checked here,
//! once, at the edge: JSON bodies field by field, form bodies and query
//! strings parameter by parameter. Line breaks and tabs stay allowed
//! (descriptions and comments are multi-line).

use serde_json::Value;

use crate::validation::{FieldError, ValidationErrors};

/// Whether `c` is a control character text input may not hold: C0 controls
/// other than tab, line feed and carriage return, and DEL.
pub fn is_forbidden(c: char) -> bool {
    (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

pub fn contains_forbidden(text: &str) -> bool {
    text.chars().any(is_forbidden)
}

/// The error for one field holding a control character.
pub fn field_error(field: impl Into<String>) -> FieldError {
    FieldError::new(field, "control_character", "must not contain control characters (such as NUL)")
}

/// Every string (and object key) in `value` that holds a control
/// character, named by its path (`title`, `dread.damage`, `tags[2]`).
pub fn errors_in_json(value: &Value) -> ValidationErrors {
    let mut errors = ValidationErrors::default();
    walk(value, String::new(), &mut errors);
    errors
}

fn walk(value: &Value, path: String, errors: &mut ValidationErrors) {
    match value {
        Value::String(text) if contains_forbidden(text) => {
            errors.push(field_error(if path.is_empty() { "body".to_string() } else { path }));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, format!("{path}[{i}]"), errors);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let field = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                if contains_forbidden(key) {
                    errors.push(field_error(field.chars().filter(|c| !is_forbidden(*c)).collect::<String>()));
                } else {
                    walk(item, field, errors);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn control_characters_are_found_and_named_by_path() {
        let body = json!({ "title": "a\u{0}b", "description": "two\nlines\tand tab", "tags": ["ok", "x\u{1b}"], "dread": { "damage": "\u{7f}" } });
        let fields: Vec<String> = errors_in_json(&body).iter().map(|e| e.field.clone()).collect();
        assert_eq!(fields, ["dread.damage", "tags[1]", "title"]);
        assert!(errors_in_json(&json!({ "text": "Ünïcödé ✓ \u{202e} fine" })).is_empty());
    }
}

//! Field-level validation errors, shaped for RFC 9457 problem details and
//! for form messages alike.

use std::fmt;

use serde::Serialize;

/// A garde rule: the value holds more than whitespace.
pub fn not_blank(value: &str, _: &()) -> garde::Result {
    if value.trim().is_empty() { Err(garde::Error::new("must not be blank")) } else { Ok(()) }
}

/// One broken rule on one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The input field, as the client named it (`email`, `password`, …).
    pub field: String,
    /// A stable machine-readable code (`too_short`, `common`, …).
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), code: code.into(), message: message.into() }
    }
}

/// Every broken rule of one input, never just the first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldError> {
        self.0.iter()
    }

    /// `Ok(value)` when nothing was recorded, else the collected errors.
    pub fn into_result<T>(self, value: T) -> Result<T, Self> {
        if self.is_empty() { Ok(value) } else { Err(self) }
    }

    /// Translates garde's report: each path becomes a field name, each
    /// message a field error with the `invalid` code, worded for people
    /// (garde says "length is lower than 1"; a person reads "must not be
    /// blank"). One error per field: a blank field breaks both its length
    /// and its not-blank rule, and saying so twice helps nobody.
    pub fn from_garde(report: &garde::Report) -> Self {
        let mut errors: Vec<FieldError> = Vec::new();
        for (path, error) in report.iter() {
            let field = path.to_string();
            if errors.iter().any(|e| e.field == field) {
                continue;
            }
            errors.push(FieldError::new(field, "invalid", humane(error.message())));
        }
        Self(errors)
    }
}

/// garde's rule messages, as the sentences our own rules use.
fn humane(message: &str) -> String {
    let number = |rest: &str| rest.trim().parse::<u64>().ok();
    if let Some(min) = message.strip_prefix("length is lower than ").and_then(number) {
        return if min <= 1 { "must not be blank".into() } else { format!("must be at least {min} characters") };
    }
    if let Some(max) = message.strip_prefix("length is greater than ").and_then(number) {
        return format!("must be at most {max} characters");
    }
    if let Some(min) = message.strip_prefix("lower than ").and_then(number) {
        return format!("must be at least {min}");
    }
    if let Some(max) = message.strip_prefix("greater than ").and_then(number) {
        return format!("must be at most {max}");
    }
    if message.starts_with("not a valid email") {
        return "must be an email address, like name@example.com".into();
    }
    if message.starts_with("not a valid url") {
        return "must be a web address, like https://example.com".into();
    }
    message.to_string()
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

#[cfg(test)]
mod tests {
    use garde::Validate;

    use super::*;

    #[derive(Validate)]
    struct Form {
        #[garde(length(chars, min = 1, max = 5), custom(not_blank))]
        name: String,
        #[garde(email)]
        email: String,
        #[garde(length(chars, min = 12))]
        password: String,
        #[garde(range(min = 1, max = 365))]
        days: i64,
    }

    #[test]
    fn garde_reports_read_as_sentences_one_per_field() {
        let form = Form { name: String::new(), email: "ada.example.com".into(), password: "short".into(), days: 0 };
        let report = form.validate().expect_err("invalid");
        let errors = ValidationErrors::from_garde(&report);
        let messages: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
        assert_eq!(
            messages,
            vec![
                ("days", "must be at least 1"),
                ("email", "must be an email address, like name@example.com"),
                ("name", "must not be blank"),
                ("password", "must be at least 12 characters"),
            ]
        );
        let long = Form { name: "x".repeat(6), email: "a@b.example".into(), password: "x".repeat(12), days: 400 };
        let errors = ValidationErrors::from_garde(&long.validate().expect_err("invalid"));
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, vec!["must be at most 365", "must be at most 5 characters"]);
    }
}

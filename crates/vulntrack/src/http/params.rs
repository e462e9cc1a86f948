//! Query-parameter parsing shared by the list endpoints: each bad value is
//! a field error, collected with the others.

use chrono::{DateTime, Utc};
use vulntrack_domain::{ValidationErrors, validation::FieldError};

/// A date (`2024-05-01`, midnight UTC) or an RFC 3339 time.
pub fn time(field: &str, value: Option<&str>, errors: &mut ValidationErrors) -> Option<DateTime<Utc>> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Some(time.with_timezone(&Utc));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    errors.push(FieldError::new(field, "invalid", "must be a date (2024-05-01) or an RFC 3339 time"));
    None
}

/// A page size from 1 to `max`, `default` when absent.
pub fn limit(value: Option<&str>, default: u64, max: u64, errors: &mut ValidationErrors) -> u64 {
    match value.filter(|l| !l.is_empty()) {
        None => default,
        Some(text) => match text.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                errors.push(FieldError::new("limit", "range", format!("must be a whole number from 1 to {max}")));
                default
            }
        },
    }
}

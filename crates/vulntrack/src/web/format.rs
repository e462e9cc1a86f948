//! How pages show values, defined once for every page: names of enum
//! values as words, and times (shown in UTC, with the machine-readable
//! form for `<time datetime>`).

use chrono::{DateTime, Utc};

/// `IN_PROGRESS` → `In progress`.
pub fn label(text: &str) -> String {
    let lower = text.replace('_', " ").to_lowercase();
    let mut chars = lower.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().collect::<String>() + chars.as_str())
}

/// To the minute, and as RFC 3339.
pub fn when(time: DateTime<Utc>) -> (String, String) {
    (time.format("%Y-%m-%d %H:%M UTC").to_string(), time.to_rfc3339())
}

/// To the second (the audit log), and as RFC 3339.
pub fn when_exactly(time: DateTime<Utc>) -> (String, String) {
    (time.format("%Y-%m-%d %H:%M:%S UTC").to_string(), time.to_rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_times_read_as_words() {
        assert_eq!(label("IN_PROGRESS"), "In progress");
        assert_eq!(label(""), "");
        let time = DateTime::parse_from_rfc3339("2026-11-29T08:05:09Z").expect("time").with_timezone(&Utc);
        assert_eq!(when(time).0, "2026-11-29 08:05 UTC");
        assert_eq!(when_exactly(time).0, "2026-11-29 08:05:09 UTC");
        assert_eq!(when(time).1, "2026-11-29T08:05:09+00:00");
    }
}

/// The same formatting as askama filters, for templates:
/// `{{ severity|label }}` renders `In progress` for `IN_PROGRESS`,
/// `{{ at|time }}` renders `<time datetime="…">2026-11-29 08:05 UTC</time>`,
/// `{{ at|time_exactly }}` to the second.
pub mod filters {
    use askama::{Result, Values, filters::Safe};
    use chrono::{DateTime, Utc};

    fn element((text, iso): (String, String)) -> Safe<String> {
        // Both parts are formatted dates: nothing in them needs escaping.
        Safe(format!("<time datetime=\"{iso}\">{text}</time>"))
    }

    #[askama::filter_fn]
    pub fn label<T: std::fmt::Display>(value: T, _: &dyn Values) -> Result<String> {
        Ok(super::label(&value.to_string()))
    }

    #[askama::filter_fn]
    pub fn time(at: &DateTime<Utc>, _: &dyn Values) -> Result<Safe<String>> {
        Ok(element(super::when(*at)))
    }

    #[askama::filter_fn]
    pub fn time_exactly(at: &DateTime<Utc>, _: &dyn Values) -> Result<Safe<String>> {
        Ok(element(super::when_exactly(*at)))
    }
}

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

/// The zone a user reads times in: the one they chose, or none yet (the
/// page then shows UTC, and the script turns it into the browser's zone).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Zone(Option<vulntrack_domain::time_zone::Tz>);

impl Zone {
    pub fn named(name: Option<&str>) -> Self {
        Self(name.and_then(vulntrack_domain::time_zone::parse))
    }

    /// Whether the user chose this zone (else the browser's applies).
    pub fn chosen(self) -> bool {
        self.0.is_some()
    }

    fn show(self, time: DateTime<Utc>, format: &str) -> String {
        match self.0 {
            Some(zone) => time.with_timezone(&zone).format(&format!("{format} %Z")).to_string(),
            None => time.format(&format!("{format} UTC")).to_string(),
        }
    }
}

/// To the minute in `zone`, and as RFC 3339.
pub fn when(time: DateTime<Utc>, zone: Zone) -> (String, String) {
    (zone.show(time, "%Y-%m-%d %H:%M"), time.to_rfc3339())
}

/// To the second (the audit log) in `zone`, and as RFC 3339.
pub fn when_exactly(time: DateTime<Utc>, zone: Zone) -> (String, String) {
    (zone.show(time, "%Y-%m-%d %H:%M:%S"), time.to_rfc3339())
}

/// A field as the person filling the form knows it: `dread.damage` →
/// `DREAD damage`, `references[0]` → `Reference 1`, `cvss_vector` →
/// `CVSS vector`, `assignee_id` → `Assignee`.
pub fn field_label(field: &str) -> String {
    if let Some((list, rest)) = field.split_once('[') {
        let index: usize = rest.trim_end_matches(']').parse().unwrap_or(0);
        let singular = match list {
            "references" => "Reference",
            "assets" => "Asset",
            "tags" => "Tag",
            other => return format!("{} {}", field_label(other), index + 1),
        };
        return format!("{singular} {}", index + 1);
    }
    if let Some(factor) = field.strip_prefix("dread.") {
        return format!("DREAD {}", label(factor).to_lowercase());
    }
    if let Some(category) = field.strip_prefix("stride.") {
        return format!("STRIDE {}", label(category).to_lowercase());
    }
    match field {
        "dread" => "DREAD".into(),
        "stride" => "STRIDE".into(),
        "cvss_vector" => "CVSS vector".into(),
        "cvss_score" => "CVSS score".into(),
        "cve_id" => "CVE id".into(),
        "assignee_id" => "Assignee".into(),
        "expires_in_days" => "Expires in (days)".into(),
        other => label(other),
    }
}

/// A rule's message as a sentence: `must not be blank` → `Must not be blank.`
pub fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let Some(first) = chars.next() else { return String::new() };
    let mut text: String = first.to_uppercase().chain(chars).collect();
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// How long ago, in the largest whole unit: `just now`, `5 minutes ago`,
/// `3 days ago`, `2 years ago`.
pub fn ago(time: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - time).num_seconds().max(0);
    let (count, unit) = match seconds {
        0..60 => return "just now".to_string(),
        60..3_600 => (seconds / 60, "minute"),
        3_600..86_400 => (seconds / 3_600, "hour"),
        86_400..2_592_000 => (seconds / 86_400, "day"),
        2_592_000..31_536_000 => (seconds / 2_592_000, "month"),
        _ => (seconds / 31_536_000, "year"),
    };
    format!("{count} {unit}{} ago", if count == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_messages_read_as_words() {
        assert_eq!(field_label("dread.affected_users"), "DREAD affected users");
        assert_eq!(field_label("references[0]"), "Reference 1");
        assert_eq!(field_label("assets[2]"), "Asset 3");
        assert_eq!(field_label("tags[1]"), "Tag 2");
        assert_eq!(field_label("stride.denial_of_service"), "STRIDE denial of service");
        assert_eq!(field_label("cvss_vector"), "CVSS vector");
        assert_eq!(field_label("new_password"), "New password");
        assert_eq!(sentence("must not be blank"), "Must not be blank.");
        assert_eq!(sentence("Choose system, light or dark."), "Choose system, light or dark.");
        assert_eq!(sentence(""), "");
    }

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn ages_read_in_the_largest_whole_unit() {
        let now = DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").expect("time").with_timezone(&Utc);
        for (seconds, text) in [
            (0, "just now"),
            (59, "just now"),
            (60, "1 minute ago"),
            (7_199, "1 hour ago"),
            (86_400 * 3, "3 days ago"),
            (86_400 * 45, "1 month ago"),
            (86_400 * 800, "2 years ago"),
            (-30, "just now"),
        ] {
            assert_eq!(ago(now - chrono::Duration::seconds(seconds), now), text, "{seconds}");
        }
    }

    #[test]
    fn labels_and_times_read_as_words() {
        assert_eq!(label("IN_PROGRESS"), "In progress");
        assert_eq!(label(""), "");
        let time = DateTime::parse_from_rfc3339("2026-11-29T08:05:09Z").expect("time").with_timezone(&Utc);
        assert_eq!(when(time, Zone::default()).0, "2026-11-29 08:05 UTC");
        assert_eq!(when_exactly(time, Zone::default()).0, "2026-11-29 08:05:09 UTC");
        assert_eq!(when(time, Zone::default()).1, "2026-11-29T08:05:09+00:00");
        let paris = Zone::named(Some("Europe/Paris"));
        assert_eq!(when(time, paris).0, "2026-11-29 09:05 CET");
        assert_eq!(when(time, Zone::named(Some("Asia/Kolkata"))).0, "2026-11-29 13:35 IST");
        assert_eq!(when(time, Zone::named(Some("Nowhere"))).0, "2026-11-29 08:05 UTC", "unknown: UTC");
        assert_eq!(when(time, paris).1, "2026-11-29T08:05:09+00:00", "the machine form stays UTC");
    }
}

/// The same formatting as askama filters, for templates:
/// `{{ severity|label }}` renders `In progress` for `IN_PROGRESS`,
/// `{{ at|time }}` renders `<time datetime="…">2026-11-29 08:05 UTC</time>`,
/// `{{ at|time_exactly }}` to the second.
pub mod filters {
    use askama::{Result, Values, filters::Safe};
    use chrono::{DateTime, Utc};

    use super::Zone;
    use crate::web::page::Nav;

    fn zone_of(nav: &Option<Nav>) -> Zone {
        nav.as_ref().map(|nav| nav.zone).unwrap_or_default()
    }

    /// `<time>` with the machine-readable instant; marked `data-local` when
    /// the user chose no zone, for the script to show it in the browser's.
    fn element((text, iso): (String, String), zone: Zone, title: Option<&str>) -> Safe<String> {
        let local = if zone.chosen() { "" } else { " data-local" };
        // Every part is a formatted date or a fixed word: nothing to escape.
        match title {
            Some(relative) => Safe(format!("<time datetime=\"{iso}\" title=\"{text}\"{local}>{relative}</time>")),
            None => Safe(format!("<time datetime=\"{iso}\"{local}>{text}</time>")),
        }
    }

    #[askama::filter_fn]
    pub fn label<T: std::fmt::Display>(value: T, _: &dyn Values) -> Result<String> {
        Ok(super::label(&value.to_string()))
    }

    /// `{{ at|time(nav) }}`: to the minute, in the user's zone.
    #[askama::filter_fn]
    pub fn time(at: &DateTime<Utc>, _: &dyn Values, nav: &Option<Nav>) -> Result<Safe<String>> {
        let zone = zone_of(nav);
        Ok(element(super::when(*at, zone), zone, None))
    }

    /// `{{ at|ago(nav) }}`: "3 days ago", with the exact time on hover.
    #[askama::filter_fn]
    pub fn ago(at: &DateTime<Utc>, _: &dyn Values, nav: &Option<Nav>) -> Result<Safe<String>> {
        let zone = zone_of(nav);
        let relative = super::ago(*at, Utc::now());
        Ok(element(super::when(*at, zone), zone, Some(&relative)))
    }

    #[askama::filter_fn]
    pub fn thousands(n: &u64, _: &dyn Values) -> Result<String> {
        Ok(super::thousands(*n))
    }

    /// `{{ at|time_exactly(nav) }}`: to the second, in the user's zone.
    #[askama::filter_fn]
    pub fn time_exactly(at: &DateTime<Utc>, _: &dyn Values, nav: &Option<Nav>) -> Result<Safe<String>> {
        let zone = zone_of(nav);
        Ok(element(super::when_exactly(*at, zone), zone, None))
    }
}

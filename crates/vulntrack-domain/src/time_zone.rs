//! Time zones by their IANA names (`Europe/Paris`), as a user picks one
//! for the pages.

pub use chrono_tz::Tz;

/// The zone named exactly `name`.
pub fn parse(name: &str) -> Option<Tz> {
    name.parse().ok()
}

/// The zones to choose from: `Area/City` names (the legacy aliases such as
/// `US/Pacific` or `EST5EDT` are accepted when typed but not offered),
/// and UTC.
pub fn names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).filter(|name| {
        *name == "UTC"
            || [
                "Africa/",
                "America/",
                "Antarctica/",
                "Asia/",
                "Atlantic/",
                "Australia/",
                "Europe/",
                "Indian/",
                "Pacific/",
            ]
            .iter()
            .any(|area| name.starts_with(area))
    })
}

/// A garde rule: empty (the browser's zone) or a zone's IANA name.
pub fn time_zone_name(value: &str, _: &()) -> garde::Result {
    if value.trim().is_empty() || parse(value.trim()).is_some() {
        Ok(())
    } else {
        Err(garde::Error::new("must be a time zone such as Europe/Paris or America/New_York"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_named_as_iana_names_them() {
        assert_eq!(parse("Europe/Paris").map(|tz| tz.name()), Some("Europe/Paris"));
        assert!(parse("Mars/Olympus").is_none());
        assert!(parse("").is_none());
        let offered: Vec<&str> = names().collect();
        assert!(offered.contains(&"UTC") && offered.contains(&"Asia/Kolkata") && offered.len() > 300);
        assert!(!offered.contains(&"US/Pacific"), "aliases are not offered");
        assert!(time_zone_name("", &()).is_ok() && time_zone_name("America/New_York", &()).is_ok());
        assert!(time_zone_name("Nowhere", &()).is_err());
    }
}

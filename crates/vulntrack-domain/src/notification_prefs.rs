//! How each person wants to hear of each kind of notification: in the
//! product only, also by mail, or not at all; and whether a daily digest
//! of what they have not read is mailed to them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a kind of notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Listed under Notifications.
    InApp,
    /// Listed, and mailed.
    Email,
    /// Neither.
    Off,
}

impl Delivery {
    pub const fn as_str(self) -> &'static str {
        match self {
            Delivery::InApp => "in_app",
            Delivery::Email => "email",
            Delivery::Off => "off",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Delivery::InApp, Delivery::Email, Delivery::Off].into_iter().find(|d| d.as_str() == text)
    }
}

/// Each kind of notification: its name, what a person reads, and where it
/// goes until they choose. What asks something of the person (assigned,
/// mentioned, a decision to make or made, a deadline missed) is mailed.
pub const KINDS: &[(&str, &str, Delivery)] = &[
    ("ASSIGNED", "A record is assigned to you", Delivery::Email),
    ("MENTIONED", "You are mentioned in a comment", Delivery::Email),
    ("COMMENTED", "A comment on a record you report or are assigned", Delivery::InApp),
    ("STATUS_CHANGED", "The status of a record you report or are assigned changes", Delivery::InApp),
    ("REOPENED", "An import reopens a record assigned to you", Delivery::InApp),
    ("SLA_DUE_SOON", "A record you are assigned is due soon", Delivery::InApp),
    ("SLA_BREACHED", "A record you are assigned is overdue", Delivery::Email),
    ("RISK_ACCEPTANCE_REQUESTED", "Someone asks to accept a risk (ADMINs)", Delivery::Email),
    ("RISK_ACCEPTANCE_APPROVED", "Your request to accept a risk is approved", Delivery::Email),
    ("RISK_ACCEPTANCE_REJECTED", "Your request to accept a risk is rejected", Delivery::Email),
    ("RISK_ACCEPTANCE_EXPIRED", "An accepted risk expires and its record reopens", Delivery::Email),
    ("IMPORT", "An import on an asset you own", Delivery::InApp),
    (
        "KNOWN_EXPLOITED",
        "CISA lists the CVE of an open record you are assigned (ADMINs: any) as exploited",
        Delivery::Email,
    ),
];

/// A person's choices; kinds not chosen go where [`KINDS`] says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    #[serde(default)]
    pub kinds: BTreeMap<String, Delivery>,
    /// Mail a daily digest of unread notifications.
    #[serde(default)]
    pub digest: bool,
}

impl Preferences {
    /// The stored form, or the defaults when there is none (or it is unreadable).
    pub fn from_stored(stored: Option<&str>) -> Self {
        stored.and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default()
    }

    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Where a notification of `kind` goes for this person.
    pub fn delivery(&self, kind: &str) -> Delivery {
        self.kinds.get(kind).copied().unwrap_or_else(|| {
            KINDS.iter().find(|(name, ..)| *name == kind).map_or(Delivery::InApp, |(_, _, default)| *default)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_mail_what_asks_something_and_choices_override_them() {
        let mut prefs = Preferences::from_stored(None);
        assert_eq!(prefs.delivery("ASSIGNED"), Delivery::Email);
        assert_eq!(prefs.delivery("COMMENTED"), Delivery::InApp);
        assert_eq!(prefs.delivery("SOMETHING_NEW"), Delivery::InApp);
        prefs.kinds.insert("ASSIGNED".into(), Delivery::Off);
        let stored = prefs.to_stored();
        assert_eq!(Preferences::from_stored(Some(&stored)).delivery("ASSIGNED"), Delivery::Off);
        assert_eq!(Preferences::from_stored(Some("not json")), Preferences::default());
    }
}

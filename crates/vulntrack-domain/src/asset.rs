//! Assets: what findings are found on (an application, a repository, a
//! container image, a host…), one record per name in a team.

use crate::string_enum;

string_enum!(
    /// What an asset is.
    AssetKind {
        Application => "application",
        Repository => "repository",
        ContainerImage => "container_image",
        Host => "host",
        Domain => "domain",
        Url => "url",
        CloudAccount => "cloud_account",
        Other => "other",
    }
);

string_enum!(
    /// Where an asset runs.
    Environment {
        Production => "production",
        Staging => "staging",
        Development => "development",
        Other => "other",
    }
);

string_enum!(
    /// How much the business depends on an asset.
    Criticality {
        Critical => "CRITICAL",
        High => "HIGH",
        Medium => "MEDIUM",
        Low => "LOW",
    }
);

/// The longest name, in characters (the same bound as a vulnerability's
/// free-text asset names, which resolve to these records).
pub const NAME_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;

/// The form of a name that must be unique in a team: trimmed, and the same
/// in any letter case (`Portal-01` and `portal-01` are one asset).
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_asset_in_any_case_and_values_round_trip() {
        assert_eq!(name_key("  Portal-01 "), name_key("portal-01"));
        assert_eq!("container_image".parse::<AssetKind>(), Ok(AssetKind::ContainerImage));
        assert!("Container_Image".parse::<AssetKind>().is_err());
        assert_eq!(Environment::names(), vec!["production", "staging", "development", "other"]);
        assert_eq!(Criticality::ALL.len(), 4);
    }
}

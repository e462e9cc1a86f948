//! Roles and account states. Stored and sent as upper-case strings.

use crate::string_enum;

string_enum!(
    /// A user's role within their team.
    Role {
        Admin => "ADMIN",
        Analyst => "ANALYST",
        Viewer => "VIEWER",
    }
);

string_enum!(
    /// Whether an account may sign in.
    UserStatus {
        Active => "ACTIVE",
        Inactive => "INACTIVE",
    }
);

string_enum!(
    /// How a user's pages are coloured: as their system says, or always
    /// light or dark.
    Theme {
        System => "SYSTEM",
        Light => "LIGHT",
        Dark => "DARK",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
    }

    #[test]
    fn lower_case_and_unknown_roles_are_refused_with_the_choices() {
        let err = "admin".parse::<Role>().unwrap_err();
        assert_eq!(err.to_string(), "must be one of ADMIN, ANALYST, VIEWER");
        assert!("ROOT".parse::<Role>().is_err());
    }

    #[test]
    fn roles_serialise_upper_case() {
        assert_eq!(serde_json::to_string(&Role::Analyst).ok().as_deref(), Some("\"ANALYST\""));
    }
}

//! Validating the details of a new account, shared by first-run setup,
//! registration and the operator CLI.

use garde::Validate;

use crate::{
    password_policy::PasswordPolicy,
    role::Role,
    validation::{FieldError, ValidationErrors, not_blank},
};

/// Unvalidated details of a new account, as typed by a person.
#[derive(Debug, Clone, Validate)]
pub struct AccountInput {
    #[garde(length(chars, min = 1, max = 100), custom(not_blank))]
    pub team_name: String,
    #[garde(email, length(max = 254))]
    pub email: String,
    #[garde(length(chars, min = 1, max = 100), custom(not_blank))]
    pub name: String,
    #[garde(skip)]
    pub role: Role,
    #[garde(skip)]
    pub password: String,
}

/// Account details that passed every rule. The password is still plain
/// text here: hashing is the caller's job, off the async runtime.
#[derive(Clone)]
pub struct NewAccount {
    pub team_name: String,
    pub email: String,
    /// The key uniqueness and look-up use: Unicode lower case of the email.
    pub email_normalized: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

impl std::fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("team_name", &self.team_name)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// The form in which emails are compared and stored for look-up.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl AccountInput {
    /// All broken rules at once, or the validated account.
    pub fn validate_all(self) -> Result<NewAccount, ValidationErrors> {
        let input = AccountInput {
            team_name: self.team_name.trim().to_string(),
            email: self.email.trim().to_string(),
            name: self.name.trim().to_string(),
            ..self
        };
        let mut errors = match input.validate() {
            Ok(()) => ValidationErrors::default(),
            Err(report) => ValidationErrors::from_garde(&report),
        };
        let policy = PasswordPolicy { email: &input.email, name: &input.name };
        for error in policy.field_errors("password", &input.password) {
            errors.push(error);
        }
        errors.into_result(NewAccount {
            email_normalized: normalize_email(&input.email),
            team_name: input.team_name,
            email: input.email,
            name: input.name,
            role: input.role,
            password: input.password,
        })
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> AccountInput {
        AccountInput {
            team_name: "Blue Team".into(),
            email: "  Grace.Hopper@Example.COM ".into(),
            name: "Grace Hopper".into(),
            role: Role::Admin,
            password: "k3#Vq9!zLw2@Tr".into(),
        }
    }

    #[test]
    fn valid_input_is_trimmed_and_normalised() {
        let account = input().validate_all().expect("valid");
        assert_eq!(account.email, "Grace.Hopper@Example.COM");
        assert_eq!(account.email_normalized, "grace.hopper@example.com");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let errors = AccountInput {
            team_name: "   ".into(),
            email: "not-an-email".into(),
            name: "x".repeat(101),
            password: "short".into(),
            ..input()
        }
        .validate_all()
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for field in ["team_name", "email", "name", "password"] {
            assert!(fields.contains(&field), "{field} missing from {fields:?}");
        }
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let account = input().validate_all().expect("valid");
        assert!(!format!("{account:?}").contains("k3#Vq9"));
    }
}

//! The password policy of DESIGN.md §2. Each broken rule is reported on its
//! own so a person sees everything to fix at once.

use crate::validation::FieldError;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 128;

/// The policy in one sentence, shown beside every new-password field.
pub const HINT: &str = "At least 12 characters, with an upper-case and a lower-case letter, a digit and a symbol; \
     not a common password, your name or your email.";

/// A rule a password can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRule {
    TooShort,
    TooLong,
    NoUppercase,
    NoLowercase,
    NoDigit,
    NoSymbol,
    Common,
    ContainsPersonalInfo,
}

impl PasswordRule {
    pub const fn code(self) -> &'static str {
        match self {
            PasswordRule::TooShort => "too_short",
            PasswordRule::TooLong => "too_long",
            PasswordRule::NoUppercase => "no_uppercase",
            PasswordRule::NoLowercase => "no_lowercase",
            PasswordRule::NoDigit => "no_digit",
            PasswordRule::NoSymbol => "no_symbol",
            PasswordRule::Common => "common",
            PasswordRule::ContainsPersonalInfo => "personal_info",
        }
    }

    pub fn message(self) -> String {
        match self {
            PasswordRule::TooShort => format!("must be at least {MIN_LENGTH} characters"),
            PasswordRule::TooLong => format!("must be at most {MAX_LENGTH} characters"),
            PasswordRule::NoUppercase => "must contain an upper-case letter".into(),
            PasswordRule::NoLowercase => "must contain a lower-case letter".into(),
            PasswordRule::NoDigit => "must contain a digit".into(),
            PasswordRule::NoSymbol => "must contain a symbol".into(),
            PasswordRule::Common => "is too common or easy to guess".into(),
            PasswordRule::ContainsPersonalInfo => "must not contain your email address or name".into(),
        }
    }

    pub fn field_error(self, field: &str) -> FieldError {
        FieldError::new(field, self.code(), self.message())
    }
}

/// The personal details a password must not contain.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordPolicy<'a> {
    pub email: &'a str,
    pub name: &'a str,
}

/// Fragments shorter than this are too likely to occur by chance ("al").
const MIN_PERSONAL_FRAGMENT: usize = 3;

impl PasswordPolicy<'_> {
    /// Every rule the password breaks; empty when it is acceptable.
    pub fn check(&self, password: &str) -> Vec<PasswordRule> {
        let mut broken = Vec::new();
        let length = password.chars().count();
        if length < MIN_LENGTH {
            broken.push(PasswordRule::TooShort);
        }
        if length > MAX_LENGTH {
            // Past the limit nothing else is worth computing: zxcvbn's cost
            // grows with length, and a flood of huge passwords must stay cheap.
            broken.push(PasswordRule::TooLong);
            return broken;
        }
        if !password.chars().any(char::is_uppercase) {
            broken.push(PasswordRule::NoUppercase);
        }
        if !password.chars().any(char::is_lowercase) {
            broken.push(PasswordRule::NoLowercase);
        }
        if !password.chars().any(|c| c.is_ascii_digit()) {
            broken.push(PasswordRule::NoDigit);
        }
        if !password.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace()) {
            broken.push(PasswordRule::NoSymbol);
        }
        let personal = self.personal_fragments();
        let lowered = password.to_lowercase();
        if personal.iter().any(|fragment| lowered.contains(fragment.as_str())) {
            broken.push(PasswordRule::ContainsPersonalInfo);
        }
        if !password.is_empty() {
            let inputs: Vec<&str> = personal.iter().map(String::as_str).collect();
            let score: u8 = zxcvbn::zxcvbn(password, &inputs).score().into();
            // Score 3 means "safely unguessable" (about 10^10 guesses); below
            // that zxcvbn has matched a dictionary word, a common password, a
            // keyboard walk or a predictable pattern such as "Password123!".
            if score < 3 {
                broken.push(PasswordRule::Common);
            }
        }
        broken
    }

    /// The email, its local part and the words of the name, lower-cased.
    fn personal_fragments(&self) -> Vec<String> {
        let email = self.email.trim().to_lowercase();
        let mut fragments = vec![];
        if let Some((local, _)) = email.split_once('@') {
            fragments.push(local.to_string());
        }
        fragments.push(email);
        fragments.extend(self.name.split_whitespace().map(str::to_lowercase));
        fragments.retain(|f| f.chars().count() >= MIN_PERSONAL_FRAGMENT);
        fragments
    }

    /// The broken rules as field errors on `field`.
    pub fn field_errors(&self, field: &str, password: &str) -> Vec<FieldError> {
        self.check(password).into_iter().map(|rule| rule.field_error(field)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PasswordRule::*;

    fn check(password: &str) -> Vec<PasswordRule> {
        PasswordPolicy { email: "ada.lovelace@example.com", name: "Ada Lovelace" }.check(password)
    }

    #[test]
    fn a_strong_password_passes() {
        assert_eq!(check("k3#Vq9!zLw2@Tr"), vec![]);
    }

    #[test]
    fn each_missing_class_is_reported_separately() {
        assert!(check("k3#vq9!zlw2@tr").contains(&NoUppercase));
        assert!(check("K3#VQ9!ZLW2@TR").contains(&NoLowercase));
        assert!(check("kx#Vqy!zLw@Trm").contains(&NoDigit));
        assert!(check("k3xVq9yzLw2aTr").contains(&NoSymbol));
        let short = check("aB3$");
        assert!(short.contains(&TooShort));
        assert!(!short.iter().any(|r| matches!(r, NoUppercase | NoLowercase | NoDigit | NoSymbol)));
    }

    #[test]
    fn length_bounds_are_inclusive() {
        let at_max: String = "k3#Vq9!zLw2@Tr".chars().cycle().take(MAX_LENGTH).collect();
        assert!(!check(&at_max).contains(&TooLong));
        let over: String = "k3#Vq9!zLw2@Tr".chars().cycle().take(MAX_LENGTH + 1).collect();
        assert_eq!(check(&over), vec![TooLong]);
    }

    #[test]
    fn common_passwords_are_refused_even_with_every_class() {
        for common in ["Password123!", "Qwerty123456!", "P@ssw0rd1234", "Iloveyou1234!"] {
            assert!(check(common).contains(&Common), "{common} should be refused as common");
        }
    }

    #[test]
    fn personal_details_are_refused() {
        assert!(check("Lovelace#2931xQ").contains(&ContainsPersonalInfo));
        assert!(check("x9!ADA.LOVELACE@example.com").contains(&ContainsPersonalInfo));
    }

    #[test]
    fn field_errors_name_the_field_and_rule() {
        let errors = PasswordPolicy::default().field_errors("password", "short");
        assert!(errors.iter().all(|e| e.field == "password"));
        assert!(errors.iter().any(|e| e.code == "too_short"));
    }

    #[test]
    fn the_hint_states_the_rules_the_check_applies() {
        assert!(HINT.contains(&format!("{MIN_LENGTH} characters")));
        for word in ["upper-case", "lower-case", "digit", "symbol", "common", "name", "email"] {
            assert!(HINT.contains(word), "{word}");
        }
    }
}

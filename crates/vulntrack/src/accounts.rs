//! Creating accounts: the one service behind the operator CLI and, later,
//! first-run setup and registration, so the rules cannot drift apart.

use secrecy::SecretString;
use vulntrack_domain::{NewAccount, ValidationErrors, validation::FieldError};
use vulntrack_store::{Database, StoreError, teams, users};

use crate::auth::{PasswordHasher, password::HashError};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// Creates a user in the named team, creating the team if it does not
/// exist. The account was validated (`AccountInput::validate_all`) before
/// any I/O; here the password is hashed with argon2id and team and user are
/// written in one transaction.
pub async fn create_user_in_team(
    db: &Database,
    hasher: &PasswordHasher,
    account: NewAccount,
) -> Result<(teams::Team, users::User), AccountError> {
    let password_hash = hasher
        .hash(SecretString::from(account.password.clone()))
        .await?;
    let txn = db.begin().await.map_err(StoreError::from)?;
    let team = teams::find_or_create(&txn, &account.team_name).await?;
    let new_user = users::NewUser {
        email: &account.email,
        name: &account.name,
        role: account.role,
        password_hash: &password_hash,
    };
    let user = match users::create(&txn, team.scope(), new_user).await {
        Err(StoreError::Conflict { what }) => {
            return Err(AccountError::Invalid(
                FieldError::new(what, "taken", "is already used by another account").into(),
            ));
        }
        other => other?,
    };
    txn.commit().await.map_err(StoreError::from)?;
    Ok((team, user))
}

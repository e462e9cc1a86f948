//! Creating accounts: the one service behind the operator CLI, first-run
//! setup and registration, so the rules cannot drift apart.

use sea_orm::ConnectionTrait;
use secrecy::SecretString;
use serde_json::json;
use vulntrack_domain::{NewAccount, ValidationErrors, validation::FieldError};
use vulntrack_store::{
    Database, StoreError, TeamScope,
    audit::{self, Actor, AuditEvent, RequestContext},
    teams, users,
};

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

impl From<sea_orm::DbErr> for AccountError {
    fn from(error: sea_orm::DbErr) -> Self {
        AccountError::Store(error.into())
    }
}

/// The argon2id hash of the account's password (off the async runtime).
pub async fn hash_password(hasher: &PasswordHasher, account: &NewAccount) -> Result<String, HashError> {
    hasher.hash(SecretString::from(account.password.clone())).await
}

/// Inserts the validated account into the scope's team; an email already in
/// use becomes a field error rather than a database error.
pub async fn insert_user(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    account: &NewAccount,
    password_hash: &str,
) -> Result<users::User, AccountError> {
    let new_user = users::NewUser { email: &account.email, name: &account.name, role: account.role, password_hash };
    users::create(db, scope, new_user).await.map_err(|error| match error {
        StoreError::Conflict { what } => {
            AccountError::Invalid(FieldError::new(what, "taken", "is already used by another account").into())
        }
        other => AccountError::Store(other),
    })
}

/// Creates a user in the named team, creating the team if it does not
/// exist (operator path). The account was validated before any I/O; team,
/// user and the audit row are written in one transaction.
pub async fn create_user_in_team(
    db: &Database,
    hasher: &PasswordHasher,
    account: NewAccount,
) -> Result<(teams::Team, users::User), AccountError> {
    let password_hash = hash_password(hasher, &account).await?;
    let txn = db.begin().await?;
    let team = teams::find_or_create(&txn, &account.team_name).await?;
    let user = insert_user(&txn, team.scope(), &account, &password_hash).await?;
    let event = AuditEvent::new(Some(team.id), Actor::System, "USER_CREATED", &RequestContext::default())
        .entity("user", user.id)
        .details(json!({ "email": user.email, "role": user.role, "via": "cli" }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok((team, user))
}

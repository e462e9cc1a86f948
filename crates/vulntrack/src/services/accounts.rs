//! Creating accounts: the one service behind the operator CLI, first-run
//! setup and registration, so the rules cannot drift apart.

use sea_orm::ConnectionTrait;
use secrecy::SecretString;
use serde_json::json;
use vulntrack_domain::AuditAction;
use vulntrack_domain::{AccountInput, NewAccount, Role, ValidationErrors, validation::FieldError};
use vulntrack_store::{
    Database, StoreError, TeamScope,
    audit::{self, Actor, AuditEvent, RequestContext},
    instance, teams, users,
};

use crate::{
    app::AppState,
    auth::{PasswordHasher, password::HashError},
    services::ServiceError,
};

pub const ALREADY_SET_UP: &str = "VulnTrack is already set up; sign in instead.";

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
    let team = vulntrack_store::operator::team_by_name_or_new(&txn, &account.team_name).await?;
    let user = insert_user(&txn, team.scope(), &account, &password_hash).await?;
    let event = AuditEvent::new(team.scope(), Actor::System, AuditAction::UserCreated, &RequestContext::default())
        .entity("user", user.id)
        .details(json!({ "email": user.email, "role": user.role, "via": "cli" }));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok((team, user))
}

/// First-run setup: the first team and its ADMIN, allowed only while no
/// account exists (409 afterwards, even for two concurrent attempts).
pub async fn first_run_setup(
    state: &AppState,
    context: &RequestContext,
    team_name: String,
    name: String,
    email: String,
    password: String,
) -> Result<(teams::Team, users::User), ServiceError> {
    if users::count_all(state.db().conn()).await? > 0 {
        return Err(ServiceError::Conflict(ALREADY_SET_UP));
    }
    let account = AccountInput { team_name, email, name, role: Role::Admin, password }
        .validate_all()
        .map_err(ServiceError::Invalid)?;
    let password_hash = hash_password(state.hasher(), &account).await?;

    let txn = state.db().begin().await?;
    // The marker row makes a concurrent second setup fail here; the count
    // inside the transaction also catches users made by the CLI meanwhile.
    match instance::mark_setup_done(&txn).await {
        Err(StoreError::Conflict { .. }) => return Err(ServiceError::Conflict(ALREADY_SET_UP)),
        other => other?,
    }
    if users::count_all(&txn).await? > 0 {
        return Err(ServiceError::Conflict(ALREADY_SET_UP));
    }
    let team = teams::create(&txn, &account.team_name).await?;
    let user = insert_user(&txn, team.scope(), &account, &password_hash).await?;
    let actor = Actor::User { id: user.id, email: user.email.clone() };
    audit::append(
        &txn,
        AuditEvent::new(team.scope(), actor, AuditAction::SetupCompleted, context)
            .entity("user", user.id)
            .details(json!({ "team_name": team.name, "role": user.role })),
    )
    .await?;
    txn.commit().await?;
    Ok((team, user))
}

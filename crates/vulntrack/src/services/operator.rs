//! The operator's incident-response commands, for when the web UI is not
//! an option (the `vulntrack admin …` command line): lock, unlock,
//! deactivate and reactivate an account, revoke sessions and API tokens,
//! issue a reset link. Each finds the account by email across teams (the
//! operator stands above the tenants) and is audited with actor kind `CLI`
//! in the account's team, in the same transaction as the change.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use vulntrack_domain::AuditAction;
use vulntrack_domain::{UserStatus, normalize_email};
use vulntrack_store::{
    Database, StoreError, api_tokens,
    audit::{self, Actor, AuditEvent, RequestContext},
    sessions, users,
};

use super::password_resets::{self, IssuedLink};

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("no account has the email {0:?}")]
    NoSuchAccount(String),
    #[error("no open instance-wide alert has the id {0}")]
    NoSuchAlert(uuid::Uuid),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for OperatorError {
    fn from(error: sea_orm::DbErr) -> Self {
        OperatorError::Store(error.into())
    }
}

/// An operator lock lasts until someone unlocks the account.
const OPERATOR_LOCK: Duration = Duration::days(365 * 100);

/// Who a command is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Email(String),
    /// Every account of every team.
    All,
}

async fn account(db: &Database, email: &str) -> Result<users::User, OperatorError> {
    users::find_for_sign_in(db.conn(), email)
        .await?
        .map(|record| record.user)
        .ok_or_else(|| OperatorError::NoSuchAccount(normalize_email(email)))
}

/// The operator's OS user, recorded so the audit row says who ran it.
fn details(mut extra: Value) -> Value {
    if let Value::Object(map) = &mut extra {
        map.insert("via".into(), json!("cli"));
        if let Ok(user) = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")) {
            map.insert("os_user".into(), json!(user));
        }
    }
    extra
}

fn event(user: &users::User, action: AuditAction, extra: Value) -> AuditEvent {
    let mut all = json!({ "email": user.email });
    if let (Value::Object(all), Value::Object(extra)) = (&mut all, extra) {
        all.extend(extra);
    }
    AuditEvent::new(user.scope(), Actor::Cli, action, &RequestContext::default())
        .entity("user", user.id)
        .details(details(all))
}

/// What a command changed, for its one-line report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ended {
    pub sessions: u64,
    pub tokens: u64,
}

/// Blocks sign-in until `unlock`, and ends the account's sessions.
pub async fn lock(db: &Database, email: &str) -> Result<(users::User, DateTime<Utc>, Ended), OperatorError> {
    let user = account(db, email).await?;
    let now = Utc::now();
    let until = now + OPERATOR_LOCK;
    let txn = db.begin().await?;
    users::lock_until(&txn, user.scope(), user.id, until).await?;
    let sessions = sessions::revoke_all(&txn, user.scope(), user.id, None, now).await?;
    audit::append(
        &txn,
        event(&user, AuditAction::AccountLocked, json!({ "locked_until": until, "sessions_revoked": sessions })),
    )
    .await?;
    txn.commit().await?;
    Ok((user, until, Ended { sessions, tokens: 0 }))
}

/// Lifts a lock (the operator's or one from failed sign-ins).
pub async fn unlock(db: &Database, email: &str) -> Result<users::User, OperatorError> {
    let user = account(db, email).await?;
    let txn = db.begin().await?;
    users::unlock(&txn, user.scope(), user.id).await?;
    audit::append(&txn, event(&user, AuditAction::AccountUnlocked, json!({}))).await?;
    txn.commit().await?;
    Ok(user)
}

/// Deactivates the account and ends its sessions and API tokens for good
/// (reactivation does not bring them back). Unlike a team ADMIN, the
/// operator may deactivate a team's last ADMIN: a compromised one must be
/// stoppable; `admin create-user` makes a new one.
pub async fn deactivate(db: &Database, email: &str) -> Result<(users::User, Ended), OperatorError> {
    let user = account(db, email).await?;
    let now = Utc::now();
    let txn = db.begin().await?;
    vulntrack_store::teams::get_for_update(&txn, user.scope()).await?;
    users::set_role_and_status(&txn, user.scope(), user.id, None, Some(UserStatus::Inactive)).await?;
    let ended = Ended {
        sessions: sessions::revoke_all(&txn, user.scope(), user.id, None, now).await?,
        tokens: api_tokens::revoke_all(&txn, user.scope(), user.id, now).await?,
    };
    let extra = json!({ "status": { "before": user.status, "after": UserStatus::Inactive },
                        "sessions_revoked": ended.sessions, "tokens_revoked": ended.tokens });
    audit::append(&txn, event(&user, AuditAction::UserDeactivated, extra)).await?;
    txn.commit().await?;
    Ok((user, ended))
}

pub async fn reactivate(db: &Database, email: &str) -> Result<users::User, OperatorError> {
    let user = account(db, email).await?;
    let txn = db.begin().await?;
    users::set_role_and_status(&txn, user.scope(), user.id, None, Some(UserStatus::Active)).await?;
    let extra = json!({ "status": { "before": user.status, "after": UserStatus::Active } });
    audit::append(&txn, event(&user, AuditAction::UserReactivated, extra)).await?;
    txn.commit().await?;
    Ok(user)
}

/// Ends the sessions of one account, or of everyone.
pub async fn revoke_sessions(db: &Database, target: &Target) -> Result<u64, OperatorError> {
    let now = Utc::now();
    match target {
        Target::Email(email) => {
            let user = account(db, email).await?;
            let txn = db.begin().await?;
            let revoked = sessions::revoke_all(&txn, user.scope(), user.id, None, now).await?;
            audit::append(&txn, event(&user, AuditAction::SessionsRevoked, json!({ "sessions_revoked": revoked })))
                .await?;
            txn.commit().await?;
            Ok(revoked)
        }
        Target::All => {
            let txn = db.begin().await?;
            let revoked = vulntrack_store::operator::revoke_every_session(&txn, now).await?;
            let event = AuditEvent::new(
                audit::Tenancy::Instance,
                Actor::Cli,
                AuditAction::SessionsRevoked,
                &RequestContext::default(),
            )
            .details(details(json!({ "scope": "all", "sessions_revoked": revoked })));
            audit::append(&txn, event).await?;
            txn.commit().await?;
            Ok(revoked)
        }
    }
}

/// Revokes the API tokens of one account, or of everyone.
pub async fn revoke_tokens(db: &Database, target: &Target) -> Result<u64, OperatorError> {
    let now = Utc::now();
    match target {
        Target::Email(email) => {
            let user = account(db, email).await?;
            let txn = db.begin().await?;
            let revoked = api_tokens::revoke_all(&txn, user.scope(), user.id, now).await?;
            audit::append(&txn, event(&user, AuditAction::TokensRevoked, json!({ "tokens_revoked": revoked }))).await?;
            txn.commit().await?;
            Ok(revoked)
        }
        Target::All => {
            let txn = db.begin().await?;
            let revoked = vulntrack_store::operator::revoke_every_token(&txn, now).await?;
            let event = AuditEvent::new(
                audit::Tenancy::Instance,
                Actor::Cli,
                AuditAction::TokensRevoked,
                &RequestContext::default(),
            )
            .details(details(json!({ "scope": "all", "tokens_revoked": revoked })));
            audit::append(&txn, event).await?;
            txn.commit().await?;
            Ok(revoked)
        }
    }
}

/// A one-time reset link for the account, to hand over out of band.
pub async fn reset_link(db: &Database, public_url: &url::Url, email: &str) -> Result<IssuedLink, OperatorError> {
    let user = account(db, email).await?;
    let context = RequestContext { user_agent: Some("vulntrack admin reset-link".into()), ..Default::default() };
    Ok(password_resets::issue(db, public_url, user.scope(), user.id, Actor::Cli, &context).await?)
}

/// Acknowledges an instance-wide alert, audited in the instance-wide chain.
pub async fn acknowledge_alert(db: &Database, id: uuid::Uuid) -> Result<(), OperatorError> {
    let txn = db.begin().await?;
    if !vulntrack_store::operator::acknowledge_instance_alert(&txn, id).await? {
        return Err(OperatorError::NoSuchAlert(id));
    }
    let event = AuditEvent::new(
        audit::Tenancy::Instance,
        Actor::Cli,
        AuditAction::AlertAcknowledged,
        &RequestContext::default(),
    )
    .entity("security_alert", id)
    .details(details(json!({})));
    audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

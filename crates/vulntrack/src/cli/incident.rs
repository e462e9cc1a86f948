//! `vulntrack admin lock|unlock|deactivate|reactivate|revoke-sessions|
//! revoke-tokens|reset-link`: the operator's containment commands, thin
//! over [`crate::services::operator`].

use vulntrack_store::Database;

use super::Failure;
use crate::services::operator::{self, OperatorError, Target};

fn failed(what: &str) -> impl Fn(OperatorError) -> Failure + '_ {
    move |error| match error {
        OperatorError::NoSuchAccount(_) | OperatorError::NoSuchAlert(_) => {
            Failure::input(format!("cannot {what}: {error}"))
        }
        OperatorError::Store(_) => Failure::runtime(format!("cannot {what}: {error}")),
    }
}

/// `--email E` or `--all`, as clap parsed them.
pub fn target(email: Option<String>, all: bool) -> Result<Target, Failure> {
    match (email, all) {
        (Some(email), false) => Ok(Target::Email(email)),
        (None, true) => Ok(Target::All),
        _ => Err(Failure::input("give exactly one of --email E or --all")),
    }
}

fn plural(n: u64, one: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") }
}

pub async fn lock(db: &Database, email: &str) -> Result<(), Failure> {
    let (user, _, ended) = operator::lock(db, email).await.map_err(failed("lock the account"))?;
    println!(
        "locked {} until unlocked (vulntrack admin unlock); ended {}",
        user.email,
        plural(ended.sessions, "session")
    );
    Ok(())
}

pub async fn unlock(db: &Database, email: &str) -> Result<(), Failure> {
    let user = operator::unlock(db, email).await.map_err(failed("unlock the account"))?;
    println!("unlocked {}", user.email);
    Ok(())
}

pub async fn deactivate(db: &Database, email: &str) -> Result<(), Failure> {
    let (user, ended) = operator::deactivate(db, email).await.map_err(failed("deactivate the account"))?;
    println!(
        "deactivated {}; ended {} and revoked {} for good",
        user.email,
        plural(ended.sessions, "session"),
        plural(ended.tokens, "API token")
    );
    Ok(())
}

pub async fn reactivate(db: &Database, email: &str) -> Result<(), Failure> {
    let user = operator::reactivate(db, email).await.map_err(failed("reactivate the account"))?;
    println!("reactivated {} (revoked sessions and API tokens stay revoked)", user.email);
    Ok(())
}

pub async fn revoke_sessions(db: &Database, target: &Target) -> Result<(), Failure> {
    let revoked = operator::revoke_sessions(db, target).await.map_err(failed("revoke sessions"))?;
    match target {
        Target::Email(email) => println!("ended {} of {email}", plural(revoked, "session")),
        Target::All => println!("ended {} of every account", plural(revoked, "session")),
    }
    Ok(())
}

pub async fn revoke_tokens(db: &Database, target: &Target) -> Result<(), Failure> {
    let revoked = operator::revoke_tokens(db, target).await.map_err(failed("revoke API tokens"))?;
    match target {
        Target::Email(email) => println!("revoked {} of {email}", plural(revoked, "API token")),
        Target::All => println!("revoked {} of every account", plural(revoked, "API token")),
    }
    Ok(())
}

pub async fn reset_link(db: &Database, public_url: &url::Url, email: &str) -> Result<(), Failure> {
    let link = operator::reset_link(db, public_url, email).await.map_err(failed("issue a reset link"))?;
    println!("{}", link.url);
    eprintln!("one-time link, valid until {}; hand it over out of band", link.expires_at.format("%Y-%m-%d %H:%M UTC"));
    Ok(())
}

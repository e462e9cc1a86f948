//! Audit chain heads: each chain's newest `seq` and hash. A chain proves
//! nothing was altered or removed from its middle, but cannot show that
//! its newest rows are gone (an old backup restored, a truncated table).
//! A head saved outside the database — the periodic INFO log line a log
//! collector keeps, or `vulntrack audit head > head.json` — can:
//! `vulntrack audit verify --checkpoint head.json` fails when a chain is
//! behind it or has diverged from it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vulntrack_domain::TeamId;
use vulntrack_store::{Database, StoreError, audit, operator};

/// The audit chains' keys for this configuration: derived from the signing
/// secret (and, after a rotation, the previous one, which still verifies
/// the rows it signed).
pub fn chain_keys(secret: &secrecy::SecretString, previous: Option<&secrecy::SecretString>) -> audit::ChainKeys {
    use secrecy::ExposeSecret;
    audit::ChainKeys {
        current: audit::ChainKey::derive(secret.expose_secret().as_bytes()),
        previous: previous.map(|p| audit::ChainKey::derive(p.expose_secret().as_bytes())),
    }
}

/// One chain's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// `null` for the instance-wide chain.
    pub team_id: Option<TeamId>,
    /// The team's name when the head was taken, for people reading it.
    pub chain: String,
    pub seq: i64,
    pub hash: String,
}

/// Every chain's head at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub taken_at: DateTime<Utc>,
    pub chains: Vec<Head>,
}

/// The chains to look at: every team's, then the instance-wide one.
pub async fn chains(db: &Database) -> Result<Vec<(String, Option<TeamId>)>, StoreError> {
    let mut all: Vec<_> =
        operator::teams(db.conn()).await?.into_iter().map(|t| (format!("team {:?}", t.name), Some(t.id))).collect();
    all.push(("instance-wide events".to_string(), None));
    Ok(all)
}

/// The heads of every chain that has rows.
pub async fn checkpoint(db: &Database) -> Result<Checkpoint, StoreError> {
    let mut heads = Vec::new();
    for (chain, team_id) in chains(db).await? {
        if let Some(head) = operator::audit_head(db.conn(), team_id).await? {
            heads.push(Head { team_id, chain, seq: head.seq, hash: head.hash });
        }
    }
    Ok(Checkpoint { taken_at: Utc::now(), chains: heads })
}

/// How the database stands against a saved checkpoint: every problem
/// found, one line each (empty when the database is at or past it).
pub async fn compare(db: &Database, saved: &Checkpoint) -> Result<Vec<String>, StoreError> {
    let mut problems = Vec::new();
    for head in &saved.chains {
        let current = operator::audit_head(db.conn(), head.team_id).await?;
        match current {
            Some(now) if now.seq >= head.seq => {
                if operator::audit_hash_at(db.conn(), head.team_id, head.seq).await?.as_deref() != Some(head.hash.as_str()) {
                    problems.push(format!(
                        "audit chain of {} diverges from the checkpoint at seq {}: the row there is not the one saved",
                        head.chain, head.seq
                    ));
                }
            }
            now => problems.push(format!(
                "audit chain of {} is behind the checkpoint of {}: it ends at seq {}, the checkpoint saw seq {} (rows missing from the end, e.g. an older backup restored)",
                head.chain,
                saved.taken_at.format("%Y-%m-%d %H:%M:%S UTC"),
                now.map_or(0, |h| h.seq),
                head.seq
            )),
        }
    }
    Ok(problems)
}

/// Logs every chain's head at INFO, for log shipping.
pub async fn log_heads(db: &Database) {
    match checkpoint(db).await {
        Ok(checkpoint) => {
            for head in checkpoint.chains {
                tracing::info!(
                    target: "vulntrack::audit_head",
                    team_id = ?head.team_id,
                    chain = %head.chain,
                    seq = head.seq,
                    hash = %head.hash,
                    "audit chain head"
                );
            }
        }
        Err(error) => tracing::warn!(%error, "could not read the audit chain heads"),
    }
}

/// Logs the heads now and then every `every`, until the process ends.
pub async fn log_periodically(db: Database, every: std::time::Duration) {
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        log_heads(&db).await;
    }
}

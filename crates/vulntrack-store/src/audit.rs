//! The append-only audit log. Rows are written through [`append`] inside
//! the caller's transaction, so a change and its record commit together or
//! not at all. Each team's rows form a hash chain: `hash` is SHA-256 over the
//! row's canonical form and the previous row's hash.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use vulntrack_domain::{TeamId, UserId};

use crate::{entity::audit_log, error::StoreResult, scope::TeamScope};

/// The hash a chain starts from.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User {
        id: UserId,
        email: String,
    },
    /// A user acting through an API token.
    Token {
        id: Uuid,
        user_id: UserId,
        email: String,
    },
    System,
    /// The operator, through the `vulntrack` command line.
    Cli,
    /// Nobody signed in (a failed login, a reset request).
    Anonymous,
}

impl Actor {
    fn kind(&self) -> &'static str {
        match self {
            Actor::User { .. } => "USER",
            Actor::Token { .. } => "TOKEN",
            Actor::System => "SYSTEM",
            Actor::Cli => "CLI",
            Actor::Anonymous => "ANONYMOUS",
        }
    }

    fn user_id(&self) -> Option<Uuid> {
        match self {
            Actor::User { id, .. } | Actor::Token { user_id: id, .. } => Some(id.as_uuid()),
            _ => None,
        }
    }

    fn email(&self) -> Option<String> {
        match self {
            Actor::User { email, .. } | Actor::Token { email, .. } => Some(email.clone()),
            _ => None,
        }
    }

    fn token_id(&self) -> Option<Uuid> {
        match self {
            Actor::Token { id, .. } => Some(*id),
            _ => None,
        }
    }
}

/// Where a request came from, recorded with each event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// Whose log an event goes to: a team's (named by a scope, which only the
/// store hands out) or the instance's own (the operator's events, and
/// anonymous ones that belong to no team).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenancy {
    Team(TeamScope),
    Instance,
}

impl Tenancy {
    /// The team's id, `None` for the instance.
    pub fn team_id(self) -> Option<TeamId> {
        match self {
            Tenancy::Team(scope) => Some(scope.team_id()),
            Tenancy::Instance => None,
        }
    }
}

impl From<TeamScope> for Tenancy {
    fn from(scope: TeamScope) -> Self {
        Tenancy::Team(scope)
    }
}

impl From<Option<TeamScope>> for Tenancy {
    fn from(scope: Option<TeamScope>) -> Self {
        scope.map_or(Tenancy::Instance, Tenancy::Team)
    }
}

/// One event to record. `details` must never hold passwords, hashes,
/// tokens or secrets.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// The team the event belongs to; `None` for instance-wide events.
    pub team: Option<TeamId>,
    pub actor: Actor,
    pub action: vulntrack_domain::AuditAction,
    pub entity_type: Option<&'static str>,
    pub entity_id: Option<String>,
    pub details: Value,
    pub context: RequestContext,
}

impl AuditEvent {
    pub fn new(
        tenancy: impl Into<Tenancy>,
        actor: Actor,
        action: vulntrack_domain::AuditAction,
        context: &RequestContext,
    ) -> Self {
        Self {
            team: tenancy.into().team_id(),
            actor,
            action,
            entity_type: None,
            entity_id: None,
            details: json!({}),
            context: context.clone(),
        }
    }

    pub fn entity(mut self, entity_type: &'static str, id: impl ToString) -> Self {
        self.entity_type = Some(entity_type);
        self.entity_id = Some(id.to_string());
        self
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: Uuid,
    pub team_id: Option<TeamId>,
    pub seq: i64,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_email: Option<String>,
    pub actor_token_id: Option<Uuid>,
    pub action: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub details: Value,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    /// The id of the key the hash was made with; `None` for rows written
    /// before chains were keyed (plain SHA-256).
    pub hash_key: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<audit_log::Model> for AuditRecord {
    fn from(row: audit_log::Model) -> Self {
        Self {
            id: row.id,
            team_id: row.team_id.map(TeamId::from_uuid),
            seq: row.seq,
            actor_kind: row.actor_kind,
            actor_id: row.actor_id,
            actor_email: row.actor_email,
            actor_token_id: row.actor_token_id,
            action: row.action,
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            details: row.details,
            ip: row.ip,
            user_agent: row.user_agent,
            request_id: row.request_id,
            prev_hash: row.prev_hash,
            hash: row.hash,
            hash_key: row.hash_key,
            created_at: row.created_at,
        }
    }
}

impl AuditRecord {
    /// The canonical form of every recorded field and the previous hash.
    /// serde_json sorts object keys, so equal details always serialise the
    /// same way.
    fn canonical(&self) -> String {
        json!([
            self.team_id.map(|t| t.to_string()),
            self.seq,
            self.actor_kind,
            self.actor_id,
            self.actor_email,
            self.actor_token_id,
            self.action,
            self.entity_type,
            self.entity_id,
            self.details,
            self.ip,
            self.user_agent,
            self.request_id,
            self.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            self.prev_hash,
        ])
        .to_string()
    }

    /// The row's hash: HMAC-SHA256 under `key` (hex), or plain SHA-256 for
    /// rows written before chains were keyed (`key` is `None`).
    pub fn compute_hash(&self, key: Option<&ChainKey>) -> String {
        match key {
            Some(key) => key.mac(self.canonical().as_bytes()),
            None => hex::encode(Sha256::digest(self.canonical().as_bytes())),
        }
    }
}

/// A key that chains are made with: derived from the signing secret, which
/// the database does not hold, so someone who can write to the database
/// cannot recompute a chain after changing a row.
#[derive(Clone)]
pub struct ChainKey {
    id: String,
    key: [u8; 32],
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainKey").field("id", &self.id).finish_non_exhaustive()
    }
}

type HmacSha256 = hmac::Hmac<Sha256>;

impl ChainKey {
    /// The audit-chain key derived from `secret` (HMAC-SHA256 of a fixed
    /// label), and an id that names it without revealing it.
    pub fn derive(secret: &[u8]) -> Self {
        use hmac::{KeyInit, Mac};
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable_key());
        mac.update(b"vulntrack audit chain v1");
        let key: [u8; 32] = mac.finalize().into_bytes().into();
        let id = hex::encode(&Sha256::digest(key)[..8]);
        Self { id, key }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn mac(&self, data: &[u8]) -> String {
        use hmac::{KeyInit, Mac};
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable_key());
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }
}

/// HMAC takes keys of any length; this cannot happen.
fn unreachable_key() -> HmacSha256 {
    <HmacSha256 as hmac::KeyInit>::new(&Default::default())
}

/// The keys of this process: the current one signs new rows; the previous
/// one (after a secret rotation) still verifies the rows it signed.
#[derive(Debug, Clone)]
pub struct ChainKeys {
    pub current: ChainKey,
    pub previous: Option<ChainKey>,
}

impl ChainKeys {
    fn by_id(&self, id: &str) -> Option<&ChainKey> {
        std::iter::once(&self.current).chain(self.previous.as_ref()).find(|k| k.id == id)
    }
}

static CHAIN_KEYS: std::sync::OnceLock<ChainKeys> = std::sync::OnceLock::new();

/// Installs the process's chain keys (the server and every command do, at
/// start). Installing the same current key again is a no-op; a different
/// one is refused, since one process writes with one key.
pub fn install_chain_keys(keys: ChainKeys) -> Result<(), String> {
    let installed = CHAIN_KEYS.get_or_init(|| keys.clone());
    if installed.current.id == keys.current.id {
        Ok(())
    } else {
        Err(format!("audit chain key {} is already in use in this process", installed.current.id))
    }
}

fn chain_keys() -> Option<&'static ChainKeys> {
    CHAIN_KEYS.get()
}

/// Serialises appends to one chain. PostgreSQL takes a transaction-scoped
/// advisory lock keyed by the team; SQLite write transactions already hold
/// the database's write lock (`BEGIN IMMEDIATE`).
async fn lock_chain(db: &impl ConnectionTrait, team: Option<TeamId>) -> StoreResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        let key = team.map_or(0, |t| {
            let bytes = t.as_uuid().into_bytes();
            i64::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]])
        });
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}

fn chain_filter(team: Option<TeamId>) -> sea_orm::Condition {
    match team {
        Some(team) => sea_orm::Condition::all().add(audit_log::Column::TeamId.eq(team.as_uuid())),
        None => sea_orm::Condition::all().add(audit_log::Column::TeamId.is_null()),
    }
}

/// `text` cut to the column's `max` characters.
fn fit(text: Option<String>, max: usize) -> Option<String> {
    text.map(|t| if t.chars().count() > max { t.chars().take(max).collect() } else { t })
}

/// The details with every NUL replaced (PostgreSQL's `jsonb` refuses
/// `\u0000`): whatever a client managed to put in them, the row is written.
fn storable(details: Value) -> Value {
    match details {
        Value::String(text) if text.contains('\0') => Value::String(text.replace('\0', "\u{fffd}")),
        Value::Array(items) => Value::Array(items.into_iter().map(storable).collect()),
        Value::Object(fields) => Value::Object(
            fields.into_iter().map(|(key, value)| (key.replace('\0', "\u{fffd}"), storable(value))).collect(),
        ),
        other => other,
    }
}

/// Appends one event to its team's chain. Call it inside the transaction
/// that makes the change it records. Client-supplied context (address,
/// user agent, request id) is cut to its column's size and NULs are
/// replaced, so no request can make the audit write — and with it the
/// audited action, or the record of a refusal — fail.
pub async fn append(db: &impl ConnectionTrait, event: AuditEvent) -> StoreResult<AuditRecord> {
    let mut records = append_many(db, vec![event]).await?;
    records.pop().ok_or_else(|| crate::error::StoreError::Corrupt("an append wrote no row".to_owned()))
}

/// Appends several events of one chain (one team, or the instance) in
/// order: one lock, one read of the chain's head and multi-row INSERTs, so
/// an import that closes a thousand findings writes its thousand rows in a
/// few statements.
pub async fn append_many(db: &impl ConnectionTrait, events: Vec<AuditEvent>) -> StoreResult<Vec<AuditRecord>> {
    let Some(team) = events.first().map(|e| e.team) else { return Ok(Vec::new()) };
    if events.iter().any(|e| e.team != team) {
        return Err(crate::error::StoreError::Corrupt("audit rows of several chains appended together".to_owned()));
    }
    lock_chain(db, team).await?;
    let last = audit_log::Entity::find()
        .filter(chain_filter(team))
        .order_by_desc(audit_log::Column::Seq)
        .limit(1)
        .one(db)
        .await?;
    let (mut seq, mut prev_hash) = last.map_or((1, GENESIS_HASH.to_string()), |row| (row.seq + 1, row.hash));
    // PostgreSQL keeps microseconds; hashing what is stored keeps the
    // chain verifiable on both backends.
    let now = Utc::now().trunc_subsecs(6);
    let mut records = Vec::with_capacity(events.len());
    for event in events {
        let mut record = AuditRecord {
            id: Uuid::now_v7(),
            team_id: event.team,
            seq,
            actor_kind: event.actor.kind().to_string(),
            actor_id: event.actor.user_id(),
            actor_email: event.actor.email(),
            actor_token_id: event.actor.token_id(),
            action: event.action.to_string(),
            entity_type: event.entity_type.map(str::to_string),
            entity_id: event.entity_id,
            details: storable(event.details),
            ip: fit(event.context.ip, 45),
            user_agent: fit(event.context.user_agent, 512),
            request_id: fit(event.context.request_id, 64),
            prev_hash,
            hash: String::new(),
            hash_key: chain_keys().map(|k| k.current.id.clone()),
            created_at: now,
        };
        record.hash = record.compute_hash(chain_keys().map(|k| &k.current));
        prev_hash = record.hash.clone();
        seq += 1;
        records.push(record);
    }
    // Rows per INSERT: 18 columns each, well under SQLite's 32 766 parameters.
    for chunk in records.chunks(500) {
        let rows = chunk.iter().map(|record| audit_log::ActiveModel {
            id: Set(record.id),
            team_id: Set(record.team_id.map(|t| t.as_uuid())),
            seq: Set(record.seq),
            actor_kind: Set(record.actor_kind.clone()),
            actor_id: Set(record.actor_id),
            actor_email: Set(record.actor_email.clone()),
            actor_token_id: Set(record.actor_token_id),
            action: Set(record.action.clone()),
            entity_type: Set(record.entity_type.clone()),
            entity_id: Set(record.entity_id.clone()),
            details: Set(record.details.clone()),
            ip: Set(record.ip.clone()),
            user_agent: Set(record.user_agent.clone()),
            request_id: Set(record.request_id.clone()),
            prev_hash: Set(record.prev_hash.clone()),
            hash: Set(record.hash.clone()),
            hash_key: Set(record.hash_key.clone()),
            created_at: Set(record.created_at),
        });
        audit_log::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    for record in &records {
        metrics::counter!("vulntrack_audit_rows_total", "action" => record.action.clone()).increment(1);
    }
    Ok(records)
}

/// The team's most recent rows, newest first (the viewer API with filters
/// and paging comes with the audit issue).
pub async fn recent(db: &impl ConnectionTrait, scope: TeamScope, limit: u64) -> StoreResult<Vec<AuditRecord>> {
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::TeamId.eq(scope.team_id().as_uuid()))
        .order_by_desc(audit_log::Column::Seq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(AuditRecord::from)
        .collect())
}

/// Filters of the audit viewer. Empty filters match everything.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actions: Vec<String>,
    pub actor_id: Option<Uuid>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Keyset paging: rows older than this sequence number.
    pub before_seq: Option<i64>,
    pub limit: u64,
}

/// The team's rows matching `query`, newest first.
pub async fn list(db: &impl ConnectionTrait, scope: TeamScope, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
    let mut select = audit_log::Entity::find().filter(audit_log::Column::TeamId.eq(scope.team_id().as_uuid()));
    if !query.actions.is_empty() {
        select = select.filter(audit_log::Column::Action.is_in(query.actions.iter().cloned()));
    }
    if let Some(actor) = query.actor_id {
        select = select.filter(audit_log::Column::ActorId.eq(actor));
    }
    if let Some(entity_type) = &query.entity_type {
        select = select.filter(audit_log::Column::EntityType.eq(entity_type.clone()));
    }
    if let Some(entity_id) = &query.entity_id {
        select = select.filter(audit_log::Column::EntityId.eq(entity_id.clone()));
    }
    if let Some(since) = query.since {
        select = select.filter(audit_log::Column::CreatedAt.gte(since));
    }
    if let Some(until) = query.until {
        select = select.filter(audit_log::Column::CreatedAt.lt(until));
    }
    if let Some(before) = query.before_seq {
        select = select.filter(audit_log::Column::Seq.lt(before));
    }
    Ok(select
        .order_by_desc(audit_log::Column::Seq)
        .limit(query.limit.max(1))
        .all(db)
        .await?
        .into_iter()
        .map(AuditRecord::from)
        .collect())
}

/// The first row where a chain does not hold, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainBreak {
    pub id: Uuid,
    pub seq: i64,
    pub reason: String,
}

/// The newest row of a chain: its sequence number and hash. Saved
/// elsewhere (a log collector, a file), it lets a later check notice rows
/// missing from the end, which the chain alone cannot show.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

/// The chain's head, or `None` while it has no rows.
pub(crate) async fn head(db: &impl ConnectionTrait, team: Option<TeamId>) -> StoreResult<Option<ChainHead>> {
    Ok(audit_log::Entity::find()
        .filter(chain_filter(team))
        .order_by_desc(audit_log::Column::Seq)
        .limit(1)
        .one(db)
        .await?
        .map(|row| ChainHead { seq: row.seq, hash: row.hash }))
}

/// The hash stored at `seq` in the chain, if that row exists.
pub(crate) async fn hash_at(db: &impl ConnectionTrait, team: Option<TeamId>, seq: i64) -> StoreResult<Option<String>> {
    Ok(audit_log::Entity::find()
        .filter(chain_filter(team))
        .filter(audit_log::Column::Seq.eq(seq))
        .one(db)
        .await?
        .map(|row| row.hash))
}

/// Rows read per query while walking a chain.
const VERIFY_BATCH: u64 = 1000;

/// Walks one chain (a team's, or the instance-wide one for `None`) from
/// the start: sequence numbers must run 1, 2, 3 …, each row must point at
/// its predecessor's hash, and each hash must be that of the row's content.
/// Returns how many rows were checked, or the first break.
pub(crate) async fn verify_chain(
    db: &impl ConnectionTrait,
    team: Option<TeamId>,
) -> StoreResult<Result<u64, ChainBreak>> {
    let mut expected_seq = 1;
    let mut previous_hash = GENESIS_HASH.to_string();
    // Once a chain is keyed, an unkeyed row after it is a forgery.
    let mut keyed = false;
    loop {
        let rows = audit_log::Entity::find()
            .filter(chain_filter(team))
            .filter(audit_log::Column::Seq.gte(expected_seq))
            .order_by_asc(audit_log::Column::Seq)
            .limit(VERIFY_BATCH)
            .all(db)
            .await?;
        if rows.is_empty() {
            return Ok(Ok(u64::try_from(expected_seq - 1).unwrap_or(0)));
        }
        for row in rows {
            let record = AuditRecord::from(row);
            let broken = |reason: String| Ok(Err(ChainBreak { id: record.id, seq: record.seq, reason }));
            if record.seq != expected_seq {
                return broken(format!("sequence jumps from {} to {} (rows missing)", expected_seq - 1, record.seq));
            }
            if record.prev_hash != previous_hash {
                return broken("does not follow the previous row's hash".into());
            }
            let key = match (&record.hash_key, chain_keys()) {
                (None, _) if keyed => {
                    return broken("is not keyed although earlier rows are (rewritten without the key)".into());
                }
                (None, _) => None,
                (Some(id), keys) => match keys.and_then(|k| k.by_id(id)) {
                    Some(key) => Some(key),
                    None => {
                        return broken(format!(
                            "is signed with audit key {id}, which this configuration does not hold (after a secret rotation, set VULNTRACK_SECRET_PREVIOUS)"
                        ));
                    }
                },
            };
            keyed |= key.is_some();
            if record.compute_hash(key) != record.hash {
                return broken("content does not match its hash (altered)".into());
            }
            previous_hash = record.hash;
            expected_seq += 1;
        }
    }
}

//! The append-only audit log. Rows are written through [`append`] inside
//! the caller's transaction, so a change and its record commit together or
//! not at all. Each team's rows form a hash chain: `hash` is an HMAC over the
//! row's canonical form and the previous row's hash. The canonical form
//! holds a salted digest of the row's personal fields (actor email,
//! details, address, user agent) rather than the fields themselves, so a
//! person's data can be erased from the rows while the chain still
//! verifies (docs/ARCHITECTURE.md, "Audit log").

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, sea_query::Expr,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use vulntrack_domain::{TeamId, UserId};

use crate::{
    entity::{audit_checkpoints, audit_log},
    error::StoreResult,
    scope::TeamScope,
};

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
    /// The random salt of [`Self::personal_digest`]; destroyed (`None`)
    /// when the row's personal data is erased.
    pub personal_salt: Option<String>,
    /// SHA-256 of the salt and the row's personal fields (actor email,
    /// details, address, user agent): what the chain hashes in their
    /// place, so erasing them leaves the chain intact. `None` on rows of
    /// the first format, which hashed them in clear.
    pub personal_digest: Option<String>,
    /// When the row's personal data was erased.
    pub erased_at: Option<DateTime<Utc>>,
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
            personal_salt: row.personal_salt,
            personal_digest: row.personal_digest,
            erased_at: row.erased_at,
        }
    }
}

impl AuditRecord {
    /// The canonical form of what the row's hash covers. Rows with a
    /// personal digest (the second format) cover it in place of the
    /// personal fields; rows of the first format cover every field.
    /// serde_json sorts object keys, so equal details always serialise the
    /// same way.
    fn canonical(&self) -> String {
        let at = self.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        match &self.personal_digest {
            Some(digest) => json!([
                2,
                self.team_id.map(|t| t.to_string()),
                self.seq,
                self.actor_kind,
                self.actor_id,
                self.actor_token_id,
                self.action,
                self.entity_type,
                self.entity_id,
                self.request_id,
                at,
                self.prev_hash,
                digest,
            ])
            .to_string(),
            None => json!([
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
                at,
                self.prev_hash,
            ])
            .to_string(),
        }
    }

    /// SHA-256 of `salt` and the personal fields as they are now.
    fn digest_of_personal(&self, salt: &str) -> String {
        let personal = json!([self.actor_email, self.details, self.ip, self.user_agent]).to_string();
        let mut hasher = Sha256::new();
        hasher.update(salt.as_bytes());
        hasher.update(personal.as_bytes());
        hex::encode(hasher.finalize())
    }

    /// Gives the row a new salt and the digest of its personal fields
    /// (the second format).
    fn seal_personal(&mut self) {
        let salt = Uuid::new_v4().simple().to_string();
        self.personal_digest = Some(self.digest_of_personal(&salt));
        self.personal_salt = Some(salt);
    }

    /// Whether the personal fields are those the digest was made of: `None`
    /// when the row has no digest (first format) or was erased.
    fn personal_fields_hold(&self) -> Option<bool> {
        let (salt, digest) = (self.personal_salt.as_ref()?, self.personal_digest.as_ref()?);
        Some(&self.digest_of_personal(salt) == digest)
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
            personal_salt: None,
            personal_digest: None,
            erased_at: None,
        };
        record.seal_personal();
        record.hash = record.compute_hash(chain_keys().map(|k| &k.current));
        prev_hash = record.hash.clone();
        seq += 1;
        records.push(record);
    }
    // Rows per INSERT: 21 columns each, well under SQLite's 32 766 parameters.
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
            personal_salt: Set(record.personal_salt.clone()),
            personal_digest: Set(record.personal_digest.clone()),
            erased_at: Set(record.erased_at),
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

/// Every row of the chain, oldest first.
pub(crate) async fn rows(db: &impl ConnectionTrait, team: Option<TeamId>) -> StoreResult<Vec<AuditRecord>> {
    Ok(audit_log::Entity::find()
        .filter(chain_filter(team))
        .order_by_asc(audit_log::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .map(AuditRecord::from)
        .collect())
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

/// Up to [`VERIFY_BATCH`] rows of the chain from `seq` on, in order.
async fn batch_from(db: &impl ConnectionTrait, team: Option<TeamId>, seq: i64) -> StoreResult<Vec<audit_log::Model>> {
    Ok(audit_log::Entity::find()
        .filter(chain_filter(team))
        .filter(audit_log::Column::Seq.gte(seq))
        .order_by_asc(audit_log::Column::Seq)
        .limit(VERIFY_BATCH)
        .all(db)
        .await?)
}

/// Walks one chain (a team's, or the instance-wide one for `None`) from
/// the start: sequence numbers must run 1, 2, 3 …, each row must point at
/// its predecessor's hash, and each hash must be that of the row's content.
/// Returns how many rows were checked, or the first break.
pub(crate) async fn verify_chain(
    db: &impl ConnectionTrait,
    team: Option<TeamId>,
) -> StoreResult<Result<u64, ChainBreak>> {
    verify_chain_since(db, team, true).await
}

/// [`verify_chain`], starting from the chain's newest checkpoint if
/// `checkpoints` (migration 33 verifies before checkpoints exist).
async fn verify_chain_since(
    db: &impl ConnectionTrait,
    team: Option<TeamId>,
    checkpoints: bool,
) -> StoreResult<Result<u64, ChainBreak>> {
    let mut expected_seq = 1;
    let mut previous_hash = GENESIS_HASH.to_string();
    // Once a chain is keyed, an unkeyed row after it is a forgery; so is a
    // row of the first format after one of the second.
    let mut keyed = false;
    let mut sealed = false;
    // A purged prefix is vouched for by its signed checkpoint: the chain
    // continues from the last purged row's hash.
    let checkpoint = if checkpoints { latest_checkpoint(db, team).await? } else { None };
    if let Some(checkpoint) = checkpoint {
        let broken = |reason: String| Ok(Err(ChainBreak { id: checkpoint.id, seq: checkpoint.seq, reason }));
        let Some(key) = chain_keys().and_then(|k| k.by_id(&checkpoint.key_id)) else {
            return broken(format!(
                "the checkpoint of the rows purged up to here is signed with audit key {}, which this configuration does not hold",
                checkpoint.key_id
            ));
        };
        if key.mac(checkpoint_canonical(&checkpoint).as_bytes()) != checkpoint.signature {
            return broken(
                "the checkpoint of the rows purged up to here is not signed by the audit key (forged)".into(),
            );
        }
        expected_seq = checkpoint.seq + 1;
        previous_hash = checkpoint.hash.clone();
        keyed = true;
        sealed = true;
    }
    loop {
        let rows = batch_from(db, team, expected_seq).await?;
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
            if record.personal_digest.is_none() && sealed {
                return broken("hashes its personal fields in clear although earlier rows do not (rewritten)".into());
            }
            sealed |= record.personal_digest.is_some();
            if record.compute_hash(key) != record.hash {
                return broken("content does not match its hash (altered)".into());
            }
            match record.personal_fields_hold() {
                Some(false) => return broken("personal fields do not match their digest (altered)".into()),
                None if record.personal_digest.is_some() && record.erased_at.is_none() => {
                    return broken("has lost the salt of its personal digest without being erased".into());
                }
                _ => {}
            }
            previous_hash = record.hash;
            expected_seq += 1;
        }
    }
}

/// Rows of every chain still in the first format (personal fields hashed in
/// clear) are sealed into the second (salted digest in their place), and
/// each chain they belong to is hashed again from its first such row under
/// the current key. A chain is verified before it is touched: a broken one
/// stops the upgrade rather than being hashed into a valid-looking one.
/// Each upgraded chain records `AUDIT_CHAIN_UPGRADED` with its previous
/// head, so a head saved outside the database before the upgrade can be
/// matched to the new chain. Returns how many rows were sealed.
pub async fn upgrade_chains(db: &impl ConnectionTrait) -> StoreResult<u64> {
    let teams: Vec<Option<Uuid>> = audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::TeamId)
        .filter(audit_log::Column::PersonalDigest.is_null())
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    if teams.is_empty() {
        return Ok(0);
    }
    let Some(keys) = chain_keys() else {
        return Err(crate::error::StoreError::Corrupt(
            "upgrading the audit chains needs the signing secret (VULNTRACK_SECRET)".to_owned(),
        ));
    };
    allow_on_postgres(db, "vulntrack.audit_upgrade").await?;
    let mut sealed = 0;
    for team in teams.into_iter().map(|t| t.map(TeamId::from_uuid)) {
        lock_chain(db, team).await?;
        // Rows of the first format are only found before migration 34, so
        // before any checkpoint.
        if let Err(broken) = verify_chain_since(db, team, false).await? {
            return Err(crate::error::StoreError::Corrupt(format!(
                "the audit chain {} is broken at seq {} ({}); it is not upgraded (vulntrack audit verify)",
                team.map_or("of the instance".to_owned(), |t| t.to_string()),
                broken.seq,
                broken.reason
            )));
        }
        let previous_head = head(db, team).await?;
        let first: Option<i64> = audit_log::Entity::find()
            .select_only()
            .column_as(audit_log::Column::Seq.min(), "first")
            .filter(chain_filter(team))
            .filter(audit_log::Column::PersonalDigest.is_null())
            .into_tuple()
            .one(db)
            .await?
            .flatten();
        let Some(first) = first else { continue };
        let mut prev_hash = match first {
            1 => GENESIS_HASH.to_owned(),
            n => hash_at(db, team, n - 1).await?.unwrap_or_else(|| GENESIS_HASH.to_owned()),
        };
        let mut next = first;
        let mut chain_sealed = 0u64;
        loop {
            let rows = batch_from(db, team, next).await?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                let mut record = AuditRecord::from(row);
                if record.personal_digest.is_none() {
                    record.seal_personal();
                    chain_sealed += 1;
                }
                record.prev_hash = prev_hash;
                record.hash_key = Some(keys.current.id.clone());
                record.hash = record.compute_hash(Some(&keys.current));
                audit_log::Entity::update_many()
                    .col_expr(audit_log::Column::PersonalSalt, Expr::value(record.personal_salt.clone()))
                    .col_expr(audit_log::Column::PersonalDigest, Expr::value(record.personal_digest.clone()))
                    .col_expr(audit_log::Column::PrevHash, Expr::value(record.prev_hash.clone()))
                    .col_expr(audit_log::Column::Hash, Expr::value(record.hash.clone()))
                    .col_expr(audit_log::Column::HashKey, Expr::value(record.hash_key.clone()))
                    .filter(audit_log::Column::Id.eq(record.id))
                    .exec(db)
                    .await?;
                prev_hash = record.hash;
                next = record.seq + 1;
            }
        }
        sealed += chain_sealed;
        let event = AuditEvent {
            team,
            actor: Actor::System,
            action: vulntrack_domain::AuditAction::AuditChainUpgraded,
            entity_type: Some("audit_log"),
            entity_id: None,
            details: json!({ "previous_head": previous_head, "rows_sealed": chain_sealed }),
            context: RequestContext::default(),
        };
        append(db, event).await?;
    }
    Ok(sealed)
}

/// The newest checkpoint of a chain's purged prefix.
async fn latest_checkpoint(
    db: &impl ConnectionTrait,
    team: Option<TeamId>,
) -> StoreResult<Option<audit_checkpoints::Model>> {
    let filter = match team {
        Some(team) => audit_checkpoints::Column::TeamId.eq(team.as_uuid()),
        None => audit_checkpoints::Column::TeamId.is_null(),
    };
    Ok(audit_checkpoints::Entity::find()
        .filter(filter)
        .order_by_desc(audit_checkpoints::Column::Seq)
        .limit(1)
        .one(db)
        .await?)
}

/// What a checkpoint's signature covers.
fn checkpoint_canonical(checkpoint: &audit_checkpoints::Model) -> String {
    json!([
        "checkpoint",
        checkpoint.team_id,
        checkpoint.seq,
        checkpoint.hash,
        checkpoint.rows_purged,
        checkpoint.purged_before.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    ])
    .to_string()
}

/// Purges the chain's rows written before `cutoff` (never its newest row,
/// which the next append continues from): a checkpoint signed with the
/// chain key records the last purged row's sequence number and hash, from
/// which [`verify_chain`] continues. Returns how many rows were purged.
pub(crate) async fn purge_before(
    db: &impl ConnectionTrait,
    team: Option<TeamId>,
    cutoff: DateTime<Utc>,
) -> StoreResult<u64> {
    lock_chain(db, team).await?;
    let Some(head) = head(db, team).await? else { return Ok(0) };
    let last_old: Option<i64> = audit_log::Entity::find()
        .select_only()
        .column_as(audit_log::Column::Seq.max(), "last")
        .filter(chain_filter(team))
        .filter(audit_log::Column::CreatedAt.lt(cutoff))
        .into_tuple()
        .one(db)
        .await?
        .flatten();
    let Some(last_old) = last_old else { return Ok(0) };
    let upto = last_old.min(head.seq - 1);
    let already = latest_checkpoint(db, team).await?.map_or(0, |c| c.seq);
    if upto <= already {
        return Ok(0);
    }
    let Some(hash) = hash_at(db, team, upto).await? else { return Ok(0) };
    let Some(keys) = chain_keys() else {
        return Err(crate::error::StoreError::Corrupt(
            "purging the audit log needs the signing secret (VULNTRACK_SECRET)".to_owned(),
        ));
    };
    let mut checkpoint = audit_checkpoints::Model {
        id: Uuid::now_v7(),
        team_id: team.map(|t| t.as_uuid()),
        seq: upto,
        hash,
        rows_purged: upto - already,
        purged_before: cutoff.trunc_subsecs(6),
        key_id: keys.current.id.clone(),
        signature: String::new(),
        created_at: Utc::now().trunc_subsecs(6),
    };
    checkpoint.signature = keys.current.mac(checkpoint_canonical(&checkpoint).as_bytes());
    audit_checkpoints::Entity::insert(audit_checkpoints::ActiveModel::from(checkpoint))
        .exec_without_returning(db)
        .await?;
    allow_on_postgres(db, "vulntrack.audit_purge").await?;
    let deleted = audit_log::Entity::delete_many()
        .filter(chain_filter(team))
        .filter(audit_log::Column::Seq.lte(upto))
        .exec(db)
        .await?
        .rows_affected;
    Ok(deleted)
}

/// Tells PostgreSQL's audit trigger that this transaction seals or erases
/// rows (`setting`), which it otherwise refuses (migration 33).
async fn allow_on_postgres(db: &impl ConnectionTrait, setting: &str) -> StoreResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config($1, 'on', true)",
            [setting.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Undoes [`upgrade_chains`] for migration 33's `down`: every chain with
/// sealed rows is hashed again from its start in the first format (the
/// personal fields as they are now, erased ones included), under the
/// current key. The caller lifts the update guard first.
pub async fn downgrade_chains(db: &impl ConnectionTrait) -> StoreResult<()> {
    let teams: Vec<Option<Uuid>> = audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::TeamId)
        .filter(audit_log::Column::PersonalDigest.is_not_null())
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    if teams.is_empty() {
        return Ok(());
    }
    let Some(keys) = chain_keys() else {
        return Err(crate::error::StoreError::Corrupt(
            "downgrading the audit chains needs the signing secret (VULNTRACK_SECRET)".to_owned(),
        ));
    };
    for team in teams.into_iter().map(|t| t.map(TeamId::from_uuid)) {
        lock_chain(db, team).await?;
        let mut prev_hash = GENESIS_HASH.to_owned();
        for mut record in rows(db, team).await? {
            record.personal_digest = None;
            record.personal_salt = None;
            record.prev_hash = prev_hash;
            record.hash_key = Some(keys.current.id.clone());
            record.hash = record.compute_hash(Some(&keys.current));
            audit_log::Entity::update_many()
                .col_expr(audit_log::Column::PersonalSalt, Expr::value(Option::<String>::None))
                .col_expr(audit_log::Column::PersonalDigest, Expr::value(Option::<String>::None))
                .col_expr(audit_log::Column::PrevHash, Expr::value(record.prev_hash.clone()))
                .col_expr(audit_log::Column::Hash, Expr::value(record.hash.clone()))
                .col_expr(audit_log::Column::HashKey, Expr::value(record.hash_key.clone()))
                .filter(audit_log::Column::Id.eq(record.id))
                .exec(db)
                .await?;
            prev_hash = record.hash;
        }
    }
    Ok(())
}

/// A person's personal values, as an erasure looks for them in rows that
/// others' actions wrote (an invitation's address, a profile change's old
/// and new values).
#[derive(Debug, Clone, Default)]
pub struct PersonalValues(pub Vec<String>);

/// The keys under which details hold a person's own values (a profile
/// change's before and after, an invitation's address).
const PERSONAL_KEYS: &[&str] = &["name", "email", "phone", "job_title", "department", "bio", "time_zone"];

impl PersonalValues {
    /// Adds the string values found under personal keys of `details`
    /// (at any depth), such as a name the person no longer has.
    fn gather(&mut self, details: &Value, under_personal_key: bool) {
        match details {
            Value::String(text)
                if under_personal_key
                    && text.trim().chars().count() >= 4
                    && !self.0.iter().any(|v| v == text.trim()) =>
            {
                self.0.push(text.trim().to_owned());
            }
            Value::Array(items) => items.iter().for_each(|v| self.gather(v, under_personal_key)),
            Value::Object(fields) => {
                for (key, value) in fields {
                    self.gather(value, under_personal_key || PERSONAL_KEYS.contains(&key.as_str()));
                }
            }
            _ => {}
        }
    }

    fn holds(&self, text: &str) -> bool {
        self.0.iter().any(|value| text.contains(value.as_str()))
    }

    fn scrub(&self, value: Value) -> Value {
        match value {
            Value::String(text) if self.holds(&text) => {
                let mut text = text;
                for personal in &self.0 {
                    text = text.replace(personal.as_str(), ERASED);
                }
                Value::String(text)
            }
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.scrub(v)).collect()),
            Value::Object(fields) => Value::Object(fields.into_iter().map(|(k, v)| (k, self.scrub(v))).collect()),
            other => other,
        }
    }
}

/// What erased text reads as.
pub const ERASED: &str = "[erased]";

/// Erases a person's personal data from the audit rows of `team`'s chain
/// and the instance's: the rows they acted in lose the actor's email,
/// address and user agent, and every row whose details, address or user
/// agent hold one of `values` has it replaced by `[erased]`. Each such row
/// loses the salt of its personal digest and is marked erased, so the
/// chain (which hashes the digest, not the values) still verifies. Rows of
/// the first format are sealed first ([`upgrade_chains`]). Returns how
/// many rows were erased.
pub async fn erase_person(
    db: &impl ConnectionTrait,
    team: TeamId,
    person: UserId,
    values: &PersonalValues,
) -> StoreResult<u64> {
    upgrade_chains(db).await?;
    // Values the person had before (an old name, a changed phone) are in
    // the rows about them.
    let mut values = values.clone();
    let about = audit_log::Entity::find()
        .filter(audit_log::Column::TeamId.eq(team.as_uuid()))
        .filter(audit_log::Column::EntityType.eq("user"))
        .filter(audit_log::Column::EntityId.eq(person.to_string()))
        .all(db)
        .await?;
    for row in &about {
        values.gather(&row.details, false);
    }
    let values = &values;
    allow_on_postgres(db, "vulntrack.audit_erasure").await?;
    let now = Utc::now().trunc_subsecs(6);
    let mut erased = 0;
    for chain in [Some(team), None] {
        let mut next = 1;
        loop {
            let rows = batch_from(db, chain, next).await?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                next = row.seq + 1;
                let theirs = row.actor_id == Some(person.as_uuid());
                let mentions = values.holds(&row.details.to_string())
                    || row.ip.as_deref().is_some_and(|ip| values.holds(ip))
                    || row.user_agent.as_deref().is_some_and(|ua| values.holds(ua))
                    || row.actor_email.as_deref().is_some_and(|e| values.holds(e));
                if !theirs && !mentions {
                    continue;
                }
                let scrub_text = |text: Option<String>| match text {
                    Some(t) if values.holds(&t) => Some(ERASED.to_owned()),
                    other => other,
                };
                // An anonymous request about them (a failed sign-in with
                // their address) came from them or someone posing as them:
                // its address and browser go too.
                let from_them = theirs || row.actor_kind == Actor::Anonymous.kind();
                let (actor_email, ip, user_agent) = if from_them {
                    (None, None, None)
                } else {
                    (
                        scrub_text(row.actor_email.clone()),
                        scrub_text(row.ip.clone()),
                        scrub_text(row.user_agent.clone()),
                    )
                };
                audit_log::Entity::update_many()
                    .col_expr(audit_log::Column::ActorEmail, Expr::value(actor_email))
                    .col_expr(audit_log::Column::Ip, Expr::value(ip))
                    .col_expr(audit_log::Column::UserAgent, Expr::value(user_agent))
                    .col_expr(audit_log::Column::Details, Expr::value(values.scrub(row.details.clone())))
                    .col_expr(audit_log::Column::PersonalSalt, Expr::value(Option::<String>::None))
                    .col_expr(audit_log::Column::ErasedAt, Expr::value(Some(now)))
                    .filter(audit_log::Column::Id.eq(row.id))
                    .exec(db)
                    .await?;
                erased += 1;
            }
        }
    }
    Ok(erased)
}

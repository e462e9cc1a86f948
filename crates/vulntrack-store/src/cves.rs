//! The CVE catalogue: reference data shared by every team (no
//! [`TeamScope`](crate::TeamScope): nothing in it belongs to a team).
//!
//! Each feed owns its columns: an NVD record writes the description,
//! dates, vectors, CWEs and references; a KEV entry the `kev_*` columns;
//! an EPSS score the `epss_*` ones. A feed's record for a CVE no other
//! feed has named yet creates the row, so files load in any order. A
//! record equal to what is stored is counted unchanged and not written.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, sea_query::OnConflict,
};
use serde_json::json;

use crate::{
    bulk::{self, Upsert},
    entity::{cve_sources, cves},
    error::{StoreError, StoreResult},
};

/// A CVSS vector with our score and the NVD's.
#[derive(Debug, Clone, PartialEq)]
pub struct CveCvss {
    pub vector: String,
    /// Computed by VulnTrack's CVSS code from the vector.
    pub score: Option<f64>,
    /// What the NVD published, kept for comparison.
    pub nvd_score: Option<f64>,
}

/// What the NVD says of a CVE.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NvdFields {
    pub status: Option<String>,
    pub description: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub modified_at: Option<DateTime<Utc>>,
    pub cvss_v3: Option<CveCvss>,
    pub cvss_v4: Option<CveCvss>,
    pub cwe_ids: Vec<u32>,
    pub references: Vec<String>,
}

/// What CISA's catalogue says of a known exploited CVE.
#[derive(Debug, Clone, PartialEq)]
pub struct KevFields {
    pub date_added: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub required_action: Option<String>,
    pub known_ransomware: bool,
    pub name: Option<String>,
    pub vendor_project: Option<String>,
    pub product: Option<String>,
    pub short_description: Option<String>,
}

/// A CVE's EPSS score on a date.
#[derive(Debug, Clone, PartialEq)]
pub struct EpssFields {
    pub score: f64,
    pub percentile: f64,
    pub date: Option<NaiveDate>,
}

/// One CVE as the catalogue holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cve {
    pub id: String,
    /// Absent until an NVD record for it was loaded.
    pub nvd: Option<NvdFields>,
    pub kev: Option<KevFields>,
    pub epss: Option<EpssFields>,
    pub updated_at: DateTime<Utc>,
}

/// What applying a batch of one feed's records did: `inserted` counts the
/// CVEs this feed had said nothing of before (the row may exist from
/// another feed), `updated` those whose feed columns changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// CVEs this batch put on the KEV list (they were not on it before).
    pub newly_known_exploited: Vec<String>,
}

impl Applied {
    pub fn add(&mut self, other: Applied) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.newly_known_exploited.extend(other.newly_known_exploited);
    }
}

/// A feed's share of a catalogue row.
pub trait FeedFields: Sized + PartialEq + Send {
    /// The columns the feed writes, `updated_at` last.
    const COLUMNS: &'static [&'static str];
    /// What the row holds from this feed, if anything.
    fn from_row(row: &cves::Model) -> Option<Self>;
    /// Sets the feed's columns on `model`.
    fn set(self, model: &mut cves::ActiveModel);
    /// Whether the feed's columns go into records' priorities (KEV and
    /// EPSS do; the NVD's do not: a record keeps its own CVSS).
    const AFFECTS_PRIORITY: bool = false;
    /// Whether writing this record puts the CVE of `row` on the KEV list.
    fn lists_as_exploited(_row: Option<&cves::Model>) -> bool {
        false
    }
}

impl FeedFields for NvdFields {
    const COLUMNS: &'static [&'static str] = &[
        "status",
        "description",
        "published_at",
        "modified_at",
        "cvss_v3_vector",
        "cvss_v3_score",
        "nvd_cvss_v3_score",
        "cvss_v4_vector",
        "cvss_v4_score",
        "nvd_cvss_v4_score",
        "cwe_ids",
        "reference_urls",
        "updated_at",
    ];

    fn from_row(row: &cves::Model) -> Option<Self> {
        // Every NVD record sets its JSON lists (empty or not); a row made by
        // another feed has none.
        row.reference_urls.as_ref()?;
        let cvss = |vector: &Option<String>, score, nvd_score| {
            vector.clone().map(|vector| CveCvss { vector, score, nvd_score })
        };
        Some(NvdFields {
            status: row.status.clone(),
            description: row.description.clone(),
            published_at: row.published_at,
            modified_at: row.modified_at,
            cvss_v3: cvss(&row.cvss_v3_vector, row.cvss_v3_score, row.nvd_cvss_v3_score),
            cvss_v4: cvss(&row.cvss_v4_vector, row.cvss_v4_score, row.nvd_cvss_v4_score),
            cwe_ids: list(row.cwe_ids.as_ref()),
            references: list(row.reference_urls.as_ref()),
        })
    }

    fn set(self, model: &mut cves::ActiveModel) {
        let (v3, v4) = (self.cvss_v3, self.cvss_v4);
        model.status = Set(self.status);
        model.description = Set(self.description);
        model.published_at = Set(self.published_at);
        model.modified_at = Set(self.modified_at);
        model.cvss_v3_vector = Set(v3.as_ref().map(|c| c.vector.clone()));
        model.cvss_v3_score = Set(v3.as_ref().and_then(|c| c.score));
        model.nvd_cvss_v3_score = Set(v3.as_ref().and_then(|c| c.nvd_score));
        model.cvss_v4_vector = Set(v4.as_ref().map(|c| c.vector.clone()));
        model.cvss_v4_score = Set(v4.as_ref().and_then(|c| c.score));
        model.nvd_cvss_v4_score = Set(v4.as_ref().and_then(|c| c.nvd_score));
        model.cwe_ids = Set(Some(json!(self.cwe_ids)));
        model.reference_urls = Set(Some(json!(self.references)));
    }
}

impl FeedFields for KevFields {
    const COLUMNS: &'static [&'static str] = &[
        "kev_date_added",
        "kev_due_date",
        "kev_required_action",
        "kev_known_ransomware",
        "kev_name",
        "kev_vendor_project",
        "kev_product",
        "kev_short_description",
        "updated_at",
    ];
    const AFFECTS_PRIORITY: bool = true;

    fn from_row(row: &cves::Model) -> Option<Self> {
        Some(KevFields {
            date_added: row.kev_date_added?,
            due_date: row.kev_due_date,
            required_action: row.kev_required_action.clone(),
            known_ransomware: row.kev_known_ransomware.unwrap_or(false),
            name: row.kev_name.clone(),
            vendor_project: row.kev_vendor_project.clone(),
            product: row.kev_product.clone(),
            short_description: row.kev_short_description.clone(),
        })
    }

    fn set(self, model: &mut cves::ActiveModel) {
        model.kev_date_added = Set(Some(self.date_added));
        model.kev_due_date = Set(self.due_date);
        model.kev_required_action = Set(self.required_action);
        model.kev_known_ransomware = Set(Some(self.known_ransomware));
        model.kev_name = Set(self.name);
        model.kev_vendor_project = Set(self.vendor_project);
        model.kev_product = Set(self.product);
        model.kev_short_description = Set(self.short_description);
    }

    fn lists_as_exploited(row: Option<&cves::Model>) -> bool {
        row.is_none_or(|r| r.kev_date_added.is_none())
    }
}

impl FeedFields for EpssFields {
    const COLUMNS: &'static [&'static str] = &["epss_score", "epss_percentile", "epss_date", "updated_at"];
    const AFFECTS_PRIORITY: bool = true;

    fn from_row(row: &cves::Model) -> Option<Self> {
        Some(EpssFields { score: row.epss_score?, percentile: row.epss_percentile?, date: row.epss_date })
    }

    fn set(self, model: &mut cves::ActiveModel) {
        model.epss_score = Set(Some(self.score));
        model.epss_percentile = Set(Some(self.percentile));
        model.epss_date = Set(self.date);
    }
}

fn list<T: serde::de::DeserializeOwned>(value: Option<&serde_json::Value>) -> Vec<T> {
    value.and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default()
}

/// Rows read and written per round trip.
pub const BATCH: usize = 1000;

/// Writes one feed's `records` (CVE id, fields), at most [`BATCH`] of them:
/// new CVEs are inserted, changed ones updated, equal ones left alone. An
/// id given twice keeps its last record.
pub async fn apply<F: FeedFields>(
    db: &impl ConnectionTrait,
    records: Vec<(String, F)>,
    now: DateTime<Utc>,
) -> StoreResult<Applied> {
    let mut latest: HashMap<String, F> = HashMap::with_capacity(records.len());
    let mut order = Vec::with_capacity(records.len());
    for (id, fields) in records {
        if latest.insert(id.clone(), fields).is_none() {
            order.push(id);
        }
    }
    let mut stored: HashMap<String, cves::Model> = HashMap::with_capacity(order.len());
    for chunk in order.chunks(BATCH) {
        for row in cves::Entity::find().filter(cves::Column::Id.is_in(chunk.iter().cloned())).all(db).await? {
            stored.insert(row.id.clone(), row);
        }
    }
    let mut applied = Applied::default();
    let mut writes = Vec::new();
    for id in order {
        let Some(fields) = latest.remove(&id) else { continue };
        let row = stored.get(&id);
        let before = row.and_then(F::from_row);
        if before.as_ref() == Some(&fields) {
            applied.unchanged += 1;
            continue;
        }
        // Counted per feed: a CVE another feed created is new to this one.
        if before.is_none() {
            applied.inserted += 1;
        } else {
            applied.updated += 1;
        }
        if F::lists_as_exploited(row) {
            applied.newly_known_exploited.push(id.clone());
        }
        let mut model = cves::ActiveModel { id: Set(id), updated_at: Set(now), ..Default::default() };
        fields.set(&mut model);
        writes.push(model);
    }
    let written: Vec<String> = writes.iter().filter_map(|w| w.id.try_as_ref().cloned()).collect();
    bulk::insert(db, writes, None, Some(Upsert { key: "id", update: F::COLUMNS })).await?;
    if F::AFFECTS_PRIORITY {
        crate::vulnerabilities::priority::refresh(db, crate::vulnerabilities::priority::Target::Cves(&written)).await?;
    }
    Ok(applied)
}

/// The CVE `id` (in capitals).
pub async fn get(db: &impl ConnectionTrait, id: &str) -> StoreResult<Cve> {
    find(db, id).await?.ok_or(StoreError::NotFound)
}

/// The CVE `id` (in capitals), if the catalogue holds it.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<Cve>> {
    Ok(cves::Entity::find_by_id(id.to_owned()).one(db).await?.map(cve))
}

/// The catalogue's rows for `ids`, by id; ids it does not hold are absent.
pub async fn get_many(db: &impl ConnectionTrait, ids: &[String]) -> StoreResult<HashMap<String, Cve>> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(BATCH) {
        for row in cves::Entity::find().filter(cves::Column::Id.is_in(chunk.iter().cloned())).all(db).await? {
            found.insert(row.id.clone(), cve(row));
        }
    }
    Ok(found)
}

/// CVEs whose id starts with `prefix` (in capitals), in id order.
pub async fn with_id_prefix(db: &impl ConnectionTrait, prefix: &str, limit: u64) -> StoreResult<Vec<Cve>> {
    // A range on the primary key, not LIKE (whose case rules differ
    // between the backends and which SQLite will not take to the index).
    let mut query = cves::Entity::find().filter(cves::Column::Id.gte(prefix));
    if let Some(end) = prefix_end(prefix) {
        query = query.filter(cves::Column::Id.lt(end));
    }
    Ok(query.order_by_asc(cves::Column::Id).limit(limit).all(db).await?.into_iter().map(cve).collect())
}

/// The smallest string after every string starting with `prefix`.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut bytes = prefix.as_bytes().to_vec();
    while let Some(last) = bytes.pop() {
        if last < 0x7f {
            bytes.push(last + 1);
            return String::from_utf8(bytes).ok();
        }
    }
    None
}

/// CVEs whose description has every word of `words`, newest first.
pub async fn with_words(db: &impl ConnectionTrait, words: &[String], limit: u64) -> StoreResult<Vec<Cve>> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let rows = if backend == DbBackend::Postgres {
        // The expression is the GIN index's, so the index serves it.
        let query = words.join(" ");
        cves::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(
                backend,
                "SELECT * FROM cves WHERE to_tsvector('english', COALESCE(description, '')) \
                 @@ plainto_tsquery('english', $1) ORDER BY published_at DESC NULLS LAST, id DESC LIMIT $2",
                [query.into(), (limit as i64).into()],
            ))
            .all(db)
            .await?
    } else {
        let mut query = cves::Entity::find();
        for word in words {
            let pattern = format!("%{}%", word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            query =
                query.filter(cves::Column::Description.like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')));
        }
        query.order_by_desc(cves::Column::PublishedAt).order_by_desc(cves::Column::Id).limit(limit).all(db).await?
    };
    Ok(rows.into_iter().map(cve).collect())
}

fn cve(row: cves::Model) -> Cve {
    Cve {
        nvd: NvdFields::from_row(&row),
        kev: KevFields::from_row(&row),
        epss: EpssFields::from_row(&row),
        id: row.id,
        updated_at: row.updated_at,
    }
}

// ---- Sync state ---------------------------------------------------------------

/// A feed's sync state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceState {
    pub source: String,
    /// The version of the last file applied (KEV catalogue, EPSS model and date).
    pub version: Option<String>,
    /// Where the next incremental sync starts (NVD: the last modification seen).
    pub cursor: Option<String>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub consecutive_failures: i32,
    pub last_error: Option<String>,
}

/// `source`'s state (a default one if it never ran).
pub async fn source(db: &impl ConnectionTrait, source: &str) -> StoreResult<SourceState> {
    Ok(cve_sources::Entity::find_by_id(source.to_owned())
        .one(db)
        .await?
        .map(source_state)
        .unwrap_or_else(|| SourceState { source: source.to_owned(), ..SourceState::default() }))
}

/// Records a successful load of `source` (its version and cursor when
/// given); the failure count goes back to zero.
pub async fn record_success(
    db: &impl ConnectionTrait,
    source: &str,
    version: Option<&str>,
    cursor: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let before = self::source(db, source).await?;
    let model = cve_sources::ActiveModel {
        source: Set(source.to_owned()),
        version: Set(version.map(str::to_owned).or(before.version)),
        cursor: Set(cursor.map(str::to_owned).or(before.cursor)),
        last_attempt_at: Set(Some(now)),
        last_success_at: Set(Some(now)),
        consecutive_failures: Set(0),
        last_error: Set(None),
    };
    upsert_source(db, model).await
}

/// Records a failed sync of `source`; the count of failures in a row after it.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    source: &str,
    error: &str,
    now: DateTime<Utc>,
) -> StoreResult<i32> {
    let before = self::source(db, source).await?;
    let failures = before.consecutive_failures.saturating_add(1);
    let model = cve_sources::ActiveModel {
        source: Set(source.to_owned()),
        version: Set(before.version),
        cursor: Set(before.cursor),
        last_attempt_at: Set(Some(now)),
        last_success_at: Set(before.last_success_at),
        consecutive_failures: Set(failures),
        last_error: Set(Some(error.chars().take(2000).collect())),
    };
    upsert_source(db, model).await?;
    Ok(failures)
}

async fn upsert_source(db: &impl ConnectionTrait, model: cve_sources::ActiveModel) -> StoreResult<()> {
    use cve_sources::Column as C;
    cve_sources::Entity::insert(model)
        .on_conflict(
            OnConflict::column(C::Source)
                .update_columns([
                    C::Version,
                    C::Cursor,
                    C::LastAttemptAt,
                    C::LastSuccessAt,
                    C::ConsecutiveFailures,
                    C::LastError,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

fn source_state(row: cve_sources::Model) -> SourceState {
    SourceState {
        source: row.source,
        version: row.version,
        cursor: row.cursor,
        last_attempt_at: row.last_attempt_at,
        last_success_at: row.last_success_at,
        consecutive_failures: row.consecutive_failures,
        last_error: row.last_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_ends_where_the_next_one_starts() {
        assert_eq!(prefix_end("CVE-2021-4").as_deref(), Some("CVE-2021-5"));
        assert_eq!(prefix_end("CVE-2021-").as_deref(), Some("CVE-2021."));
        assert_eq!(prefix_end("").as_deref(), None);
    }
}

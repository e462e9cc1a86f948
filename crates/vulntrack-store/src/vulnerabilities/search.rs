//! Full-text search, one condition per backend (see migration 12 for the
//! indexes): every word of the query must occur, as a word or the start of
//! one, in the title, description, CVE id or assets.
//!
//! Every indexed word carries its team's key in front (`t1a2b3c4d` +
//! `kerberos`), on both backends, so a prefix query (`kerb*`) only expands
//! over the team's own words: its cost does not grow with other teams'
//! data. The key is 32 bits of the team id; two teams that share one still
//! never see each other's rows, because every query also filters on
//! `team_id` — a shared key costs only index work.

use sea_orm::{
    ConnectionTrait, DbBackend, Statement,
    sea_query::{Expr, ExprTrait, SimpleExpr},
};
use vulntrack_domain::{TeamId, vulnerability::record::VulnerabilityRecord};

use crate::{error::StoreResult, scope::TeamScope};

/// More words than this add little and cost index work.
const MAX_WORDS: usize = 16;

/// Runs of letters and digits, lower-cased. Anything else separates words,
/// so no query syntax of either engine can be injected through them.
fn all_words(text: &str) -> impl Iterator<Item = std::borrow::Cow<'_, str>> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|word| {
        // Most words of a report are lower-case ASCII already: no copy.
        if word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
            word.into()
        } else {
            word.to_lowercase().into()
        }
    })
}

/// The words of a query.
fn words(text: &str) -> Vec<String> {
    all_words(text).take(MAX_WORDS).map(std::borrow::Cow::into_owned).collect()
}

/// The key in front of each of the team's indexed words: `t` and the last
/// eight hex digits of its id (random in both UUID v4 and v7). PostgreSQL's
/// migration computes the same key in SQL.
fn team_key(team: TeamId) -> String {
    let hex = team.as_uuid().simple().to_string();
    format!("t{}", &hex[hex.len() - 8..])
}

/// What a record is indexed under, on both backends: each word of its
/// text with the team's key in front (SQLite's FTS table holds these
/// terms; PostgreSQL's `search_vector` holds them as lexemes).
pub(crate) fn indexed_terms(team: TeamId, record: &VulnerabilityRecord) -> String {
    let texts = [record.title.as_str(), record.description.as_str(), record.cve_id.as_deref().unwrap_or("")]
        .into_iter()
        .chain(record.assets.iter().map(String::as_str));
    terms_of(team, texts)
}

/// [`indexed_terms`] of the given texts (the migration that builds the
/// index reads them from stored rows).
pub(crate) fn terms_of<'a>(team: TeamId, texts: impl Iterator<Item = &'a str>) -> String {
    let key = team_key(team);
    let mut terms = String::new();
    for word in texts.flat_map(all_words) {
        if !terms.is_empty() {
            terms.push(' ');
        }
        terms.push_str(&key);
        terms.push_str(&word);
    }
    terms
}

/// `terms` (as [`terms_of`] gives them) in `tsvector`'s input form: each
/// one a quoted lexeme, taken as it is (no parsing or normalising, unlike
/// `to_tsvector`), so PostgreSQL indexes exactly the words SQLite does.
pub(crate) fn tsvector_text(terms: &str) -> String {
    let mut text = String::with_capacity(terms.len() + terms.len() / 4);
    for term in terms.split(' ').filter(|t| !t.is_empty()) {
        if !text.is_empty() {
            text.push(' ');
        }
        push_quoted(&mut text, term);
    }
    text
}

/// What a session lets wait in the search index's pending list before
/// merging it: every search reads the list whole, and with PostgreSQL's
/// default of 4 MB a search paid ~2 ms for it after an import.
pub(crate) const SESSION_PENDING_LIST: &str = "SET gin_pending_list_limit = '256kB'";
/// [`SESSION_PENDING_LIST`] again, after a bulk write in the transaction.
const TRANSACTION_PENDING_LIST: &str = "SET LOCAL gin_pending_list_limit = '256kB'";

/// New rows of a write this large wait in the pending list and are merged
/// once, in bulk ([`defer_merges`]).
pub(crate) const BULK_ROWS: usize = 100;

/// Lets the transaction's new rows wait in the search index's pending list
/// rather than merging it every 256 kB: a 10 000-finding import spent
/// 1.9–2.4 s in those merges, against 0.4–0.5 s for one merge of the whole
/// list, which [`merge_pending`] runs once the import has returned
/// (docs/PERFORMANCE.md). PostgreSQL only; [`end_deferral`] ends it.
pub(crate) async fn defer_merges(db: &impl ConnectionTrait) -> StoreResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("SET LOCAL gin_pending_list_limit = '256MB'").await?;
    }
    Ok(())
}

/// Puts the session's limit back for the rest of the transaction.
pub(crate) async fn end_deferral(db: &impl ConnectionTrait) -> StoreResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(TRANSACTION_PENDING_LIST).await?;
    }
    Ok(())
}

/// Merges the search index's pending list into the index, in bulk. Until
/// it has run, the rows waiting there are found all the same, but every
/// search reads the list whole. The merge needs the index's owner (the role
/// that ran the migrations, normally the application's own); under another
/// role it is left to autovacuum. Nothing to do on SQLite.
pub async fn merge_pending(db: &impl ConnectionTrait) -> StoreResult<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_unprepared(
        "SELECT gin_clean_pending_list(c.oid) FROM pg_class c
         WHERE c.oid = to_regclass('ix_vulnerabilities_search') AND pg_has_role(c.relowner, 'USAGE')",
    )
    .await?;
    Ok(())
}

/// A lexeme quoted for `tsvector`/`tsquery` input. Terms are letters and
/// digits only; the escaping keeps that assumption out of the SQL's safety.
fn quoted_lexeme(term: &str) -> String {
    let mut text = String::with_capacity(term.len() + 2);
    push_quoted(&mut text, term);
    text
}

/// [`quoted_lexeme`] written at the end of `text` (an import quotes
/// millions of terms).
fn push_quoted(text: &mut String, term: &str) {
    text.push('\'');
    for c in term.chars() {
        match c {
            '\\' => text.push_str("\\\\"),
            '\'' => text.push_str("''"),
            c => text.push(c),
        }
    }
    text.push('\'');
}

/// The expression that stores `record`'s terms in PostgreSQL's
/// `search_vector` (an INSERT's value or an UPDATE's).
pub(crate) fn postgres_vector(team: TeamId, record: &VulnerabilityRecord) -> SimpleExpr {
    Expr::val(tsvector_text(&indexed_terms(team, record))).cast_as(sea_orm::sea_query::Alias::new("tsvector"))
}

/// Whether an edit changes what is indexed.
pub(crate) fn indexed_text_differs(old: &VulnerabilityRecord, new: &VulnerabilityRecord) -> bool {
    old.title != new.title || old.description != new.description || old.cve_id != new.cve_id || old.assets != new.assets
}

/// The first free row id of SQLite's FTS table (writes are serialised
/// through one connection, so the ids a transaction takes stay free).
pub(crate) async fn next_fts_rowid(db: &impl ConnectionTrait) -> StoreResult<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT coalesce(max(fts_rowid), 0) + 1 FROM vulnerabilities",
        ))
        .await?;
    Ok(row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(1))
}

/// Rows per FTS INSERT: two parameters each, well under SQLite's limit.
const FTS_BATCH: usize = 500;

/// Indexes records in SQLite's FTS table under the given row ids.
pub(crate) async fn index_sqlite(db: &impl ConnectionTrait, rows: Vec<(i64, String)>) -> StoreResult<()> {
    for statement in sqlite_index_statements(rows) {
        db.execute_raw(statement).await?;
    }
    Ok(())
}

/// The statements of [`index_sqlite`].
pub(crate) fn sqlite_index_statements(rows: Vec<(i64, String)>) -> Vec<Statement> {
    let mut statements = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<(i64, String)> = rows.by_ref().take(FTS_BATCH).collect();
        let placeholders = vec!["(?, ?)"; chunk.len()].join(", ");
        let values = chunk.into_iter().flat_map(|(rowid, terms)| [rowid.into(), terms.into()]);
        statements.push(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("INSERT INTO vulnerabilities_fts (rowid, terms) VALUES {placeholders}"),
            values.collect::<Vec<sea_orm::Value>>(),
        ));
    }
    statements
}

/// Replaces a record's indexed terms in SQLite's FTS table.
pub(crate) async fn reindex_sqlite(db: &impl ConnectionTrait, id: uuid::Uuid, terms: String) -> StoreResult<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "UPDATE vulnerabilities_fts SET terms = ? WHERE rowid = (SELECT fts_rowid FROM vulnerabilities WHERE id = ?)",
        [terms.into(), id.into()],
    ))
    .await?;
    Ok(())
}

/// The condition for `text`, or `None` when it holds no words. (sea-query
/// numbers custom placeholders `$1` on PostgreSQL and `?` on SQLite.)
pub(super) fn condition(backend: DbBackend, scope: TeamScope, text: &str) -> Option<SimpleExpr> {
    let words = words(text);
    if words.is_empty() {
        return None;
    }
    let key = team_key(scope.team_id());
    Some(match backend {
        DbBackend::Postgres => {
            // `tsquery`'s input form, like the stored lexemes: not
            // normalised, so a query word matches the terms as indexed.
            let query = words
                .iter()
                .map(|w| format!("{}:*", quoted_lexeme(&format!("{key}{w}"))))
                .collect::<Vec<_>>()
                .join(" & ");
            Expr::cust_with_values("search_vector @@ CAST($1 AS tsquery)", [query])
        }
        _ => {
            let query = words.iter().map(|w| format!("\"{key}{w}\"*")).collect::<Vec<_>>().join(" AND ");
            // The unary `+` keeps SQLite from driving the query through the
            // `fts_rowid` index (fetch every match, then sort them all):
            // walking the team's rows in the page's order and stopping at a
            // full page was 0.8 ms against 2.4 ms for a word in 44 % of a
            // team's 1 000 rows, and 1.0 against 0.6 ms for a rare one.
            Expr::cust_with_values(
                "+fts_rowid IN (SELECT rowid FROM vulnerabilities_fts WHERE vulnerabilities_fts MATCH ?)",
                [query],
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_become_quoted_lexemes() {
        assert_eq!(tsvector_text("tabc1 tabcd2 "), "'tabc1' 'tabcd2'");
        assert_eq!(quoted_lexeme("it's\\"), "'it''s\\\\'");
    }

    #[test]
    fn query_syntax_is_stripped_to_words() {
        assert_eq!(words("SQL\" OR 1=1 -- injection*"), vec!["sql", "or", "1", "1", "injection"]);
        assert_eq!(words("CVE-2024-1234"), vec!["cve", "2024", "1234"]);
        assert!(words(" '\"&|!:*() ").is_empty());
    }
}

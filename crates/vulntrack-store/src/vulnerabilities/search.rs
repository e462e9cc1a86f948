//! Full-text search conditions, one per backend (see migration 3 for the
//! indexes): every word of the query must occur, as a word or the start of
//! one, in the title, description, CVE id or assets.

use sea_orm::{
    DbBackend,
    sea_query::{Expr, SimpleExpr},
};

use crate::scope::TeamScope;

/// More words than this add little and cost index work.
const MAX_WORDS: usize = 16;

/// The words of a query, lower-cased: runs of letters and digits. Anything
/// else separates words, so no query syntax of either engine can be
/// injected through them.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(MAX_WORDS)
        .collect()
}

/// The FTS5 columns a user's words may match: all but `team`.
const TEXT_COLUMNS: &str = "{title description cve_id assets}";

/// The token indexed with each row that names its team.
fn team_token(scope: TeamScope) -> String {
    format!("t{}", scope.team_id().as_uuid().simple())
}

/// The condition for `text`, or `None` when it holds no words. (sea-query
/// numbers custom placeholders `$1` on PostgreSQL and `?` on SQLite.)
///
/// The user's words are confined to the text (weight `D` on PostgreSQL, the
/// text columns on SQLite): otherwise a word such as `t0` would prefix-match
/// the team token that every row of the team carries.
pub(super) fn condition(backend: DbBackend, scope: TeamScope, text: &str) -> Option<SimpleExpr> {
    let words = words(text);
    if words.is_empty() {
        return None;
    }
    let team = team_token(scope);
    Some(match backend {
        DbBackend::Postgres => {
            let query = std::iter::once(format!("{team}:A"))
                .chain(words.iter().map(|w| format!("{w}:*D")))
                .collect::<Vec<_>>()
                .join(" & ");
            Expr::cust_with_values("search_vector @@ to_tsquery('simple', $1)", [query])
        }
        _ => {
            let query = std::iter::once(format!("team : {team}"))
                .chain(words.iter().map(|w| format!("{TEXT_COLUMNS} : \"{w}\"*")))
                .collect::<Vec<_>>()
                .join(" AND ");
            Expr::cust_with_values(
                "fts_rowid IN (SELECT rowid FROM vulnerabilities_fts WHERE vulnerabilities_fts MATCH ?)",
                [query],
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_syntax_is_stripped_to_words() {
        assert_eq!(words("SQL\" OR 1=1 -- injection*"), vec!["sql", "or", "1", "1", "injection"]);
        assert_eq!(words("CVE-2024-1234"), vec!["cve", "2024", "1234"]);
        assert!(words(" '\"&|!:*() ").is_empty());
    }
}

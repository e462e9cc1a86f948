//! The CVE catalogue: reference data any signed-in user may read (it holds
//! nothing of any team).

use axum::{
    Json,
    extract::{Path, State},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use vulntrack_domain::{FieldError, ValidationErrors, vulnerability::cvss_score};
use vulntrack_scanners::cve_feeds;
use vulntrack_store::cves::{self, Cve, CveCvss};

use crate::{
    app::AppState,
    auth::Principal,
    http::{ApiError, ApiQuery, params},
};

const LIMIT_DEFAULT: u64 = 20;
const LIMIT_MAX: u64 = 100;
/// Words of a search beyond these are ignored.
const MAX_WORDS: usize = 8;
const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CveView {
    /// `CVE-YYYY-NNNN`.
    pub id: String,
    /// The NVD's status (`Analyzed`, `Modified`, `Rejected`…); null until an NVD record was loaded.
    pub status: Option<String>,
    pub description: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub modified_at: Option<DateTime<Utc>>,
    pub cvss_v3: Option<CvssView>,
    pub cvss_v4: Option<CvssView>,
    pub cwe_ids: Vec<u32>,
    pub references: Vec<String>,
    /// Present when the CVE is on CISA's Known Exploited Vulnerabilities list.
    pub kev: Option<KevView>,
    pub epss: Option<EpssView>,
    /// When the catalogue's row last changed.
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CvssView {
    pub vector: String,
    /// Computed by VulnTrack from the vector (null if the vector cannot be scored).
    pub score: Option<f64>,
    /// The specification's rating of `score`.
    pub rating: Option<&'static str>,
    /// The base score the NVD published.
    pub nvd_score: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KevView {
    pub date_added: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub required_action: Option<String>,
    pub known_ransomware: bool,
    pub name: Option<String>,
    pub vendor_project: Option<String>,
    pub product: Option<String>,
    pub short_description: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EpssView {
    /// The probability of exploitation activity in the next 30 days, 0–1.
    pub score: f64,
    pub percentile: f64,
    pub date: Option<NaiveDate>,
}

impl From<Cve> for CveView {
    fn from(cve: Cve) -> Self {
        let nvd = cve.nvd.unwrap_or_default();
        let cvss = |c: CveCvss| CvssView {
            rating: c.score.map(cvss_score::rating),
            vector: c.vector,
            score: c.score,
            nvd_score: c.nvd_score,
        };
        CveView {
            id: cve.id,
            status: nvd.status,
            description: nvd.description,
            published_at: nvd.published_at,
            modified_at: nvd.modified_at,
            cvss_v3: nvd.cvss_v3.map(cvss),
            cvss_v4: nvd.cvss_v4.map(cvss),
            cwe_ids: nvd.cwe_ids,
            references: nvd.references,
            kev: cve.kev.map(|k| KevView {
                date_added: k.date_added,
                due_date: k.due_date,
                required_action: k.required_action,
                known_ransomware: k.known_ransomware,
                name: k.name,
                vendor_project: k.vendor_project,
                product: k.product,
                short_description: k.short_description,
            }),
            epss: cve.epss.map(|e| EpssView { score: e.score, percentile: e.percentile, date: e.date }),
            updated_at: cve.updated_at,
        }
    }
}

#[utoipa::path(
    get, path = "/cves/{id}", tag = "cves",
    params(("id" = String, Path, description = "The CVE id, e.g. CVE-2021-44228 (any letter case)")),
    responses(
        (status = 200, description = "The catalogue's record", body = CveView),
        (status = 404, description = "Not in the catalogue (or not a CVE id)",
         body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    _principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<CveView>, ApiError> {
    let id = cve_feeds::cve_id(&id).map_err(|_| ApiError::from(vulntrack_store::StoreError::NotFound))?;
    Ok(Json(cves::get(state.db().conn(), &id).await?.into()))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct CveSearchParams {
    /// An id or the start of one (`CVE-2021-44`, `2021-44`), or words of the description.
    q: Option<String>,
    /// At most this many (1–100, default 20).
    limit: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CveList {
    items: Vec<CveView>,
}

/// What a search asks for: ids starting with a prefix, or words.
#[derive(Debug, PartialEq, Eq)]
enum Search {
    IdPrefix(String),
    Words(Vec<String>),
}

fn search_of(q: &str) -> Option<Search> {
    let q = q.trim();
    let upper = q.to_ascii_uppercase();
    let id_like = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    if let Some(rest) = upper.strip_prefix("CVE") {
        let rest = rest.strip_prefix('-').unwrap_or(rest);
        if rest.is_empty() || id_like(rest) {
            return Some(Search::IdPrefix(if rest.is_empty() { "CVE-".into() } else { format!("CVE-{rest}") }));
        }
    }
    // `2021-44228`: a year and a number.
    if upper.len() >= 5
        && upper.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && upper.as_bytes()[4] == b'-'
        && id_like(&upper)
    {
        return Some(Search::IdPrefix(format!("CVE-{upper}")));
    }
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS)
        .map(|w| w.chars().take(64).collect())
        .collect();
    (!words.is_empty()).then_some(Search::Words(words))
}

#[utoipa::path(
    get, path = "/cves", tag = "cves",
    params(CveSearchParams),
    responses(
        (status = 200, description = "Matching CVEs: by id prefix in id order, by words newest first", body = CveList),
        (status = 422, description = "No query, or a bad limit",
         body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(params): ApiQuery<CveSearchParams>,
) -> Result<Json<CveList>, ApiError> {
    let mut errors = ValidationErrors::default();
    let limit = params::limit(params.limit.as_deref(), LIMIT_DEFAULT, LIMIT_MAX, &mut errors);
    let q = params.q.unwrap_or_default();
    let search = if q.chars().count() > MAX_QUERY_CHARS {
        errors.push(FieldError::new("q", "too_long", format!("must be at most {MAX_QUERY_CHARS} characters")));
        None
    } else {
        let search = search_of(&q);
        if search.is_none() {
            errors.push(FieldError::new("q", "required", "give a CVE id (or its start) or words to search for"));
        }
        search
    };
    let Some(search) = search.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let db = state.db().conn();
    let found = match search {
        Search::IdPrefix(prefix) => cves::with_id_prefix(db, &prefix, limit).await?,
        Search::Words(words) => cves::with_words(db, &words, limit).await?,
    };
    Ok(Json(CveList { items: found.into_iter().map(CveView::from).collect() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_an_id_prefix_or_words() {
        let prefix = |p: &str| Some(Search::IdPrefix(p.to_owned()));
        assert_eq!(search_of("cve-2021-44"), prefix("CVE-2021-44"));
        assert_eq!(search_of("CVE"), prefix("CVE-"));
        assert_eq!(search_of(" 2021-44228 "), prefix("CVE-2021-44228"));
        assert_eq!(search_of("log4j jndi"), Some(Search::Words(vec!["log4j".into(), "jndi".into()])));
        assert_eq!(search_of("cvelib"), Some(Search::Words(vec!["cvelib".into()])));
        assert_eq!(search_of("  -- "), None);
    }
}

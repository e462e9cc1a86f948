//! The dashboard: the team's figures and charts, all computed from its
//! data; charts are server-side SVG with a title and a data table.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use vulntrack_domain::vulnerability::{Severity, VulnStatus};
use vulntrack_store::vulnerabilities::{self, Assignees, Direction, ListQuery, Sort, Vulnerability};

use super::{
    format::{filters, label},
    page::{Nav, PageError, WebUser},
};
use crate::app::AppState;

const TREND_DAYS: u32 = 90;

pub struct Trend {
    width: usize,
    height: usize,
    points: String,
    area_points: String,
    max: u64,
    first_label: String,
    first_value: u64,
    last_label: String,
    last_value: u64,
    rows: Vec<(String, u64)>,
}

fn trend_of(series: &[(chrono::NaiveDate, u64)]) -> Trend {
    let (width, height) = (series.len().max(2) * 4, 100usize);
    let max = series.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let scale = |n: u64| {
        #[allow(clippy::cast_precision_loss)]
        let y = if max == 0 { 0.0 } else { n as f64 / max as f64 * 95.0 };
        format!("{:.1}", height as f64 - y)
    };
    let coords: Vec<String> = series.iter().enumerate().map(|(i, (_, n))| format!("{},{}", i * 4, scale(*n))).collect();
    let last_x = series.len().saturating_sub(1) * 4;
    let label = |d: &chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    Trend {
        width,
        height,
        area_points: format!("0,{height} {} {last_x},{height}", coords.join(" ")),
        points: coords.join(" "),
        max,
        first_label: series.first().map(|(d, _)| label(d)).unwrap_or_default(),
        first_value: series.first().map_or(0, |(_, n)| *n),
        last_label: series.last().map(|(d, _)| label(d)).unwrap_or_default(),
        last_value: series.last().map_or(0, |(_, n)| *n),
        rows: series.iter().rev().map(|(d, n)| (label(d), *n)).collect(),
    }
}

pub struct Bar {
    severity: Severity,
    count: u64,
    width: u64,
}

pub struct MatrixRow {
    severity: Severity,
    cells: Vec<(&'static str, u64)>,
}

pub struct Item {
    key: String,
    title: String,
    severity: Severity,
    note: String,
}

pub struct ItemList {
    title: &'static str,
    empty: &'static str,
    items: Vec<Item>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    nav: Option<Nav>,
    total: u64,
    open: u64,
    resolved: u64,
    trend: Trend,
    distribution: Vec<Bar>,
    statuses: &'static [VulnStatus],
    matrix: Vec<MatrixRow>,
    mttr: Vec<(Severity, String)>,
    lists: Vec<ItemList>,
}

fn duration_text(seconds: f64) -> String {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let seconds = seconds.max(0.0) as u64;
    match seconds {
        s if s >= 86_400 => format!("{:.1} days", s as f64 / 86_400.0),
        s if s >= 3_600 => format!("{:.1} hours", s as f64 / 3_600.0),
        s if s >= 60 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

fn items(found: Vec<Vulnerability>, note: impl Fn(&Vulnerability) -> String) -> Vec<Item> {
    found
        .into_iter()
        .map(|v| Item { note: note(&v), key: v.key(), severity: v.record.severity, title: v.record.title })
        .collect()
}

pub async fn dashboard(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    Ok(build(&state, &user).await?.into_response())
}

async fn build(state: &AppState, user: &WebUser) -> Result<DashboardPage, PageError> {
    let db = state.db().conn();
    let scope = user.principal.scope();
    let stats = vulnerabilities::stats(db, scope).await?;
    let trend = vulnerabilities::open_trend(db, scope, Utc::now().date_naive(), TREND_DAYS).await?;
    let open_statuses = vec![VulnStatus::Open, VulnStatus::InProgress];
    let list = |query: ListQuery| async move { vulnerabilities::list(db, scope, &query).await.map(|page| page.items) };
    let oldest = list(ListQuery {
        severities: vec![Severity::Critical, Severity::High],
        statuses: open_statuses.clone(),
        sort: Sort::Created(Direction::Asc),
        limit: 5,
        ..ListQuery::default()
    })
    .await?;
    let recent = list(ListQuery { sort: Sort::Updated(Direction::Desc), limit: 5, ..ListQuery::default() }).await?;
    let mine = list(ListQuery {
        assignees: Assignees::one(user.principal.user.id),
        statuses: open_statuses,
        sort: Sort::Severity(Direction::Desc),
        limit: 5,
        ..ListQuery::default()
    })
    .await?;
    let top = vulnerabilities::top_risks(db, scope, 5).await?;

    let count = |severity: Severity, status: VulnStatus| {
        stats
            .by_severity_and_status
            .iter()
            .find(|c| c.severity == severity && c.status == status)
            .map_or(0, |c| c.count)
    };
    let open_of = |severity: Severity| count(severity, VulnStatus::Open) + count(severity, VulnStatus::InProgress);
    let widest = Severity::ALL.iter().map(|s| open_of(*s)).max().unwrap_or(0).max(1);
    let now = Utc::now();
    Ok(DashboardPage {
        nav: Some(user.nav.clone()),
        total: stats.total,
        open: stats.open,
        resolved: stats.total - stats.open,
        trend: trend_of(&trend),
        distribution: Severity::ALL
            .iter()
            .map(|s| Bar { severity: *s, count: open_of(*s), width: open_of(*s) * 200 / widest })
            .collect(),
        statuses: VulnStatus::ALL,
        matrix: Severity::ALL
            .iter()
            .map(|s| MatrixRow {
                severity: *s,
                cells: VulnStatus::ALL.iter().map(|st| (st.as_str(), count(*s, *st))).collect(),
            })
            .collect(),
        mttr: stats
            .mean_time_to_resolve_seconds
            .iter()
            .map(|(s, mean)| (*s, mean.map_or_else(|| "nothing resolved yet".into(), duration_text)))
            .collect(),
        lists: vec![
            ItemList {
                title: "Oldest open critical and high",
                empty: "No open critical or high vulnerabilities.",
                items: items(oldest, |v| format!("open {} days", (now - v.created_at).num_days())),
            },
            ItemList {
                title: "Top risks",
                empty: "Nothing open.",
                items: items(top, |v| {
                    let cvss = v.record.cvss_score.map_or_else(|| "no CVSS".into(), |s| format!("CVSS {s:.1}"));
                    v.record.dread_score().map_or(cvss.clone(), |d| format!("{cvss}, DREAD {d:.1}"))
                }),
            },
            ItemList {
                title: "Recently changed",
                empty: "Nothing yet.",
                items: items(recent, |v| v.updated_at.format("%Y-%m-%d %H:%M").to_string()),
            },
            ItemList {
                title: "Assigned to me",
                empty: "Nothing assigned to you is open.",
                items: items(mine, |v| label(v.record.status.as_str())),
            },
        ],
    })
}

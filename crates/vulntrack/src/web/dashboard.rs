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

/// The trend chart, laid out: a plot area with gridlines and axis labels,
/// the open backlog as a line, resolutions per day as bars, and one
/// invisible column per day whose `<title>` is the hover value.
pub struct Trend {
    width: u32,
    height: u32,
    left: u32,
    right: u32,
    top: u32,
    bottom: u32,
    y_ticks: Vec<(String, u64)>,
    x_ticks: Vec<(String, String)>,
    points: String,
    area_points: String,
    bars: Vec<Rect>,
    columns: Vec<Column>,
    description: String,
    rows: Vec<(String, u64, u64)>,
}

pub struct Rect {
    x: String,
    y: String,
    width: String,
    height: String,
}

pub struct Column {
    x: String,
    width: String,
    title: String,
}

/// The smallest step of 1, 2 or 5 × 10ⁿ that covers `max` in four ticks.
fn tick_step(max: u64) -> u64 {
    let mut magnitude = 1;
    loop {
        for factor in [1, 2, 5] {
            if factor * magnitude * 4 >= max {
                return factor * magnitude;
            }
        }
        magnitude *= 10;
    }
}

#[allow(clippy::cast_precision_loss)]
fn trend_of(series: &[vulnerabilities::TrendDay]) -> Trend {
    let (width, height, left, right, top, bottom) = (640u32, 220u32, 36u32, 630u32, 10u32, 190u32);
    let highest = series.iter().map(|d| d.open.max(d.resolved)).max().unwrap_or(0).max(1);
    let step = tick_step(highest);
    let ceiling = highest.div_ceil(step) * step;
    let y = |n: u64| f64::from(bottom) - n as f64 / ceiling as f64 * f64::from(bottom - top);
    let slot = f64::from(right - left) / series.len().max(1) as f64;
    let x = |i: usize| f64::from(left) + slot * (i as f64 + 0.5);
    let label = |d: &chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let coords: Vec<String> = series.iter().enumerate().map(|(i, d)| format!("{:.1},{:.1}", x(i), y(d.open))).collect();
    let last_x = x(series.len().saturating_sub(1));
    let (first, last) = (series.first(), series.last());
    Trend {
        width,
        height,
        left,
        right,
        top,
        bottom,
        y_ticks: (0..=ceiling / step).map(|k| (format!("{:.1}", y(k * step)), k * step)).collect(),
        x_ticks: series
            .iter()
            .enumerate()
            .filter(|(i, _)| (series.len() - 1 - i).is_multiple_of(15))
            .map(|(i, d)| (format!("{:.1}", x(i)), d.day.format("%b %-d").to_string()))
            .collect(),
        area_points: format!("{:.1},{bottom} {} {last_x:.1},{bottom}", x(0), coords.join(" ")),
        points: coords.join(" "),
        bars: series
            .iter()
            .enumerate()
            .filter(|(_, d)| d.resolved > 0)
            .map(|(i, d)| Rect {
                x: format!("{:.1}", x(i) - slot * 0.35),
                y: format!("{:.1}", y(d.resolved)),
                width: format!("{:.1}", slot * 0.7),
                height: format!("{:.1}", f64::from(bottom) - y(d.resolved)),
            })
            .collect(),
        columns: series
            .iter()
            .enumerate()
            .map(|(i, d)| Column {
                x: format!("{:.1}", x(i) - slot / 2.0),
                width: format!("{slot:.1}"),
                title: format!("{}: {} open, {} resolved", label(&d.day), d.open, d.resolved),
            })
            .collect(),
        description: match (first, last) {
            (Some(first), Some(last)) => format!(
                "Open from {} ({}) to {} ({}), highest {}; {} resolved in the period.",
                label(&first.day),
                first.open,
                label(&last.day),
                last.open,
                series.iter().map(|d| d.open).max().unwrap_or(0),
                series.iter().map(|d| d.resolved).sum::<u64>()
            ),
            _ => "No data.".into(),
        },
        rows: series.iter().rev().map(|d| (label(&d.day), d.open, d.resolved)).collect(),
    }
}

pub struct Bar {
    severity: Severity,
    count: u64,
    width: u64,
}

pub struct MatrixRow {
    severity: Severity,
    /// Status, count, and the list of exactly those records.
    cells: Vec<(&'static str, u64, String)>,
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
    overdue: u64,
    due_this_week: u64,
    known_exploited_open: u64,
    /// The week's end, for the "due this week" link.
    week_end: String,
    /// Per severity: resolved in time of those due, as words.
    compliance: Vec<(Severity, String)>,
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
        statuses: open_statuses.clone(),
        sort: Sort::Severity(Direction::Desc),
        limit: 5,
        ..ListQuery::default()
    })
    .await?;
    let top = list(ListQuery {
        statuses: open_statuses.clone(),
        sort: Sort::Priority(Direction::Desc),
        limit: 5,
        ..ListQuery::default()
    })
    .await?;

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
                cells: VulnStatus::ALL
                    .iter()
                    .map(|st| {
                        let href = format!("/vulnerabilities?severity={}&status={}", s.as_str(), st.as_str());
                        (st.as_str(), count(*s, *st), href)
                    })
                    .collect(),
            })
            .collect(),
        mttr: stats
            .mean_time_to_resolve_seconds
            .iter()
            .map(|(s, mean)| (*s, mean.map_or_else(|| "nothing resolved yet".into(), duration_text)))
            .collect(),
        overdue: stats.overdue,
        due_this_week: stats.due_this_week,
        known_exploited_open: stats.known_exploited_open,
        week_end: (now + chrono::Duration::days(7)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        compliance: stats
            .sla_compliance
            .iter()
            .map(|c| {
                let text = match (c.in_time * 100).checked_div(c.resolved) {
                    Some(percent) => format!("{percent} % ({} of {})", c.in_time, c.resolved),
                    None => "nothing due was resolved".to_owned(),
                };
                (c.severity, text)
            })
            .collect(),
        lists: vec![
            ItemList {
                title: "Oldest open critical and high",
                empty: "No open critical or high vulnerabilities.",
                items: items(oldest, |v| format!("open {} days", (now - v.created_at).num_days())),
            },
            ItemList {
                title: "Top by priority",
                empty: "Nothing open.",
                items: items(top, |v| {
                    let mut note = format!("priority {}", v.intel.priority);
                    if v.intel.known_exploited {
                        note.push_str(", known exploited");
                    }
                    if let Some(epss) = v.intel.epss {
                        note.push_str(&format!(", EPSS {:.1} %", epss * 100.0));
                    }
                    note
                }),
            },
            ItemList {
                title: "Recently changed",
                empty: "Nothing yet.",
                items: items(recent, |v| super::format::when(v.updated_at, user.nav.zone).0),
            },
            ItemList {
                title: "Assigned to me",
                empty: "Nothing assigned to you is open.",
                items: items(mine, |v| label(v.record.status.as_str())),
            },
        ],
    })
}

//! The audit log viewer and export (ADMIN, own team only).

use crate::http::ApiQuery;
use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;
use vulntrack_domain::AuditAction;
use vulntrack_domain::{Action, TeamId, ValidationErrors, validation::FieldError};
use vulntrack_store::{
    TeamScope,
    audit::{self, AuditEvent, AuditQuery, AuditRecord},
};

use crate::http::params;
use crate::{
    app::AppState,
    auth::Principal,
    http::{ApiError, ClientContext},
};

const LIMIT_DEFAULT: u64 = 50;
const LIMIT_MAX: u64 = 200;
/// Rows fetched per query while streaming an export.
const EXPORT_BATCH: u64 = 500;
const CURSOR_CONTEXT: &str = "audit";

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    action: Vec<String>,
    actor_id: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    format: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActorView {
    kind: String,
    id: Option<Uuid>,
    email: Option<String>,
    token_id: Option<Uuid>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditView {
    id: Uuid,
    seq: i64,
    created_at: DateTime<Utc>,
    team_id: Option<TeamId>,
    actor: ActorView,
    action: String,
    entity_type: Option<String>,
    entity_id: Option<String>,
    details: Value,
    ip: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
    prev_hash: String,
    hash: String,
}

impl From<AuditRecord> for AuditView {
    fn from(r: AuditRecord) -> Self {
        Self {
            id: r.id,
            seq: r.seq,
            created_at: r.created_at,
            team_id: r.team_id,
            actor: ActorView { kind: r.actor_kind, id: r.actor_id, email: r.actor_email, token_id: r.actor_token_id },
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            details: r.details,
            ip: r.ip,
            user_agent: r.user_agent,
            request_id: r.request_id,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

fn query_of(state: &AppState, principal: &Principal, params: &AuditParams) -> Result<AuditQuery, ApiError> {
    let mut errors = ValidationErrors::default();
    // Only actions the log records: a misspelt filter is an error, not an
    // empty page.
    let mut actions = Vec::new();
    for action in params.action.iter().flat_map(|a| a.split(',')).map(|a| a.trim().to_uppercase()) {
        if action.is_empty() {
            continue;
        }
        match action.parse::<AuditAction>() {
            Ok(known) => actions.push(known.as_str().to_string()),
            Err(e) => errors.push(vulntrack_domain::FieldError::new("action", "invalid", format!("{action:?}: {e}"))),
        }
    }
    let actor_id = match params.actor_id.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(text) => Uuid::parse_str(text).map_or_else(
            |_| {
                errors.push(FieldError::new("actor_id", "invalid", "must be a user id"));
                None
            },
            Some,
        ),
    };
    let limit = params::limit(params.limit.as_deref(), LIMIT_DEFAULT, LIMIT_MAX, &mut errors);
    let before_seq = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(cursor) => {
            let seq = state.cursors().decode::<i64>(principal.user.team_id, CURSOR_CONTEXT, cursor);
            if seq.is_none() {
                errors.push(FieldError::new("cursor", "invalid", "is not a cursor this list issued"));
            }
            seq
        }
    };
    let query = AuditQuery {
        actions,
        actor_id,
        entity_type: params.entity_type.clone().filter(|e| !e.trim().is_empty()),
        entity_id: params.entity_id.clone().filter(|e| !e.trim().is_empty()),
        since: params::time("since", params.since.as_deref(), &mut errors),
        until: params::time("until", params.until.as_deref(), &mut errors),
        before_seq,
        limit,
    };
    errors.into_result(query).map_err(ApiError::Validation)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    items: Vec<AuditView>,
    next_cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/audit-logs", tag = "audit",
    params(AuditParams),
    responses((status = 200, description = "One page of the team's audit log, newest first", body = AuditPage))
)]
pub async fn list(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    principal.require(&state, &context, Action::ViewAudit).await?;
    let mut query = query_of(&state, &principal, &params)?;
    let limit = query.limit;
    query.limit = limit + 1;
    let mut rows = audit::list(state.db().conn(), principal.scope(), &query).await?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = has_more
        .then(|| rows.last().map(|r| state.cursors().encode(principal.user.team_id, CURSOR_CONTEXT, &r.seq)))
        .flatten();
    Ok(Json(AuditPage { items: rows.into_iter().map(Into::into).collect(), next_cursor }))
}

use crate::spreadsheet::neutralise;

const CSV_COLUMNS: [&str; 14] = [
    "seq",
    "created_at",
    "actor_kind",
    "actor_id",
    "actor_email",
    "actor_token_id",
    "action",
    "entity_type",
    "entity_id",
    "details",
    "ip",
    "user_agent",
    "request_id",
    "hash",
];

fn csv_row(record: &AuditRecord) -> Vec<String> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let id = |v: &Option<Uuid>| v.map(|u| u.to_string()).unwrap_or_default();
    vec![
        record.seq.to_string(),
        record.created_at.to_rfc3339(),
        record.actor_kind.clone(),
        id(&record.actor_id),
        text(&record.actor_email),
        id(&record.actor_token_id),
        record.action.clone(),
        text(&record.entity_type),
        text(&record.entity_id),
        record.details.to_string(),
        text(&record.ip),
        text(&record.user_agent),
        text(&record.request_id),
        record.hash.clone(),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Jsonl,
}

fn encode(format: Format, rows: &[AuditRecord], header: bool) -> Result<Vec<u8>, std::io::Error> {
    match format {
        Format::Jsonl => {
            let mut out = Vec::new();
            for row in rows {
                serde_json::to_writer(&mut out, &AuditView::from(row.clone()))?;
                out.push(b'\n');
            }
            Ok(out)
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            if header {
                writer.write_record(CSV_COLUMNS)?;
            }
            for row in rows {
                writer.write_record(csv_row(row).iter().map(|cell| neutralise(cell)))?;
            }
            writer.into_inner().map_err(|e| e.into_error())
        }
    }
}

/// Streams the filtered log, newest first, a batch at a time; the export
/// itself is recorded as `DATA_EXPORTED` before the first byte is sent.
#[utoipa::path(
    get, path = "/audit-logs/export", tag = "audit",
    params(AuditParams),
    responses((status = 200, description = "The whole filtered log, streamed",
               content((String = "text/csv"), (String = "application/x-ndjson"))))
)]
pub async fn export(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    principal.require(&state, &context, Action::ViewAudit).await?;
    let format = match params.format.as_deref().unwrap_or("csv") {
        "csv" => Format::Csv,
        "jsonl" => Format::Jsonl,
        _ => return Err(ApiError::field("format", "invalid", "must be csv or jsonl")),
    };
    let mut query = query_of(&state, &principal, &params)?;
    query.limit = EXPORT_BATCH;
    let txn = state.db().begin().await?;
    let event = AuditEvent::new(principal.scope(), principal.actor(), AuditAction::DataExported, &context)
        .entity("audit_log", principal.user.team_id)
        .details(json!({
            "format": if format == Format::Csv { "csv" } else { "jsonl" },
            "filters": {
                "action": query.actions, "actor_id": query.actor_id, "entity_type": query.entity_type,
                "entity_id": query.entity_id, "since": query.since, "until": query.until,
            },
        }));
    audit::append(&txn, event).await?;
    txn.commit().await?;

    let scope: TeamScope = principal.scope();
    let db = state.db().clone();
    let stream = futures_util::stream::unfold(Some((query, true)), move |next| {
        let db = db.clone();
        async move {
            let (mut query, first) = next?;
            let rows = match audit::list(db.conn(), scope, &query).await {
                Ok(rows) => rows,
                Err(error) => {
                    tracing::error!(%error, "audit export stopped");
                    return Some((Err(std::io::Error::other("export failed")), None));
                }
            };
            if rows.is_empty() && !first {
                return None;
            }
            let done = (rows.len() as u64) < query.limit;
            query.before_seq = rows.last().map(|r| r.seq);
            let chunk = encode(format, &rows, first);
            Some((chunk, (!done).then_some((query, false))))
        }
    });
    let (content_type, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Jsonl => ("application/x-ndjson", "jsonl"),
    };
    let filename =
        format!("attachment; filename=\"vulntrack-audit-{}.{extension}\"", Utc::now().format("%Y%m%d-%H%M%S"));
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&filename) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

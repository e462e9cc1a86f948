//! Scanner report imports: upload a report onto an asset, and the history.

use axum::{
    Json,
    extract::{DefaultBodyLimit, Multipart, Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vulntrack_domain::{FieldError, UserId, ValidationErrors, vulnerability::Severity};
use vulntrack_store::imports::{self, Import, ImportQuery};

use crate::{
    app::AppState,
    auth::Principal,
    http::{ApiError, ApiQuery, ClientContext, params, upload},
    services::{
        self,
        imports::{ImportOptions, Importer, ReportFile},
    },
};

const LIMIT_DEFAULT: u64 = 50;
const LIMIT_MAX: u64 = 200;

/// One import: what was read, by whom, and what it did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportView {
    pub id: Uuid,
    /// The format read (`trivy`, `sarif`, …).
    pub format: String,
    /// The tool and version the report names.
    pub scanner: Option<String>,
    pub asset: AssetRef,
    /// Records created.
    pub created: u64,
    /// Records found again whose scanner fields or severity changed.
    pub updated: u64,
    /// Records found again as they were.
    pub unchanged: u64,
    /// Resolved records reported again, and so reopened.
    pub reopened: u64,
    /// Open records a complete report no longer lists, resolved.
    pub closed: u64,
    /// Distinct findings in the report (repeats merged), minus those skipped.
    pub total: u64,
    /// Findings below `minimum_severity`, left out.
    pub skipped: u64,
    pub duration_ms: u64,
    /// Items skipped or values dropped, and why.
    pub warnings: Vec<String>,
    pub file_name: String,
    pub file_size: u64,
    /// SHA-256 of the uploaded file, hex.
    pub sha256: String,
    pub close_missing: bool,
    pub minimum_severity: Option<Severity>,
    pub tags: Vec<String>,
    /// `USER`, `TOKEN` or `CLI`.
    pub actor_kind: String,
    pub actor_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

/// The asset an import was for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssetRef {
    pub id: Uuid,
    pub name: String,
}

impl ImportView {
    pub fn new(import: Import, asset_name: String) -> Self {
        let c = import.counts;
        Self {
            id: import.id,
            format: import.format,
            scanner: import.scanner,
            asset: AssetRef { id: import.asset_id, name: asset_name },
            created: c.created,
            updated: c.updated,
            unchanged: c.unchanged,
            reopened: c.reopened,
            closed: c.closed,
            total: c.total,
            skipped: c.skipped,
            duration_ms: import.duration_ms,
            warnings: import.warnings,
            file_name: import.file_name,
            file_size: import.file_size,
            sha256: import.sha256,
            close_missing: import.close_missing,
            minimum_severity: import.minimum_severity,
            tags: import.tags,
            actor_kind: import.actor_kind,
            actor_id: import.actor_id,
            created_at: import.created_at,
        }
    }
}

/// The upload form of `POST /imports`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)] // The document's shape: the handler reads the multipart form part by part.
pub struct ImportUpload {
    /// The report: JSON, XML or CSV as the scanner wrote it, or a `.gz`,
    /// or a `.zip` holding one report.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `auto` (default: detected from the content) or a format name.
    format: Option<String>,
    /// The asset's id, or its name (created if new).
    asset: String,
    /// Resolve this scanner's open findings on the asset that the report
    /// no longer lists (default true: the report is complete).
    close_missing: Option<bool>,
    /// Leave out findings below this severity.
    minimum_severity: Option<Severity>,
    /// Tags for the records created, comma-separated.
    tags: Option<String>,
}

#[utoipa::path(
    post, path = "/imports", tag = "imports",
    request_body(content = ImportUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The import, with what it did", body = ImportView),
        (status = 413, description = "The upload, or what it unpacks to, is over VULNTRACK_IMPORT_MAX_BYTES",
         body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad field, or a report that cannot be read (the error names the line)",
         body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    multipart: Multipart,
) -> Result<(StatusCode, Json<ImportView>), ApiError> {
    let importer = Importer::member(&state, &principal, &context).await?;
    let limit = u64::try_from(state.config().import_max_bytes).unwrap_or(u64::MAX);
    let mut form = upload::read(multipart, "file", limit).await?;
    let data = form.file_name.is_some().then(|| ReportFile::Bytes(std::mem::take(&mut form.data)));
    let options = ImportOptions {
        format: form.field("format"),
        asset: form.field("asset"),
        close_missing: form.field("close_missing"),
        minimum_severity: form.field("minimum_severity"),
        tags: form.field("tags"),
    };
    let file_name = form.file_name.clone().unwrap_or_default();
    let request = services::imports::request(&file_name, data, &options)?;
    let import = services::imports::import(state.db(), limit, &importer, &context, request).await?;
    let view = view_of(&state, &principal, import).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The upload route's own body limit: the handler holds the report to
/// `VULNTRACK_IMPORT_MAX_BYTES` while reading it.
pub fn upload_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::disable()
}

async fn view_of(state: &AppState, principal: &Principal, import: Import) -> Result<ImportView, ApiError> {
    let asset = vulntrack_store::assets::get(state.db().conn(), principal.scope(), import.asset_id).await?;
    Ok(ImportView::new(import, asset.name))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Only imports onto this asset (id or name).
    asset: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportList {
    items: Vec<ImportView>,
    next_cursor: Option<String>,
}

/// What a cursor of the import history continues after.
#[derive(Debug, Serialize, Deserialize)]
struct ImportPosition {
    at: DateTime<Utc>,
    id: Uuid,
}

const CURSOR_CONTEXT: &str = "imports";

#[utoipa::path(
    get, path = "/imports", tag = "imports",
    params(ImportParams),
    responses((status = 200, description = "The team's imports, newest first", body = ImportList))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ImportParams>,
) -> Result<Json<ImportList>, ApiError> {
    let mut errors = ValidationErrors::default();
    let team = principal.user.team_id;
    let limit = params::limit(params.limit.as_deref(), LIMIT_DEFAULT, LIMIT_MAX, &mut errors);
    let after = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(cursor) => {
            let position = state.cursors().decode::<ImportPosition>(team, CURSOR_CONTEXT, cursor);
            if position.is_none() {
                errors.push(FieldError::new("cursor", "invalid", "is not a cursor this list issued"));
            }
            position.map(|p| (p.at, p.id))
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let db = state.db().conn();
    let asset = match params.asset.as_deref().filter(|a| !a.is_empty()) {
        Some(reference) => Some(vulntrack_store::assets::find(db, principal.scope(), reference).await?.id),
        None => None,
    };
    let mut found = imports::list(db, principal.scope(), &ImportQuery { asset, after, limit: limit + 1 }).await?;
    let more = found.len() as u64 > limit;
    found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = found
        .last()
        .filter(|_| more)
        .map(|last| state.cursors().encode(team, CURSOR_CONTEXT, &ImportPosition { at: last.created_at, id: last.id }));
    let names = asset_names(&state, &principal, &found).await?;
    let items = found
        .into_iter()
        .map(|import| {
            let name = names.get(&import.asset_id).cloned().unwrap_or_default();
            ImportView::new(import, name)
        })
        .collect();
    Ok(Json(ImportList { items, next_cursor }))
}

async fn asset_names(
    state: &AppState,
    principal: &Principal,
    found: &[Import],
) -> Result<std::collections::HashMap<Uuid, String>, ApiError> {
    let ids: Vec<Uuid> = found.iter().map(|import| import.asset_id).collect();
    Ok(vulntrack_store::assets::names_of(state.db().conn(), principal.scope(), &ids).await?)
}

#[utoipa::path(
    get, path = "/imports/{id}", tag = "imports",
    params(("id" = Uuid, Path, description = "The import's id")),
    responses((status = 200, description = "The import", body = ImportView))
)]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<ImportView>, ApiError> {
    let import = imports::get(state.db().conn(), principal.scope(), id).await?;
    Ok(Json(view_of(&state, &principal, import).await?))
}

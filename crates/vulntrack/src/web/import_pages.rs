//! The imports pages: upload a scanner report onto an asset, the team's
//! import history, and one import with the records it created, reopened,
//! closed and changed.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Multipart, Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use uuid::Uuid;
use vulntrack_domain::{Action, vulnerability::Severity};
use vulntrack_scanners::Format;
use vulntrack_store::{
    TeamScope, assets,
    imports::{self, Import, ImportQuery, Outcome},
    users,
};

use super::{
    flash::{self, Flash},
    format::{self, filters},
    page::{Choice, Nav, PageError, WebUser, form_messages},
};
use crate::{
    app::AppState,
    http::{ClientContext, upload},
    services::{
        self, ServiceError,
        imports::{ImportOptions, Importer, ReportFile},
    },
};

/// Imports shown in the history.
const HISTORY: u64 = 50;
/// Records listed on an import's page.
const RECORDS: u64 = 500;

/// One import as a row of the history or the head of its page.
pub struct ImportRow {
    pub(super) id: Uuid,
    pub(super) format: String,
    pub(super) scanner: Option<String>,
    pub(super) asset_id: Uuid,
    pub(super) asset: String,
    pub(super) file_name: String,
    pub(super) file_size: u64,
    pub(super) sha256: String,
    pub(super) by: String,
    pub(super) counts: imports::ImportCounts,
    pub(super) duration_ms: u64,
    pub(super) warnings: Vec<String>,
    pub(super) close_missing: bool,
    pub(super) minimum_severity: Option<Severity>,
    pub(super) at: DateTime<Utc>,
}

async fn rows_of(state: &AppState, scope: TeamScope, found: Vec<Import>) -> Result<Vec<ImportRow>, PageError> {
    let db = state.db().conn();
    let members = users::list(db, scope).await?;
    let ids: Vec<Uuid> = found.iter().map(|import| import.asset_id).collect();
    let names = assets::names_of(db, scope, &ids).await?;
    let mut rows = Vec::with_capacity(found.len());
    for import in found {
        let by = match import.actor_id {
            Some(id) => {
                members.iter().find(|m| m.id == id).map_or_else(|| "Deleted user".to_owned(), |m| m.name.clone())
            }
            None => "Command line".to_owned(),
        };
        rows.push(ImportRow {
            asset: names.get(&import.asset_id).cloned().unwrap_or_default(),
            id: import.id,
            format: import.format,
            scanner: import.scanner,
            asset_id: import.asset_id,
            file_name: import.file_name,
            file_size: import.file_size,
            sha256: import.sha256,
            by,
            counts: import.counts,
            duration_ms: import.duration_ms,
            warnings: import.warnings,
            close_missing: import.close_missing,
            minimum_severity: import.minimum_severity,
            at: import.created_at,
        });
    }
    Ok(rows)
}

/// The upload form's fields as typed, so a refused upload comes back filled.
#[derive(Debug, Clone, Default)]
pub struct UploadForm {
    asset: String,
    format: String,
    close_missing: bool,
    minimum_severity: String,
    tags: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "imports/list.html")]
pub struct ImportsPage {
    nav: Option<Nav>,
    rows: Vec<ImportRow>,
    can_write: bool,
    form: UploadForm,
    formats: Vec<Choice>,
    severities: Vec<Choice>,
    asset_names: Vec<String>,
    max_megabytes: u64,
    errors: Vec<String>,
}

pub async fn list(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    let form = UploadForm { close_missing: true, ..UploadForm::default() };
    list_page(&state, &user, form, Vec::new(), StatusCode::OK).await
}

async fn list_page(
    state: &AppState,
    user: &WebUser,
    form: UploadForm,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let db = state.db().conn();
    let scope = user.principal.scope();
    let found = imports::list(db, scope, &ImportQuery { limit: HISTORY, ..ImportQuery::default() }).await?;
    let known = assets::list(db, scope, &assets::AssetQuery { limit: 200, ..assets::AssetQuery::default() }).await?;
    let formats = std::iter::once(Choice {
        value: "auto".into(),
        label: "Detect from the file".into(),
        selected: form.format.is_empty() || form.format == "auto",
    })
    .chain(Format::ALL.iter().map(|f| Choice {
        value: f.name().into(),
        label: f.label().into(),
        selected: form.format == f.name(),
    }))
    .collect();
    let severities = std::iter::once(Choice {
        value: String::new(),
        label: "Every severity".into(),
        selected: form.minimum_severity.is_empty(),
    })
    .chain(Severity::ALL.iter().rev().skip(1).map(|s| Choice {
        value: s.as_str().into(),
        label: format!("{} and above", format::label(s.as_str())),
        selected: form.minimum_severity == s.as_str(),
    }))
    .collect();
    let page = ImportsPage {
        nav: Some(user.nav.clone()),
        rows: rows_of(state, scope, found).await?,
        can_write: user.principal.may(Action::WriteVulnerabilities),
        formats,
        severities,
        asset_names: known.items.into_iter().map(|a| a.name).collect(),
        max_megabytes: u64::try_from(state.config().import_max_bytes).unwrap_or(u64::MAX) / (1024 * 1024),
        form,
        errors,
    };
    Ok((status, page).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let importer = Importer::member(&state, &user.principal, &context).await?;
    let limit = u64::try_from(state.config().import_max_bytes).unwrap_or(u64::MAX);
    let outcome = async {
        let mut form = upload::read(multipart, "file", limit).await?;
        let typed = UploadForm {
            asset: form.field("asset").unwrap_or_default().to_owned(),
            format: form.field("format").unwrap_or_default().to_owned(),
            // An unticked checkbox sends nothing: absent means "no".
            close_missing: form.field("close_missing").is_some(),
            minimum_severity: form.field("minimum_severity").unwrap_or_default().to_owned(),
            tags: form.field("tags").unwrap_or_default().to_owned(),
        };
        let data =
            form.file_name.clone().filter(|n| !n.is_empty()).map(|_| ReportFile::Bytes(std::mem::take(&mut form.data)));
        let options = ImportOptions {
            format: Some(&typed.format),
            asset: Some(&typed.asset),
            close_missing: Some(if typed.close_missing { "true" } else { "false" }),
            minimum_severity: Some(&typed.minimum_severity),
            tags: Some(&typed.tags),
        };
        let result = async {
            let request = services::imports::request(form.file_name.as_deref().unwrap_or(""), data, &options)?;
            services::imports::import(state.db(), limit, &importer, &context, request).await
        }
        .await;
        Ok::<_, ServiceError>((typed, result))
    }
    .await;
    let (typed, result) = match outcome {
        Ok(both) => both,
        Err(error) => (UploadForm { close_missing: true, ..UploadForm::default() }, Err(error)),
    };
    match result {
        Ok(import) => Ok(flash::redirect(&format!("/imports/{}", import.id), Flash::Imported)),
        Err(ServiceError::TooLarge { limit }) => {
            let message = format!(
                "The file, or the report it unpacks to, is larger than the limit of {} MB.",
                limit / (1024 * 1024)
            );
            list_page(&state, &user, typed, vec![message], StatusCode::PAYLOAD_TOO_LARGE).await
        }
        Err(ServiceError::NotFound) => {
            let message = "No asset of your team has this id; give an asset's name or id.".to_owned();
            list_page(&state, &user, typed, vec![message], StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(error) => {
            let messages = form_messages(error)?;
            list_page(&state, &user, typed, messages, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// One record an import touched.
pub struct Touched {
    key: String,
    title: String,
    severity: Severity,
    status: vulntrack_domain::vulnerability::VulnStatus,
}

/// The records of one outcome.
pub struct Group {
    heading: &'static str,
    records: Vec<Touched>,
}

#[derive(Template, WebTemplate)]
#[template(path = "imports/detail.html")]
pub struct ImportPage {
    nav: Option<Nav>,
    import: ImportRow,
    groups: Vec<Group>,
    more: bool,
}

pub async fn detail(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = Uuid::parse_str(&id).map_err(|_| PageError::from(ServiceError::NotFound))?;
    let db = state.db().conn();
    let scope = user.principal.scope();
    let import = imports::get(db, scope, id).await?;
    let touched = imports::outcomes(db, scope, id, RECORDS + 1).await?;
    let more = touched.len() as u64 > RECORDS;
    let groups = [
        (Outcome::Created, "Created"),
        (Outcome::Reopened, "Reopened"),
        (Outcome::Closed, "Closed (no longer reported)"),
        (Outcome::Updated, "Updated"),
    ]
    .into_iter()
    .map(|(outcome, heading)| Group {
        heading,
        records: touched
            .iter()
            .take(usize::try_from(RECORDS).unwrap_or(usize::MAX))
            .filter(|(o, _)| *o == outcome)
            .map(|(_, v)| Touched {
                key: v.key(),
                title: v.record.title.clone(),
                severity: v.record.severity,
                status: v.record.status,
            })
            .collect(),
    })
    .filter(|group| !group.records.is_empty())
    .collect();
    let import = rows_of(&state, scope, vec![import]).await?.remove(0);
    Ok(ImportPage { nav: Some(user.nav.clone()), import, groups, more }.into_response())
}

/// The imports onto one asset, for its page.
pub async fn of_asset(state: &AppState, scope: TeamScope, asset: Uuid) -> Result<Vec<ImportRow>, PageError> {
    let found =
        imports::list(state.db().conn(), scope, &ImportQuery { asset: Some(asset), limit: 10, after: None }).await?;
    rows_of(state, scope, found).await
}

impl ImportRow {
    fn size(&self) -> String {
        match self.file_size {
            n if n >= 1024 * 1024 => format!("{:.1} MB", n as f64 / (1024.0 * 1024.0)),
            n if n >= 1024 => format!("{:.1} KB", n as f64 / 1024.0),
            n => format!("{n} bytes"),
        }
    }
}

//! The assets pages: the team's assets with their open findings, and one
//! asset with its findings, fields and changes.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use uuid::Uuid;
use vulntrack_domain::{
    Action,
    asset::{AssetKind, Criticality, Environment},
    vulnerability::Severity,
};
use vulntrack_store::{
    assets::{self, Asset, AssetPosition, AssetQuery, CURSOR_CONTEXT},
    users,
    vulnerabilities::{self, Assignees, Direction, ListQuery, Sort},
};

use super::{
    flash::{self, Flash},
    format::{self, filters},
    page::{Choice, Nav, PageError, WebUser, form_messages},
};
use crate::{
    app::AppState,
    http::{ClientContext, versioning::IfMatch},
    services::{self, ServiceError},
};

const PAGE: u64 = 50;

/// An asset as a row or a header: its fields in words and its open
/// findings by severity, each linking to them.
pub struct AssetRow {
    id: Uuid,
    name: String,
    kind: AssetKind,
    environment: Environment,
    criticality: Criticality,
    owner: Option<String>,
    description: Option<String>,
    tags: Vec<String>,
    open: Vec<(Severity, u64)>,
    open_total: u64,
}

fn row_of(asset: Asset, counts: Option<&HashMap<Severity, u64>>, members: &[users::User]) -> AssetRow {
    let open: Vec<(Severity, u64)> =
        Severity::ALL.iter().map(|s| (*s, counts.and_then(|c| c.get(s)).copied().unwrap_or(0))).collect();
    AssetRow {
        open_total: open.iter().map(|(_, n)| n).sum(),
        open,
        owner: asset.owner_id.map(|id| {
            members.iter().find(|m| m.id == id).map_or_else(|| "Deleted user".to_string(), |m| m.name.clone())
        }),
        id: asset.id,
        name: asset.name,
        kind: asset.kind,
        environment: asset.environment,
        criticality: asset.criticality,
        description: asset.description,
        tags: asset.tags,
    }
}

/// The asset form's fields as typed, so a refused form comes back filled.
#[derive(Debug, Clone, Default)]
pub struct AssetForm {
    name: String,
    kind: String,
    environment: String,
    criticality: String,
    owner_id: String,
    description: String,
    tags: String,
}

impl AssetForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
        Self {
            name: value("name"),
            kind: value("kind"),
            environment: value("environment"),
            criticality: value("criticality"),
            owner_id: value("owner_id"),
            description: value("description"),
            tags: value("tags"),
        }
    }

    fn of(asset: &AssetRow, owner_id: Option<String>) -> Self {
        Self {
            name: asset.name.clone(),
            kind: asset.kind.as_str().into(),
            environment: asset.environment.as_str().into(),
            criticality: asset.criticality.as_str().into(),
            owner_id: owner_id.unwrap_or_default(),
            description: asset.description.clone().unwrap_or_default(),
            tags: asset.tags.join(", "),
        }
    }

    /// The JSON the API takes, so both go through the same service; a
    /// choice left out keeps its current (or default) value.
    fn body(&self) -> Value {
        let tags: Vec<&str> = self.tags.split(',').map(str::trim).filter(|t| !t.is_empty()).collect();
        let mut body = json!({
            "name": self.name,
            "owner_id": Some(self.owner_id.trim()).filter(|o| !o.is_empty()),
            "description": self.description,
            "tags": tags,
        });
        for (field, value) in
            [("kind", &self.kind), ("environment", &self.environment), ("criticality", &self.criticality)]
        {
            if !value.trim().is_empty() {
                body[field] = json!(value.trim());
            }
        }
        body
    }
}

/// The choices of the form's selects, the current value selected.
pub struct FormChoices {
    kinds: Vec<Choice>,
    environments: Vec<Choice>,
    criticalities: Vec<Choice>,
    owners: Vec<Choice>,
}

fn choices(form: &AssetForm, members: &[users::User]) -> FormChoices {
    let of = |names: Vec<&'static str>, selected: &str| {
        names
            .into_iter()
            .map(|n| Choice { value: n.to_string(), label: format::label(n), selected: n == selected })
            .collect()
    };
    FormChoices {
        kinds: of(AssetKind::names(), if form.kind.is_empty() { "other" } else { &form.kind }),
        environments: of(Environment::names(), if form.environment.is_empty() { "other" } else { &form.environment }),
        criticalities: of(Criticality::names(), if form.criticality.is_empty() { "MEDIUM" } else { &form.criticality }),
        owners: members
            .iter()
            .map(|m| Choice {
                value: m.id.to_string(),
                label: m.name.clone(),
                selected: m.id.to_string() == form.owner_id,
            })
            .collect(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "assets/list.html")]
pub struct AssetsPage {
    nav: Option<Nav>,
    q: String,
    rows: Vec<AssetRow>,
    next_link: Option<String>,
    can_write: bool,
    form: AssetForm,
    choices: FormChoices,
    errors: Vec<String>,
}

pub async fn list(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let team = user.principal.user.team_id;
    let after = value("cursor").and_then(|c| state.cursors().decode::<AssetPosition>(team, CURSOR_CONTEXT, &c));
    let query = AssetQuery { text: value("q"), limit: PAGE, after, ..AssetQuery::default() };
    list_page(&state, &user, &query, AssetForm::default(), Vec::new()).await
}

async fn list_page(
    state: &AppState,
    user: &WebUser,
    query: &AssetQuery,
    form: AssetForm,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let db = state.db().conn();
    let scope = user.principal.scope();
    let members = users::list(db, scope).await?;
    let page = assets::list(db, scope, query).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|a| a.id).collect();
    let open = assets::open_counts(db, scope, &ids).await?;
    let q = query.text.clone().unwrap_or_default();
    let next_link = page.next.map(|position| {
        let cursor = state.cursors().encode(user.principal.user.team_id, CURSOR_CONTEXT, &position);
        let mut link = url::form_urlencoded::Serializer::new(String::new());
        if !q.is_empty() {
            link.append_pair("q", &q);
        }
        format!("/assets?{}", link.append_pair("cursor", &cursor).finish())
    });
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = AssetsPage {
        nav: Some(user.nav.clone()),
        rows: page
            .items
            .into_iter()
            .map(|a| {
                let counts = open.get(&a.id);
                row_of(a, counts, &members)
            })
            .collect(),
        next_link,
        can_write: user.principal.may(Action::WriteVulnerabilities),
        choices: choices(&form, &members),
        form,
        errors,
        q,
    };
    Ok((status, page).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = AssetForm::from_pairs(&pairs);
    match services::assets::create(&state, &user.principal, &context, &form.body()).await {
        Ok(asset) => Ok(flash::redirect(&format!("/assets/{}", asset.id), Flash::AssetSaved)),
        Err(error) => {
            let messages = form_messages(error)?;
            let query = AssetQuery { limit: PAGE, ..AssetQuery::default() };
            list_page(&state, &user, &query, form, messages).await
        }
    }
}

/// One finding on the asset.
pub struct Finding {
    key: String,
    title: String,
    severity: Severity,
    status: vulntrack_domain::vulnerability::VulnStatus,
    assignee: Option<String>,
    updated: chrono::DateTime<chrono::Utc>,
}

#[derive(Template, WebTemplate)]
#[template(path = "assets/detail.html")]
pub struct AssetPage {
    nav: Option<Nav>,
    asset: AssetRow,
    findings: Vec<Finding>,
    more_findings: bool,
    can_write: bool,
    form: AssetForm,
    choices: FormChoices,
    errors: Vec<String>,
    imports: Vec<super::import_pages::ImportRow>,
}

pub async fn detail(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    detail_page(&state, &user, &id, None, Vec::new(), StatusCode::OK).await
}

async fn detail_page(
    state: &AppState,
    user: &WebUser,
    id: &str,
    form: Option<AssetForm>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let db = state.db().conn();
    let scope = user.principal.scope();
    let asset = assets::find(db, scope, id).await?;
    let members = users::list(db, scope).await?;
    let owner_id = asset.owner_id.map(|o| o.to_string());
    let open = assets::open_counts(db, scope, &[asset.id]).await?;
    let query = ListQuery {
        assets: vec![asset.id.to_string()],
        sort: Sort::Severity(Direction::Desc),
        limit: PAGE,
        assignees: Assignees::default(),
        ..ListQuery::default()
    };
    let found = vulnerabilities::list(db, scope, &query).await?;
    let imports = super::import_pages::of_asset(state, scope, asset.id).await?;
    let row = row_of(asset, open.values().next(), &members);
    let form = form.unwrap_or_else(|| AssetForm::of(&row, owner_id));
    let page = AssetPage {
        nav: Some(user.nav.clone()),
        more_findings: found.next.is_some(),
        findings: found
            .items
            .into_iter()
            .map(|v| Finding {
                key: v.key(),
                assignee: v.record.assignee_id.map(|id| {
                    members.iter().find(|m| m.id == id).map_or_else(|| "Deleted user".into(), |m| m.name.clone())
                }),
                title: v.record.title,
                severity: v.record.severity,
                status: v.record.status,
                updated: v.updated_at,
            })
            .collect(),
        can_write: user.principal.may(Action::WriteVulnerabilities),
        choices: choices(&form, &members),
        asset: row,
        form,
        errors,
        imports,
    };
    Ok((status, page).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = AssetForm::from_pairs(&pairs);
    match services::assets::update(&state, &user.principal, &context, &id, &form.body(), &IfMatch::Absent).await {
        Ok(asset) => Ok(flash::redirect(&format!("/assets/{}", asset.id), Flash::AssetSaved)),
        Err(error) => {
            let messages = form_messages(error)?;
            detail_page(&state, &user, &id, Some(form), messages, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    match services::assets::delete(&state, &user.principal, &context, &id, &IfMatch::Absent).await {
        Ok(()) => Ok(flash::redirect("/assets", Flash::AssetDeleted)),
        Err(ServiceError::Conflict(message)) => {
            detail_page(&state, &user, &id, None, vec![message.to_string()], StatusCode::CONFLICT).await
        }
        Err(other) => Err(other.into()),
    }
}

//! The team's assets: what findings are found on.

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;
use vulntrack_domain::{
    FieldError, UserId, ValidationErrors,
    asset::{AssetKind, Criticality, Environment},
    vulnerability::Severity,
};
use vulntrack_store::assets::{self, Asset, AssetPosition, AssetQuery, CURSOR_CONTEXT};

use crate::{
    app::AppState,
    auth::Principal,
    http::{
        ApiError, ApiJson, ApiQuery, ClientContext, params,
        versioning::{IfMatch, with_etag},
    },
    services,
};

const LIMIT_DEFAULT: u64 = 50;
const LIMIT_MAX: u64 = 200;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssetView {
    id: Uuid,
    name: String,
    kind: AssetKind,
    environment: Environment,
    criticality: Criticality,
    owner_id: Option<UserId>,
    description: Option<String>,
    tags: Vec<String>,
    /// Open (OPEN or IN_PROGRESS) vulnerabilities on the asset, by severity.
    open_findings: BTreeMap<&'static str, u64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Bumped by every change; also the `ETag`, for `If-Match`.
    version: i64,
}

impl AssetView {
    fn new(asset: Asset, open: Option<&std::collections::HashMap<Severity, u64>>) -> Self {
        Self {
            open_findings: Severity::ALL
                .iter()
                .map(|s| (s.as_str(), open.and_then(|counts| counts.get(s)).copied().unwrap_or(0)))
                .collect(),
            id: asset.id,
            name: asset.name,
            kind: asset.kind,
            environment: asset.environment,
            criticality: asset.criticality,
            owner_id: asset.owner_id,
            description: asset.description,
            tags: asset.tags,
            created_at: asset.created_at,
            updated_at: asset.updated_at,
            version: asset.version,
        }
    }
}

/// The fields of an asset; all optional on PATCH, `name` required on POST.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)] // The document's shape: the service reads the JSON itself, field by field.
pub struct AssetChange {
    /// 1–200 characters, unique in the team in any letter case.
    name: Option<String>,
    kind: Option<AssetKind>,
    environment: Option<Environment>,
    criticality: Option<Criticality>,
    /// A member of the team, or null.
    owner_id: Option<UserId>,
    description: Option<String>,
    tags: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AssetParams {
    kind: Vec<String>,
    environment: Vec<String>,
    criticality: Vec<String>,
    owner_id: Option<String>,
    /// Names containing this text, in any letter case.
    q: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssetList {
    items: Vec<AssetView>,
    next_cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/assets", tag = "assets",
    params(AssetParams),
    responses((status = 200, description = "One page of the team's assets, by name, with open findings by severity", body = AssetList))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<AssetParams>,
) -> Result<Json<AssetList>, ApiError> {
    let mut errors = ValidationErrors::default();
    let team = principal.user.team_id;
    let query = AssetQuery {
        kinds: services::vulnerability_list::parse_values("kind", &params.kind, &mut errors),
        environments: services::vulnerability_list::parse_values("environment", &params.environment, &mut errors),
        criticalities: services::vulnerability_list::parse_values("criticality", &params.criticality, &mut errors),
        owner: match params.owner_id.as_deref().filter(|o| !o.is_empty()) {
            None => None,
            Some("me") => Some(principal.user.id),
            Some(other) => match Uuid::parse_str(other) {
                Ok(id) => Some(UserId::from_uuid(id)),
                Err(_) => {
                    errors.push(FieldError::new("owner_id", "invalid", "must be a user id or \"me\""));
                    None
                }
            },
        },
        text: params.q.clone(),
        limit: params::limit(params.limit.as_deref(), LIMIT_DEFAULT, LIMIT_MAX, &mut errors),
        after: match params.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(cursor) => {
                let position = state.cursors().decode::<AssetPosition>(team, CURSOR_CONTEXT, cursor);
                if position.is_none() {
                    errors.push(FieldError::new("cursor", "invalid", "is not a cursor this list issued"));
                }
                position
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let db = state.db().conn();
    let page = assets::list(db, principal.scope(), &query).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|a| a.id).collect();
    let open = assets::open_counts(db, principal.scope(), &ids).await?;
    let next_cursor = page.next.map(|position| state.cursors().encode(team, CURSOR_CONTEXT, &position));
    let items = page
        .items
        .into_iter()
        .map(|asset| {
            let counts = open.get(&asset.id);
            AssetView::new(asset, counts)
        })
        .collect();
    Ok(Json(AssetList { items, next_cursor }))
}

async fn view_of(state: &AppState, principal: &Principal, asset: Asset) -> Result<Response, ApiError> {
    let open = assets::open_counts(state.db().conn(), principal.scope(), &[asset.id]).await?;
    let version = asset.version;
    let view = AssetView::new(asset, open.values().next());
    Ok(with_etag(Json(view), version))
}

#[utoipa::path(
    post, path = "/assets", tag = "assets",
    request_body = AssetChange,
    responses((status = 201, description = "The asset", body = AssetView,
               headers(("ETag" = String, description = "The asset's version, for If-Match"))))
)]
pub async fn create(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Response), ApiError> {
    let asset = services::assets::create(&state, &principal, &context, &body).await?;
    Ok((StatusCode::CREATED, view_of(&state, &principal, asset).await?))
}

#[utoipa::path(
    get, path = "/assets/{id}", tag = "assets",
    params(("id" = String, Path, description = "The asset's id or name")),
    responses((status = 200, description = "The asset", body = AssetView,
               headers(("ETag" = String, description = "The asset's version, for If-Match"))))
)]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let asset = assets::find(state.db().conn(), principal.scope(), &id).await?;
    view_of(&state, &principal, asset).await
}

#[utoipa::path(
    patch, path = "/assets/{id}", tag = "assets",
    params(("id" = String, Path, description = "The asset's id or name"),
           ("If-Match" = Option<String>, Header, description = "The ETag read; a newer version answers 412")),
    request_body = AssetChange,
    responses((status = 200, description = "The changed asset", body = AssetView))
)]
pub async fn update(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let asset = services::assets::update(&state, &principal, &context, &id, &body, &if_match).await?;
    view_of(&state, &principal, asset).await
}

#[utoipa::path(
    delete, path = "/assets/{id}", tag = "assets",
    params(("id" = String, Path, description = "The asset's id or name"),
           ("If-Match" = Option<String>, Header, description = "The ETag read; a newer version answers 412")),
    responses((status = 204, description = "Deleted"), (status = 409, description = "Vulnerabilities are recorded on it"))
)]
pub async fn delete(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    principal: Principal,
    if_match: IfMatch,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    services::assets::delete(&state, &principal, &context, &id, &if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

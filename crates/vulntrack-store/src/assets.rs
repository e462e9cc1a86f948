//! The team's assets, and which vulnerabilities are found on each. A
//! vulnerability's `assets` names resolve to these records (created when a
//! name is new), and the links back the asset filter and counts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vulntrack_domain::{
    UserId,
    asset::{AssetKind, Criticality, Environment, name_key},
    vulnerability::{Severity, VulnStatus},
};

use crate::{
    entity::{assets, vulnerabilities as vulns, vulnerability_assets as links},
    error::{StoreError, StoreResult},
    scope::TeamScope,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub id: Uuid,
    pub name: String,
    pub kind: AssetKind,
    pub environment: Environment,
    pub criticality: Criticality,
    pub owner_id: Option<UserId>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl TryFrom<assets::Model> for Asset {
    type Error = StoreError;

    fn try_from(row: assets::Model) -> Result<Self, Self::Error> {
        let corrupt = |what: &str, value: &str| StoreError::Corrupt(format!("asset {} has {what} {value:?}", row.id));
        Ok(Self {
            id: row.id,
            kind: row.kind.parse().map_err(|_| corrupt("kind", &row.kind))?,
            environment: row.environment.parse().map_err(|_| corrupt("environment", &row.environment))?,
            criticality: row.criticality.parse().map_err(|_| corrupt("criticality", &row.criticality))?,
            owner_id: row.owner_id.map(UserId::from_uuid),
            tags: row
                .tags
                .as_array()
                .map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            name: row.name,
            description: row.description,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        })
    }
}

/// An asset's fields as a person or an import sets them.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetFields {
    pub name: String,
    pub kind: AssetKind,
    pub environment: Environment,
    pub criticality: Criticality,
    pub owner_id: Option<UserId>,
    pub description: Option<String>,
    pub tags: Vec<String>,
}

impl AssetFields {
    /// An asset known only by a name (typed on a vulnerability, or named by
    /// an import): kind and environment unknown, criticality medium.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.trim().to_string(),
            kind: AssetKind::Other,
            environment: Environment::Other,
            criticality: Criticality::Medium,
            owner_id: None,
            description: None,
            tags: Vec::new(),
        }
    }
}

fn of_team(scope: TeamScope) -> sea_orm::Select<assets::Entity> {
    assets::Entity::find().filter(assets::Column::TeamId.eq(scope.team_id().as_uuid()))
}

/// A second asset with the same name (in any letter case) is a conflict.
pub async fn create(db: &impl ConnectionTrait, scope: TeamScope, fields: &AssetFields) -> StoreResult<Asset> {
    let now = Utc::now();
    let row = assets::ActiveModel {
        id: Set(Uuid::now_v7()),
        team_id: Set(scope.team_id().as_uuid()),
        name: Set(fields.name.trim().to_string()),
        name_key: Set(name_key(&fields.name)),
        kind: Set(fields.kind.as_str().to_string()),
        environment: Set(fields.environment.as_str().to_string()),
        criticality: Set(fields.criticality.as_str().to_string()),
        owner_id: Set(fields.owner_id.map(|o| o.as_uuid())),
        description: Set(fields.description.clone()),
        tags: Set(serde_json::json!(fields.tags)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    };
    let row = assets::Entity::insert(row)
        .exec_with_returning(db)
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "an asset with this name"))?;
    Asset::try_from(row)
}

pub async fn get(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<Asset> {
    of_team(scope)
        .filter(assets::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(Asset::try_from)
}

/// The asset with this id, or else this name (any letter case).
pub async fn find(db: &impl ConnectionTrait, scope: TeamScope, id_or_name: &str) -> StoreResult<Asset> {
    if let Ok(id) = Uuid::parse_str(id_or_name.trim())
        && let Ok(asset) = get(db, scope, id).await
    {
        return Ok(asset);
    }
    of_team(scope)
        .filter(assets::Column::NameKey.eq(name_key(id_or_name)))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(Asset::try_from)
}

/// The row, held for the rest of the transaction (`FOR UPDATE` on
/// PostgreSQL; SQLite's write transaction holds the lock).
pub async fn get_for_update(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<Asset> {
    of_team(scope)
        .filter(assets::Column::Id.eq(id))
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(Asset::try_from)
}

/// Writes `fields` over the asset and bumps its version.
pub async fn update(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid, fields: &AssetFields) -> StoreResult<Asset> {
    let before = get(db, scope, id).await?;
    assets::Entity::update_many()
        .col_expr(assets::Column::Name, Expr::value(fields.name.trim()))
        .col_expr(assets::Column::NameKey, Expr::value(name_key(&fields.name)))
        .col_expr(assets::Column::Kind, Expr::value(fields.kind.as_str()))
        .col_expr(assets::Column::Environment, Expr::value(fields.environment.as_str()))
        .col_expr(assets::Column::Criticality, Expr::value(fields.criticality.as_str()))
        .col_expr(assets::Column::OwnerId, Expr::value(fields.owner_id.map(|o| o.as_uuid())))
        .col_expr(assets::Column::Description, Expr::value(fields.description.clone()))
        .col_expr(assets::Column::Tags, Expr::value(serde_json::json!(fields.tags)))
        .col_expr(assets::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(assets::Column::Version, Expr::col(assets::Column::Version).add(1))
        .filter(assets::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(assets::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "an asset with this name"))?;
    if (before.criticality, before.environment) != (fields.criticality, fields.environment) {
        // Its records' priorities weigh what it is worth.
        crate::vulnerabilities::priority::refresh(db, crate::vulnerabilities::priority::Target::Asset(scope, id))
            .await?;
    }
    get(db, scope, id).await
}

/// How many of the team's vulnerabilities are found on the asset.
pub async fn finding_count(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<u64> {
    Ok(links::Entity::find()
        .filter(links::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(links::Column::AssetId.eq(id))
        .count(db)
        .await?)
}

pub async fn delete(db: &impl ConnectionTrait, scope: TeamScope, id: Uuid) -> StoreResult<bool> {
    let result = assets::Entity::delete_many()
        .filter(assets::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(assets::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// What the asset list shows.
#[derive(Debug, Clone, Default)]
pub struct AssetQuery {
    pub kinds: Vec<AssetKind>,
    pub environments: Vec<Environment>,
    pub criticalities: Vec<Criticality>,
    pub owner: Option<UserId>,
    /// Names containing this text, in any letter case.
    pub text: Option<String>,
    pub limit: u64,
    /// Continue after this name key (and id).
    pub after: Option<AssetPosition>,
}

/// What an asset-list cursor is signed for (the list has one order, by
/// name), by the API and the page alike.
pub const CURSOR_CONTEXT: &str = "assets:name";

/// Where a page of assets ended: they are listed by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetPosition {
    pub name_key: String,
    pub id: Uuid,
}

#[derive(Debug)]
pub struct AssetPage {
    pub items: Vec<Asset>,
    pub next: Option<AssetPosition>,
}

/// One page of the team's assets, by name.
pub async fn list(db: &impl ConnectionTrait, scope: TeamScope, query: &AssetQuery) -> StoreResult<AssetPage> {
    let mut select = of_team(scope);
    if !query.kinds.is_empty() {
        select = select.filter(assets::Column::Kind.is_in(query.kinds.iter().map(|k| k.as_str())));
    }
    if !query.environments.is_empty() {
        select = select.filter(assets::Column::Environment.is_in(query.environments.iter().map(|e| e.as_str())));
    }
    if !query.criticalities.is_empty() {
        select = select.filter(assets::Column::Criticality.is_in(query.criticalities.iter().map(|c| c.as_str())));
    }
    if let Some(owner) = query.owner {
        select = select.filter(assets::Column::OwnerId.eq(owner.as_uuid()));
    }
    if let Some(text) = query.text.as_deref().map(name_key).filter(|t| !t.is_empty()) {
        select = select.filter(assets::Column::NameKey.contains(&text));
    }
    if let Some(after) = &query.after {
        let keys = Expr::tuple([Expr::col(assets::Column::NameKey), Expr::col(assets::Column::Id)]);
        select = select.filter(keys.gt(Expr::tuple([Expr::val(after.name_key.clone()), Expr::val(after.id)])));
    }
    let limit = Ord::max(query.limit, 1);
    let mut rows = select
        .order_by(assets::Column::NameKey, Order::Asc)
        .order_by(assets::Column::Id, Order::Asc)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next = more.then(|| rows.last().map(|r| AssetPosition { name_key: r.name_key.clone(), id: r.id })).flatten();
    Ok(AssetPage { items: rows.into_iter().map(Asset::try_from).collect::<StoreResult<_>>()?, next })
}

/// Open (OPEN or IN_PROGRESS) findings of each asset by severity, in one
/// grouped query.
pub async fn open_counts(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    ids: &[Uuid],
) -> StoreResult<HashMap<Uuid, HashMap<Severity, u64>>> {
    let mut counts: HashMap<Uuid, HashMap<Severity, u64>> = HashMap::new();
    if ids.is_empty() {
        return Ok(counts);
    }
    let team = scope.team_id().as_uuid();
    let statement = Query::select()
        .column((links::Entity, links::Column::AssetId))
        .column((vulns::Entity, vulns::Column::Severity))
        .expr_as(Expr::col((vulns::Entity, vulns::Column::Id)).count(), Alias::new("count"))
        .from(links::Entity)
        .inner_join(
            vulns::Entity,
            Expr::col((vulns::Entity, vulns::Column::Id)).equals((links::Entity, links::Column::VulnerabilityId)),
        )
        .and_where(Expr::col((links::Entity, links::Column::TeamId)).eq(team))
        .and_where(Expr::col((links::Entity, links::Column::AssetId)).is_in(ids.iter().copied()))
        .and_where(Expr::col((vulns::Entity, vulns::Column::TeamId)).eq(team))
        .and_where(
            Expr::col((vulns::Entity, vulns::Column::Status))
                .is_in([VulnStatus::Open.as_str(), VulnStatus::InProgress.as_str()]),
        )
        .group_by_col((links::Entity, links::Column::AssetId))
        .group_by_col((vulns::Entity, vulns::Column::Severity))
        .to_owned();
    let mut rows = Vec::new();
    for row in db.query_all(&statement).await? {
        let asset: Uuid = row.try_get("", "asset_id")?;
        let severity: String = row.try_get("", "severity")?;
        let count: i64 = row.try_get("", "count")?;
        rows.push((asset, severity, count));
    }
    for (asset, severity, count) in rows {
        if let Ok(severity) = severity.parse::<Severity>() {
            counts.entry(asset).or_default().insert(severity, u64::try_from(count).unwrap_or(0));
        }
    }
    Ok(counts)
}

/// The assets named, created where a name is new: each with whether it
/// was created (for the caller's audit rows). Names are matched in any
/// letter case; repeats resolve once.
pub async fn ensure_named(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    names: &[String],
) -> StoreResult<Vec<(Asset, bool)>> {
    let mut resolved: Vec<(Asset, bool)> = Vec::new();
    for name in names {
        let key = name_key(name);
        if key.is_empty() || resolved.iter().any(|(asset, _)| name_key(&asset.name) == key) {
            continue;
        }
        let existing = of_team(scope).filter(assets::Column::NameKey.eq(key)).one(db).await?;
        match existing {
            Some(row) => resolved.push((Asset::try_from(row)?, false)),
            None => resolved.push((create(db, scope, &AssetFields::named(name)).await?, true)),
        }
    }
    Ok(resolved)
}

/// Makes `assets` the assets the vulnerability is found on.
pub async fn link(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    vulnerability: Uuid,
    assets: &[Uuid],
) -> StoreResult<()> {
    links::Entity::delete_many()
        .filter(links::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(links::Column::VulnerabilityId.eq(vulnerability))
        .exec(db)
        .await?;
    if assets.is_empty() {
        return Ok(());
    }
    let rows = assets.iter().map(|asset| links::ActiveModel {
        team_id: Set(scope.team_id().as_uuid()),
        vulnerability_id: Set(vulnerability),
        asset_id: Set(*asset),
    });
    links::Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(())
}

/// The names of the team's assets among `ids`, in one query.
pub async fn names_of(db: &impl ConnectionTrait, scope: TeamScope, ids: &[Uuid]) -> StoreResult<HashMap<Uuid, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = of_team(scope).filter(assets::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|row| (row.id, row.name)).collect())
}

/// The asset ids of each of `vulnerabilities`, in one query.
pub async fn of_vulnerabilities(
    db: &impl ConnectionTrait,
    scope: TeamScope,
    vulnerabilities: &[Uuid],
) -> StoreResult<HashMap<Uuid, Vec<Uuid>>> {
    let mut by_vulnerability: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    if vulnerabilities.is_empty() {
        return Ok(by_vulnerability);
    }
    let rows = links::Entity::find()
        .filter(links::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(links::Column::VulnerabilityId.is_in(vulnerabilities.iter().copied()))
        .order_by_asc(links::Column::AssetId)
        .all(db)
        .await?;
    for row in rows {
        by_vulnerability.entry(row.vulnerability_id).or_default().push(row.asset_id);
    }
    Ok(by_vulnerability)
}

/// The ids of the team's vulnerabilities found on any of the assets named
/// (by id or by name), as a subquery for the vulnerability list.
pub(crate) fn vulnerabilities_on(scope: TeamScope, refs: &[String]) -> sea_orm::sea_query::SelectStatement {
    let team = scope.team_id().as_uuid();
    let ids: Vec<Uuid> = refs.iter().filter_map(|r| Uuid::parse_str(r.trim()).ok()).collect();
    let keys: Vec<String> = refs.iter().map(|r| name_key(r)).collect();
    let matching = Query::select()
        .column(assets::Column::Id)
        .from(assets::Entity)
        .and_where(Expr::col(assets::Column::TeamId).eq(team))
        .cond_where(
            sea_orm::Condition::any()
                .add(Expr::col(assets::Column::NameKey).is_in(keys))
                .add(Expr::col(assets::Column::Id).is_in(ids)),
        )
        .to_owned();
    Query::select()
        .column(links::Column::VulnerabilityId)
        .from(links::Entity)
        .and_where(Expr::col(links::Column::TeamId).eq(team))
        .and_where(Expr::col(links::Column::AssetId).in_subquery(matching))
        .to_owned()
}

//! Assets as team records, and which vulnerabilities are found on which
//! asset. The names already typed in vulnerabilities' `assets` lists become
//! asset records (kind and environment `other`, criticality MEDIUM) linked
//! to their vulnerabilities.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, TransactionTrait};
use sea_orm_migration::{prelude::*, schema::*};
use uuid::Uuid;
use vulntrack_domain::asset::{AssetKind, Criticality, Environment, name_key};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Assets {
    Table,
    Id,
    TeamId,
    Name,
    NameKey,
    Kind,
    Environment,
    Criticality,
    OwnerId,
    Description,
    Tags,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum VulnerabilityAssets {
    Table,
    TeamId,
    VulnerabilityId,
    AssetId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    TeamId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Teams {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Vulnerabilities {
    Table,
    Id,
    TeamId,
    Assets,
}

fn fk(
    name: &str,
    from: impl IntoIden + Copy + 'static,
    from_cols: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: impl IntoIden + Copy + 'static,
    to_cols: (impl IntoIden + 'static, impl IntoIden + 'static),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from, from_cols)
        .to(to, to_cols)
        .on_delete(on_delete)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let one_of = |column: Assets, names: Vec<&'static str>| Expr::col(column).is_in(names);
        manager
            .create_table(
                Table::create()
                    .table(Assets::Table)
                    .col(pk_uuid(Assets::Id))
                    .col(uuid(Assets::TeamId))
                    .col(string_len(Assets::Name, 200))
                    .col(string_len(Assets::NameKey, 200))
                    .col(string_len(Assets::Kind, 24).check(one_of(Assets::Kind, AssetKind::names())))
                    .col(string_len(Assets::Environment, 16).check(one_of(Assets::Environment, Environment::names())))
                    .col(string_len(Assets::Criticality, 16).check(one_of(Assets::Criticality, Criticality::names())))
                    .col(uuid_null(Assets::OwnerId))
                    .col(text_null(Assets::Description))
                    .col(json_binary(Assets::Tags))
                    .col(timestamp_with_time_zone(Assets::CreatedAt))
                    .col(timestamp_with_time_zone(Assets::UpdatedAt))
                    .col(big_integer(Assets::Version).default(1))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_assets_team")
                            .from(Assets::Table, Assets::TeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(&mut fk(
                        "fk_assets_owner",
                        Assets::Table,
                        (Assets::TeamId, Assets::OwnerId),
                        Users::Table,
                        (Users::TeamId, Users::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_assets_team_name")
                    .table(Assets::Table)
                    .col(Assets::TeamId)
                    .col(Assets::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Target of the composite foreign key below.
        manager
            .create_index(
                Index::create()
                    .name("ux_assets_team_id")
                    .table(Assets::Table)
                    .col(Assets::TeamId)
                    .col(Assets::Id)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(VulnerabilityAssets::Table)
                    .col(uuid(VulnerabilityAssets::TeamId))
                    .col(uuid(VulnerabilityAssets::VulnerabilityId))
                    .col(uuid(VulnerabilityAssets::AssetId))
                    .primary_key(
                        Index::create().col(VulnerabilityAssets::VulnerabilityId).col(VulnerabilityAssets::AssetId),
                    )
                    .foreign_key(&mut fk(
                        "fk_vulnerability_assets_vulnerability",
                        VulnerabilityAssets::Table,
                        (VulnerabilityAssets::TeamId, VulnerabilityAssets::VulnerabilityId),
                        Vulnerabilities::Table,
                        (Vulnerabilities::TeamId, Vulnerabilities::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    // An asset with findings is not deleted from under them.
                    .foreign_key(&mut fk(
                        "fk_vulnerability_assets_asset",
                        VulnerabilityAssets::Table,
                        (VulnerabilityAssets::TeamId, VulnerabilityAssets::AssetId),
                        Assets::Table,
                        (Assets::TeamId, Assets::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_vulnerability_assets_asset")
                    .table(VulnerabilityAssets::Table)
                    .col(VulnerabilityAssets::TeamId)
                    .col(VulnerabilityAssets::AssetId)
                    .col(VulnerabilityAssets::VulnerabilityId)
                    .to_owned(),
            )
            .await?;
        backfill(manager.get_connection()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(VulnerabilityAssets::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Assets::Table).to_owned()).await
    }
}

/// Rows read at a time while backfilling.
const BATCH: u64 = 1000;

/// Turns each team's typed asset names into records and links, a batch of
/// vulnerabilities at a time.
async fn backfill(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    let mut known: HashMap<(Uuid, String), Uuid> = HashMap::new();
    let now = chrono::Utc::now();
    let mut after: Option<Uuid> = None;
    loop {
        let mut select = Query::select()
            .columns([Vulnerabilities::Id, Vulnerabilities::TeamId, Vulnerabilities::Assets])
            .from(Vulnerabilities::Table)
            .order_by(Vulnerabilities::Id, Order::Asc)
            .limit(BATCH)
            .to_owned();
        if let Some(after) = after {
            select.and_where(Expr::col(Vulnerabilities::Id).gt(after));
        }
        let rows = txn.query_all(&select).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.try_get("", "id")?);
        backfill_rows(&txn, rows, &mut known, now).await?;
    }
    txn.commit().await
}

async fn backfill_rows(
    txn: &impl ConnectionTrait,
    rows: Vec<sea_orm::QueryResult>,
    known: &mut HashMap<(Uuid, String), Uuid>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    for row in rows {
        let id: Uuid = row.try_get("", "id")?;
        let team: Uuid = row.try_get("", "team_id")?;
        let names: serde_json::Value = row.try_get("", "assets")?;
        let mut linked = Vec::new();
        for name in names.as_array().into_iter().flatten().filter_map(|v| v.as_str()) {
            let key = name_key(name);
            if key.is_empty() {
                continue;
            }
            let asset = match known.get(&(team, key.clone())) {
                Some(asset) => *asset,
                None => {
                    let asset = Uuid::now_v7();
                    let insert = Query::insert()
                        .into_table(Assets::Table)
                        .columns([
                            Assets::Id,
                            Assets::TeamId,
                            Assets::Name,
                            Assets::NameKey,
                            Assets::Kind,
                            Assets::Environment,
                            Assets::Criticality,
                            Assets::Tags,
                            Assets::CreatedAt,
                            Assets::UpdatedAt,
                            Assets::Version,
                        ])
                        .values_panic([
                            asset.into(),
                            team.into(),
                            name.trim().into(),
                            key.clone().into(),
                            AssetKind::Other.as_str().into(),
                            Environment::Other.as_str().into(),
                            Criticality::Medium.as_str().into(),
                            serde_json::json!([]).into(),
                            now.into(),
                            now.into(),
                            1i64.into(),
                        ])
                        .to_owned();
                    txn.execute(&insert).await?;
                    known.insert((team, key), asset);
                    asset
                }
            };
            if !linked.contains(&asset) {
                linked.push(asset);
                let link = Query::insert()
                    .into_table(VulnerabilityAssets::Table)
                    .columns([
                        VulnerabilityAssets::TeamId,
                        VulnerabilityAssets::VulnerabilityId,
                        VulnerabilityAssets::AssetId,
                    ])
                    .values_panic([team.into(), id.into(), asset.into()])
                    .to_owned();
                txn.execute(&link).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use sea_orm::sea_query::{Alias, Query};
    use sea_orm_migration::MigratorTrait;
    use serde_json::json;
    use vulntrack_domain::TeamId;

    use super::*;
    use crate::{Database, DatabaseUrl, PoolSettings, TeamScope, assets, migration::Migrator, vulnerabilities};

    /// Names typed on records before assets existed become one record per
    /// name and team (in any letter case), linked to their records.
    #[tokio::test]
    async fn typed_asset_names_become_linked_asset_records() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::sqlite_file(&dir.path().join("before.db"));
        let db = Database::connect(&url, PoolSettings::default()).await.expect("connect");
        let txn = db.begin().await.expect("begin");
        Migrator::up(&txn, Some(15)).await.expect("migrations 1 to 15");
        txn.commit().await.expect("commit");

        let now = Utc::now();
        let team = Uuid::now_v7();
        db.conn()
            .execute(
                &Query::insert()
                    .into_table(Alias::new("teams"))
                    .columns(["id", "name", "created_at", "updated_at"].map(Alias::new))
                    .values_panic([team.into(), "Blue".into(), now.into(), now.into()])
                    .to_owned(),
            )
            .await
            .expect("team");
        let columns = [
            "id",
            "team_id",
            "number",
            "title",
            "description",
            "severity",
            "severity_rank",
            "status",
            "kind",
            "assets",
            "reference_links",
            "created_at",
            "updated_at",
            "version",
        ];
        let records = [json!(["Portal-01", "db-02"]), json!(["portal-01 "]), json!([])];
        let mut ids = Vec::new();
        for (number, names) in records.into_iter().enumerate() {
            let id = Uuid::now_v7();
            ids.push(id);
            db.conn()
                .execute(
                    &Query::insert()
                        .into_table(Alias::new("vulnerabilities"))
                        .columns(columns.map(Alias::new))
                        .values_panic([
                            id.into(),
                            team.into(),
                            <i64 as TryFrom<usize>>::try_from(number + 1).expect("small").into(),
                            "Typed before assets".into(),
                            "A record from before migration 16.".into(),
                            "HIGH".into(),
                            4i16.into(),
                            "OPEN".into(),
                            "VULNERABILITY".into(),
                            names.into(),
                            json!([]).into(),
                            now.into(),
                            now.into(),
                            1i64.into(),
                        ])
                        .to_owned(),
                )
                .await
                .expect("vulnerability");
        }
        db.migrate().await.expect("migration 16");

        let scope = TeamScope::new(TeamId::from_uuid(team));
        let query = assets::AssetQuery { limit: 10, ..Default::default() };
        let listed = assets::list(db.conn(), scope, &query).await.expect("assets");
        let names: Vec<&str> = listed.items.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, vec!["db-02", "Portal-01"], "one record per name, as first typed");
        let linked = assets::of_vulnerabilities(db.conn(), scope, &ids).await.expect("links");
        let portal = listed.items.iter().find(|a| a.name == "Portal-01").expect("portal").id;
        assert_eq!(linked[&ids[0]].len(), 2);
        assert_eq!(linked[&ids[1]], vec![portal], "the same asset in another case");
        assert!(!linked.contains_key(&ids[2]));
        let on_portal = vulnerabilities::ListQuery { assets: vec!["PORTAL-01".into()], ..Default::default() };
        let found = vulnerabilities::list(db.conn(), scope, &on_portal).await.expect("list");
        assert_eq!(found.items.len(), 2, "the list filters by the asset, by name or id");
        let open = assets::open_counts(db.conn(), scope, &[portal]).await.expect("counts");
        assert_eq!(open[&portal].get(&vulntrack_domain::vulnerability::Severity::High), Some(&2));

        let txn = db.begin().await.expect("begin");
        Migrator::down(&txn, Some(1)).await.expect("migration 16 undone");
        txn.commit().await.expect("commit");
        db.migrate().await.expect("and done again");
        let again = assets::list(db.conn(), scope, &query).await.expect("assets");
        assert_eq!(again.items.len(), 2, "the same records after a round trip");
    }
}

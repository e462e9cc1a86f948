//! Many rows in one statement.
//!
//! On PostgreSQL a multi-row `INSERT … VALUES` binds one parameter per
//! value: 500 findings of ~45 columns are 22 500 parameters, and the
//! statements of a 10 000-finding import spent seconds being bound,
//! planned and checked (docs/PERFORMANCE.md). Here the rows travel as one
//! JSON document that `json_populate_recordset` reads into the table's own
//! row type, so each column's input function parses its value (a UUID, a
//! timestamp, a `tsvector`) and the statement has one parameter, whatever
//! the row count. SQLite binds cheaply and keeps sea-orm's `insert_many`.

use chrono::SecondsFormat;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, EntityName, EntityTrait, IdenStatic, Iterable, Statement, Value,
    sea_query::{Alias, OnConflict},
};
use serde_json::{Map, Value as Json};

use crate::error::{StoreError, StoreResult};

/// Rows per statement: bounds the JSON document (a few MB for findings).
const ROWS: usize = 2000;
/// Rows per `insert_many` on SQLite (its limit is 32 766 parameters).
const SQLITE_ROWS: usize = 500;

/// A column the entity does not map, with each row's value (in the
/// column type's input form).
pub(crate) struct Extra<'a> {
    pub name: &'a str,
    pub values: Vec<Json>,
}

/// A row whose `key` is already there updates these columns instead.
pub(crate) struct Upsert {
    pub key: &'static str,
    pub update: &'static [&'static str],
}

impl Upsert {
    fn on_conflict(&self) -> OnConflict {
        OnConflict::column(Alias::new(self.key)).update_columns(self.update.iter().map(|c| Alias::new(*c))).to_owned()
    }

    fn postgres(&self) -> String {
        let set = self.update.iter().map(|c| format!("\"{c}\" = EXCLUDED.\"{c}\"")).collect::<Vec<_>>().join(", ");
        format!(" ON CONFLICT (\"{}\") DO UPDATE SET {set}", self.key)
    }
}

/// Inserts `models` (all with the same columns set). `extra` adds a column
/// the entity does not map; PostgreSQL only.
pub(crate) async fn insert<A>(
    db: &impl ConnectionTrait,
    models: Vec<A>,
    extra: Option<Extra<'_>>,
    upsert: Option<Upsert>,
) -> StoreResult<()>
where
    A: ActiveModelTrait + Send,
{
    if models.is_empty() {
        return Ok(());
    }
    if db.get_database_backend() != DbBackend::Postgres {
        let mut models = models;
        while !models.is_empty() {
            let rest = models.split_off(models.len().min(SQLITE_ROWS));
            let mut insert = A::Entity::insert_many(models);
            if let Some(upsert) = &upsert {
                insert = insert.on_conflict(upsert.on_conflict());
            }
            insert.exec_without_returning(db).await?;
            models = rest;
        }
        return Ok(());
    }
    let columns: Vec<<A::Entity as EntityTrait>::Column> =
        <A::Entity as EntityTrait>::Column::iter().filter(|c| models[0].get(*c).is_set()).collect();
    let mut names: Vec<&str> = columns.iter().map(|c| c.as_str()).collect();
    let mut extra_values = None;
    if let Some(extra) = extra {
        names.push(extra.name);
        extra_values = Some(extra.values.into_iter());
    }
    let table = A::Entity::default().table_name().to_owned();
    let quoted = names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "INSERT INTO \"{table}\" ({quoted}) SELECT {quoted} FROM json_populate_recordset(NULL::\"{table}\", $1::json){}",
        upsert.as_ref().map(Upsert::postgres).unwrap_or_default()
    );
    let mut rows = Vec::with_capacity(models.len().min(ROWS));
    let total = models.len();
    for (index, model) in models.into_iter().enumerate() {
        let mut row = Map::with_capacity(names.len());
        for column in &columns {
            let value = model.get(*column).into_value().unwrap_or(Value::String(None));
            row.insert(column.as_str().to_owned(), json_of(value)?);
        }
        if let (Some(values), Some(name)) = (extra_values.as_mut(), names.last()) {
            row.insert((*name).to_owned(), values.next().unwrap_or(Json::Null));
        }
        rows.push(Json::Object(row));
        if rows.len() == ROWS || index + 1 == total {
            let document = serde_json::to_string(&rows).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql.as_str(), [document.into()]))
                .await?;
            rows.clear();
        }
    }
    Ok(())
}

/// A value as `json_populate_recordset` reads it into its column: text in
/// the column type's input form, numbers, booleans, JSON as it is.
fn json_of(value: Value) -> StoreResult<Json> {
    Ok(match value {
        Value::Bool(v) => v.into(),
        Value::SmallInt(v) => v.into(),
        Value::Int(v) => v.into(),
        Value::BigInt(v) => v.into(),
        Value::Double(v) => v.into(),
        Value::String(v) => v.into(),
        Value::Uuid(v) => v.map(|id| id.to_string()).into(),
        Value::Json(v) => v.map_or(Json::Null, |json| *json),
        Value::ChronoDateTimeUtc(v) => v.map(|at| at.to_rfc3339_opts(SecondsFormat::Micros, true)).into(),
        other => return Err(StoreError::Corrupt(format!("no bulk form for the value {other:?}"))),
    })
}

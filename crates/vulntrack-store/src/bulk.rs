//! Many rows in one statement.
//!
//! On PostgreSQL a multi-row `INSERT … VALUES` binds one parameter per
//! value: 500 findings of ~45 columns are 22 500 parameters, and the
//! statements of a 10 000-finding import spent seconds being bound,
//! planned and checked (docs/PERFORMANCE.md). Here a batch of rows travels
//! in a few parameters, whatever its size: each column that no row of the
//! batch leaves NULL as an array (`text[]`, `uuid[]`, `timestamptz[]`…),
//! sent in binary and read as it is, and the other columns in one JSON
//! document that `json_populate_recordset` reads into the table's own row
//! type. Parsing the long texts (descriptions, search terms) out of JSON
//! took twice as long as the arrays.
//! SQLite binds cheaply and keeps sea-orm's `insert_many`.

use chrono::SecondsFormat;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, EntityName, EntityTrait, IdenStatic, Iterable, QueryTrait, Statement,
    Value,
    sea_query::{Alias, ArrayType, OnConflict},
};
use serde_json::{Map, Value as Json};

use crate::error::{StoreError, StoreResult};

/// Rows per statement: bounds the parameters' size (a few MB for findings).
const ROWS: usize = 2000;
/// Rows per `insert_many` on SQLite (its limit is 32 766 parameters).
const SQLITE_ROWS: usize = 500;

/// A column the entity does not map, with each row's value as text in the
/// input form of the column's type (`cast`). PostgreSQL only.
pub(crate) struct Extra<'a> {
    pub name: &'a str,
    pub cast: &'a str,
    pub values: Vec<String>,
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
    for statement in statements(db.get_database_backend(), models, extra, upsert)? {
        db.execute_raw(statement).await?;
    }
    Ok(())
}

/// The statements [`insert`] runs, built without the database (so a large
/// write can build the next batch while the database writes one).
pub(crate) fn statements<A>(
    backend: DbBackend,
    models: Vec<A>,
    extra: Option<Extra<'_>>,
    upsert: Option<Upsert>,
) -> StoreResult<Vec<Statement>>
where
    A: ActiveModelTrait + Send,
{
    let mut statements = Vec::new();
    if models.is_empty() {
        return Ok(statements);
    }
    if backend != DbBackend::Postgres {
        let mut models = models;
        while !models.is_empty() {
            let rest = models.split_off(models.len().min(SQLITE_ROWS));
            let mut insert = A::Entity::insert_many(models);
            if let Some(upsert) = &upsert {
                insert = insert.on_conflict(upsert.on_conflict());
            }
            statements.push(insert.build(backend));
            models = rest;
        }
        return Ok(statements);
    }
    let columns: Vec<<A::Entity as EntityTrait>::Column> =
        <A::Entity as EntityTrait>::Column::iter().filter(|c| models[0].get(*c).is_set()).collect();
    let mut names: Vec<&str> = columns.iter().map(|c| c.as_str()).collect();
    let mut casts: Vec<Option<&str>> = vec![None; names.len()];
    let mut extra_values = None;
    if let Some(extra) = extra {
        names.push(extra.name);
        casts.push(Some(extra.cast));
        extra_values = Some(extra.values.into_iter());
    }
    let table = A::Entity::default().table_name().to_owned();
    let suffix = upsert.as_ref().map(Upsert::postgres).unwrap_or_default();
    let mut models = models.into_iter();
    loop {
        let mut rows: Vec<Vec<Value>> = Vec::with_capacity(ROWS);
        for model in models.by_ref().take(ROWS) {
            let mut row: Vec<Value> =
                columns.iter().map(|c| model.get(*c).into_value().unwrap_or(Value::String(None))).collect();
            if let Some(values) = extra_values.as_mut() {
                row.push(Value::String(values.next()));
            }
            rows.push(row);
        }
        if rows.is_empty() {
            return Ok(statements);
        }
        let batch = Batch::of(rows, &names)?;
        let sql = batch.sql(&table, &names, &casts, &suffix);
        statements.push(Statement::from_sql_and_values(DbBackend::Postgres, sql, batch.values));
    }
}

/// The array a column's values travel in when none of them is NULL, and
/// its SQL type. JSON values are left to the document.
fn array_type(value: &Value) -> Option<(ArrayType, &'static str)> {
    Some(match value {
        Value::Bool(Some(_)) => (ArrayType::Bool, "boolean[]"),
        Value::SmallInt(Some(_)) => (ArrayType::SmallInt, "int2[]"),
        Value::Int(Some(_)) => (ArrayType::Int, "int4[]"),
        Value::BigInt(Some(_)) => (ArrayType::BigInt, "int8[]"),
        Value::Double(Some(_)) => (ArrayType::Double, "float8[]"),
        Value::String(Some(_)) => (ArrayType::String, "text[]"),
        Value::Uuid(Some(_)) => (ArrayType::Uuid, "uuid[]"),
        Value::ChronoDateTimeUtc(Some(_)) => (ArrayType::ChronoDateTimeUtc, "timestamptz[]"),
        _ => return None,
    })
}

/// One statement's rows: the columns that no row leaves NULL as arrays,
/// the others in a JSON document.
struct Batch {
    /// Each column's array type, `None` for a column in the document.
    arrays: Vec<Option<(ArrayType, &'static str)>>,
    /// The JSON document (when a column is in it), then the arrays.
    values: Vec<Value>,
}

impl Batch {
    fn of(rows: Vec<Vec<Value>>, names: &[&str]) -> StoreResult<Self> {
        let arrays: Vec<Option<(ArrayType, &'static str)>> = (0..names.len())
            .map(|i| {
                let kind = array_type(&rows[0][i])?;
                let same = rows.iter().all(|row| array_type(&row[i]).is_some_and(|k| k.1 == kind.1));
                same.then_some(kind)
            })
            .collect();
        let in_document = arrays.iter().any(Option::is_none);
        // Each array column's place among the arrays.
        let slots: Vec<Option<usize>> = arrays
            .iter()
            .scan(0, |next, array| {
                Some(array.as_ref().map(|_| {
                    *next += 1;
                    *next - 1
                }))
            })
            .collect();
        let mut columns: Vec<Vec<Value>> = vec![Vec::with_capacity(rows.len()); arrays.iter().flatten().count()];
        let mut document = Vec::with_capacity(if in_document { rows.len() } else { 0 });
        for row in rows {
            let mut object = Map::new();
            for ((value, name), slot) in row.into_iter().zip(names).zip(&slots) {
                match slot {
                    Some(slot) => columns[*slot].push(value),
                    None => {
                        object.insert((*name).to_owned(), json_of(value)?);
                    }
                }
            }
            if in_document {
                document.push(Json::Object(object));
            }
        }
        let mut values = Vec::with_capacity(columns.len() + 1);
        if in_document {
            let document = serde_json::to_string(&document).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            values.push(Value::from(document));
        }
        for (column, (kind, _)) in columns.into_iter().zip(arrays.iter().flatten()) {
            values.push(Value::Array(kind.clone(), Some(Box::new(column))));
        }
        Ok(Self { arrays, values })
    }

    /// `INSERT … SELECT` from the arrays, joined by position to the
    /// document's rows when there is a document.
    fn sql(&self, table: &str, names: &[&str], casts: &[Option<&str>], suffix: &str) -> String {
        let quoted = names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
        let in_document = self.arrays.iter().any(Option::is_none);
        let mut selected = Vec::with_capacity(names.len());
        let mut parameters = Vec::new();
        let mut array_names = Vec::new();
        for ((name, array), cast) in names.iter().zip(&self.arrays).zip(casts) {
            let cast = cast.map(|c| format!("::{c}")).unwrap_or_default();
            match array {
                Some((_, sql_type)) => {
                    parameters.push(format!("${}::{sql_type}", parameters.len() + 1 + usize::from(in_document)));
                    array_names.push(format!("\"{name}\""));
                    selected.push(format!("a.\"{name}\"{cast}"));
                }
                None => selected.push(format!("r.\"{name}\"{cast}")),
            }
        }
        let document = format!("json_populate_recordset(NULL::\"{table}\", $1::json) WITH ORDINALITY AS r");
        let arrays = format!("unnest({}) WITH ORDINALITY AS a({}, n)", parameters.join(", "), array_names.join(", "));
        let from = match (in_document, parameters.is_empty()) {
            (true, true) => document,
            (true, false) => format!("{document} JOIN {arrays} ON a.n = r.ordinality"),
            (false, _) => arrays,
        };
        format!("INSERT INTO \"{table}\" ({quoted}) SELECT {} FROM {from}{suffix}", selected.join(", "))
    }
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

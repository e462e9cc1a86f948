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
        Value::ChronoDate(Some(_)) => (ArrayType::ChronoDate, "date[]"),
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
        Value::ChronoDate(v) => v.map(|day| day.to_string()).into(),
        other => return Err(StoreError::Corrupt(format!("no bulk form for the value {other:?}"))),
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use sea_orm::{ActiveModelTrait, DbBackend, IntoActiveModel};
    use uuid::Uuid;

    use super::*;
    use crate::entity::vulnerabilities as vulns;

    /// Every column of the widest table, set and left NULL, has a bulk form
    /// on both backends: a column of a new type fails here, not as a 500
    /// on the first write that reaches it.
    #[test]
    fn every_column_type_has_a_bulk_form_set_or_null() {
        let set = vulns::Model {
            id: Uuid::nil(),
            team_id: Uuid::nil(),
            number: 1,
            title: "x".to_owned(),
            description: "x".to_owned(),
            severity: "x".to_owned(),
            severity_rank: 1,
            status: "x".to_owned(),
            kind: "x".to_owned(),
            cve_id: Some("x".to_owned()),
            cvss_vector: Some("x".to_owned()),
            cvss_version: Some("x".to_owned()),
            cvss_score: Some(1.5),
            dread_damage: Some(1),
            dread_reproducibility: Some(1),
            dread_exploitability: Some(1),
            dread_affected_users: Some(1),
            dread_discoverability: Some(1),
            dread_score: Some(1.5),
            stride_spoofing: true,
            stride_tampering: true,
            stride_repudiation: true,
            stride_information_disclosure: true,
            stride_denial_of_service: true,
            stride_elevation_of_privilege: true,
            assets: serde_json::json!(["x"]),
            reference_links: serde_json::json!(["x"]),
            remediation: Some("x".to_owned()),
            assignee_id: Some(Uuid::nil()),
            reporter_id: Some(Uuid::nil()),
            resolved_at: Some(Utc::now()),
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
            source: "x".to_owned(),
            scanner: Some("x".to_owned()),
            scanner_tool: Some("x".to_owned()),
            rule_id: Some("x".to_owned()),
            cwe_ids: Some(serde_json::json!(["x"])),
            component_name: Some("x".to_owned()),
            component_version: Some("x".to_owned()),
            component_purl: Some("x".to_owned()),
            component_ecosystem: Some("x".to_owned()),
            fixed_version: Some("x".to_owned()),
            location_file: Some("x".to_owned()),
            location_line: Some(1),
            location_url: Some("x".to_owned()),
            location_host: Some("x".to_owned()),
            location_port: Some(1),
            location_protocol: Some("x".to_owned()),
            fingerprint: Some("x".to_owned()),
            finding_asset_id: Some(Uuid::nil()),
            first_seen_at: Some(Utc::now()),
            last_seen_at: Some(Utc::now()),
            occurrences: Some(1),
            severity_overridden: true,
            fts_rowid: Some(1),
            created_by_import: Some(Uuid::nil()),
            resolution: Some("x".to_owned()),
            resolution_note: Some("x".to_owned()),
            duplicate_of: Some(Uuid::nil()),
            risk_accepted_until: chrono::NaiveDate::from_ymd_opt(2027, 3, 31),
            due_at: Some(Utc::now()),
            due_soon_at: Some(Utc::now()),
            sla_notice: Some(1),
            sla_notice_due_at: Some(Utc::now()),
            known_exploited: true,
            epss_score: Some(0.42),
            priority: 77,
        };
        let null = vulns::Model {
            id: Uuid::nil(),
            team_id: Uuid::nil(),
            number: 1,
            title: "x".to_owned(),
            description: "x".to_owned(),
            severity: "x".to_owned(),
            severity_rank: 1,
            status: "x".to_owned(),
            kind: "x".to_owned(),
            cve_id: None,
            cvss_vector: None,
            cvss_version: None,
            cvss_score: None,
            dread_damage: None,
            dread_reproducibility: None,
            dread_exploitability: None,
            dread_affected_users: None,
            dread_discoverability: None,
            dread_score: None,
            stride_spoofing: true,
            stride_tampering: true,
            stride_repudiation: true,
            stride_information_disclosure: true,
            stride_denial_of_service: true,
            stride_elevation_of_privilege: true,
            assets: serde_json::json!(["x"]),
            reference_links: serde_json::json!(["x"]),
            remediation: None,
            assignee_id: None,
            reporter_id: None,
            resolved_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
            source: "x".to_owned(),
            scanner: None,
            scanner_tool: None,
            rule_id: None,
            cwe_ids: None,
            component_name: None,
            component_version: None,
            component_purl: None,
            component_ecosystem: None,
            fixed_version: None,
            location_file: None,
            location_line: None,
            location_url: None,
            location_host: None,
            location_port: None,
            location_protocol: None,
            fingerprint: None,
            finding_asset_id: None,
            first_seen_at: None,
            last_seen_at: None,
            occurrences: None,
            severity_overridden: true,
            fts_rowid: None,
            created_by_import: None,
            resolution: None,
            resolution_note: None,
            duplicate_of: None,
            risk_accepted_until: None,
            due_at: None,
            due_soon_at: None,
            sla_notice: None,
            sla_notice_due_at: None,
            known_exploited: false,
            epss_score: None,
            priority: 0,
        };
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            // Every column Set, as a new row's are.
            let row = |model: vulns::Model| model.into_active_model().reset_all();
            let models = vec![row(set.clone()), row(null.clone())];
            let both = statements(backend, models, None, None);
            assert!(both.is_ok(), "{backend:?}: {:?}", both.err());
            for model in [set.clone(), null.clone()] {
                let alone = statements(backend, vec![row(model)], None, None);
                assert!(alone.is_ok(), "{backend:?}: {:?}", alone.err());
            }
        }
    }
}

//! Each record's SLA deadlines (`due_at`, `due_soon_at`, migration 24):
//! written with the record from its team's policy when it is created or
//! its severity changes, and recomputed in SQL for a whole team when the
//! policy changes (or, in the migration, for every record).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbBackend, Statement};
use vulntrack_domain::vulnerability::{
    Severity,
    sla::{Deadlines, SlaPolicy},
};

use crate::{entity::vulnerabilities as vulns, error::StoreResult, scope::TeamScope};

/// Writes the deadlines of a record of `severity` whose window starts
/// `since` into its row.
pub(crate) fn fill(model: &mut vulns::ActiveModel, policy: &SlaPolicy, severity: Severity, since: DateTime<Utc>) {
    let deadlines = policy.deadlines(severity, since);
    model.due_at = Set(deadlines.map(|d| d.due_at));
    model.due_soon_at = Set(deadlines.map(|d| d.due_soon_at));
}

/// The deadlines a row holds.
pub(crate) fn of(row: &vulns::Model) -> Option<Deadlines> {
    Some(Deadlines { due_soon_at: row.due_soon_at?, due_at: row.due_at? })
}

/// The statements that recompute the deadlines of every record (of one
/// team, or of all) from `policy`: one per severity. Only numbers from the
/// policy and the severities' own names enter the SQL text.
pub(crate) fn statements(backend: DbBackend, policy: &SlaPolicy, team: Option<TeamScope>) -> Vec<Statement> {
    let since = "COALESCE(first_seen_at, created_at)";
    Severity::ALL
        .iter()
        .map(|severity| {
            let window = policy.due_soon_window(*severity).map(|w| w.num_minutes());
            let set = match (policy.days_for(*severity), window, backend) {
                (Some(days), Some(minutes), DbBackend::Postgres) => format!(
                    "due_at = {since} + make_interval(days => {days}), \
                     due_soon_at = {since} + make_interval(days => {days}) - make_interval(mins => {minutes})"
                ),
                (Some(days), Some(minutes), _) => format!(
                    "due_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', {since}, '+{days} days'), \
                     due_soon_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', {since}, '+{days} days', '-{minutes} minutes')"
                ),
                _ => "due_at = NULL, due_soon_at = NULL".to_owned(),
            };
            let mut sql = format!("UPDATE vulnerabilities SET {set} WHERE severity = '{}'", severity.as_str());
            match team {
                Some(scope) => {
                    sql.push_str(if backend == DbBackend::Postgres { " AND team_id = $1" } else { " AND team_id = ?" });
                    Statement::from_sql_and_values(backend, sql, [scope.team_id().as_uuid().into()])
                }
                None => Statement::from_string(backend, sql),
            }
        })
        .collect()
}

/// Recomputes the team's records' deadlines after its policy changed.
pub(crate) async fn recompute(db: &impl ConnectionTrait, scope: TeamScope, policy: &SlaPolicy) -> StoreResult<()> {
    for statement in statements(db.get_database_backend(), policy, Some(scope)) {
        db.execute_raw(statement).await?;
    }
    Ok(())
}

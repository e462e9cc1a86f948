use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "teams")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub next_vuln_number: i64,
    pub session_ttl_seconds: Option<i64>,
    /// How far ahead a risk may be accepted (migration 23).
    pub risk_acceptance_max_days: i32,
    pub risk_acceptance_approval: bool,
    /// The SLA policy (migration 24): days per severity, NULL for none.
    pub sla_critical_days: Option<i32>,
    pub sla_high_days: Option<i32>,
    pub sla_medium_days: Option<i32>,
    pub sla_low_days: Option<i32>,
    pub sla_info_days: Option<i32>,
    pub sla_due_soon_percent: i32,
    pub sla_due_soon_days: i32,
    /// Retention (migration 34), days; NULL: the instance's default.
    pub retention_audit_days: Option<i32>,
    pub retention_sessions_days: Option<i32>,
    pub retention_notifications_days: Option<i32>,
    pub retention_alerts_days: Option<i32>,
    pub retention_closed_days: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i64,
}

impl ActiveModelBehavior for ActiveModel {}

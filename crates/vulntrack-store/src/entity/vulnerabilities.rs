use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "vulnerabilities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub team_id: Uuid,
    pub number: i64,
    pub title: String,
    pub description: String,
    pub severity: String,
    pub severity_rank: i16,
    pub status: String,
    pub kind: String,
    pub cve_id: Option<String>,
    pub cvss_vector: Option<String>,
    pub cvss_version: Option<String>,
    pub cvss_score: Option<f64>,
    pub dread_damage: Option<i16>,
    pub dread_reproducibility: Option<i16>,
    pub dread_exploitability: Option<i16>,
    pub dread_affected_users: Option<i16>,
    pub dread_discoverability: Option<i16>,
    pub dread_score: Option<f64>,
    pub stride_spoofing: bool,
    pub stride_tampering: bool,
    pub stride_repudiation: bool,
    pub stride_information_disclosure: bool,
    pub stride_denial_of_service: bool,
    pub stride_elevation_of_privilege: bool,
    pub assets: Json,
    pub reference_links: Json,
    pub remediation: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub reporter_id: Option<Uuid>,
    pub resolved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i64,
    pub source: String,
    pub scanner: Option<String>,
    pub scanner_tool: Option<String>,
    pub rule_id: Option<String>,
    pub cwe_ids: Option<Json>,
    pub component_name: Option<String>,
    pub component_version: Option<String>,
    pub component_purl: Option<String>,
    pub component_ecosystem: Option<String>,
    pub fixed_version: Option<String>,
    pub location_file: Option<String>,
    pub location_line: Option<i32>,
    pub location_url: Option<String>,
    pub location_host: Option<String>,
    pub location_port: Option<i32>,
    pub location_protocol: Option<String>,
    /// Identifies an imported finding on its asset (`finding_asset_id`).
    pub fingerprint: Option<String>,
    pub finding_asset_id: Option<Uuid>,
    pub first_seen_at: Option<DateTimeUtc>,
    pub last_seen_at: Option<DateTimeUtc>,
    pub occurrences: Option<i32>,
    /// A person set the severity: imports leave it alone.
    pub severity_overridden: bool,
    /// SQLite only: the row of `vulnerabilities_fts` that indexes this
    /// record's words (see `vulnerabilities/search.rs`); always NULL on
    /// PostgreSQL, which keeps them in the row's `search_vector`.
    pub fts_rowid: Option<i64>,
    /// The import that created this record, if one did (migration 21).
    pub created_by_import: Option<Uuid>,
    /// Why the record is resolved (migration 22); NULL while it is open.
    pub resolution: Option<String>,
    pub resolution_note: Option<String>,
    /// For a DUPLICATE, the record of the same team it repeats.
    pub duplicate_of: Option<Uuid>,
    /// For RISK_ACCEPTED, the last day of the acceptance (migration 23).
    pub risk_accepted_until: Option<Date>,
    /// The SLA's due time and when it becomes due soon (migration 24).
    pub due_at: Option<DateTimeUtc>,
    pub due_soon_at: Option<DateTimeUtc>,
    pub sla_notice: Option<i16>,
    pub sla_notice_due_at: Option<DateTimeUtc>,
    pub known_exploited: bool,
    pub epss_score: Option<f64>,
    pub priority: i16,
}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cves")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub status: Option<String>,
    pub description: Option<String>,
    pub published_at: Option<DateTimeUtc>,
    pub modified_at: Option<DateTimeUtc>,
    pub cvss_v3_vector: Option<String>,
    pub cvss_v3_score: Option<f64>,
    pub nvd_cvss_v3_score: Option<f64>,
    pub cvss_v4_vector: Option<String>,
    pub cvss_v4_score: Option<f64>,
    pub nvd_cvss_v4_score: Option<f64>,
    pub cwe_ids: Option<Json>,
    pub reference_urls: Option<Json>,
    pub kev_date_added: Option<Date>,
    pub kev_due_date: Option<Date>,
    pub kev_required_action: Option<String>,
    pub kev_known_ransomware: Option<bool>,
    pub kev_name: Option<String>,
    pub kev_vendor_project: Option<String>,
    pub kev_product: Option<String>,
    pub kev_short_description: Option<String>,
    pub epss_score: Option<f64>,
    pub epss_percentile: Option<f64>,
    pub epss_date: Option<Date>,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

//! The CVE catalogue: instance-wide reference data (not team data) loaded
//! from NVD, CISA KEV and FIRST EPSS files or synced from their servers,
//! one row per CVE whichever feed named it first; and each feed's sync
//! state.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Cves {
    Table,
    Id,
    Status,
    Description,
    PublishedAt,
    ModifiedAt,
    CvssV3Vector,
    CvssV3Score,
    NvdCvssV3Score,
    CvssV4Vector,
    CvssV4Score,
    NvdCvssV4Score,
    CweIds,
    ReferenceUrls,
    KevDateAdded,
    KevDueDate,
    KevRequiredAction,
    KevKnownRansomware,
    KevName,
    KevVendorProject,
    KevProduct,
    KevShortDescription,
    EpssScore,
    EpssPercentile,
    EpssDate,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CveSources {
    Table,
    Source,
    Version,
    Cursor,
    LastAttemptAt,
    LastSuccessAt,
    ConsecutiveFailures,
    LastError,
}

/// Words of the descriptions, for `GET /api/v1/cves?q=`; SQLite scans.
const POSTGRES_SEARCH: &str = "CREATE INDEX ix_cves_description ON cves \
     USING GIN (to_tsvector('english', COALESCE(description, '')))";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Cves::Table)
                    .col(string_len(Cves::Id, 32).primary_key())
                    .col(string_len_null(Cves::Status, 64))
                    .col(text_null(Cves::Description))
                    .col(timestamp_with_time_zone_null(Cves::PublishedAt))
                    .col(timestamp_with_time_zone_null(Cves::ModifiedAt))
                    .col(string_len_null(Cves::CvssV3Vector, 256))
                    .col(double_null(Cves::CvssV3Score))
                    .col(double_null(Cves::NvdCvssV3Score))
                    .col(string_len_null(Cves::CvssV4Vector, 512))
                    .col(double_null(Cves::CvssV4Score))
                    .col(double_null(Cves::NvdCvssV4Score))
                    .col(json_binary_null(Cves::CweIds))
                    .col(json_binary_null(Cves::ReferenceUrls))
                    .col(date_null(Cves::KevDateAdded))
                    .col(date_null(Cves::KevDueDate))
                    .col(text_null(Cves::KevRequiredAction))
                    .col(boolean_null(Cves::KevKnownRansomware))
                    .col(text_null(Cves::KevName))
                    .col(text_null(Cves::KevVendorProject))
                    .col(text_null(Cves::KevProduct))
                    .col(text_null(Cves::KevShortDescription))
                    .col(double_null(Cves::EpssScore))
                    .col(double_null(Cves::EpssPercentile))
                    .col(date_null(Cves::EpssDate))
                    .col(timestamp_with_time_zone(Cves::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // "Known exploited" lists and the KEV filter read only listed rows.
        manager
            .get_connection()
            .execute_unprepared("CREATE INDEX ix_cves_kev ON cves (kev_date_added) WHERE kev_date_added IS NOT NULL")
            .await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_SEARCH).await?;
            // A daily EPSS file rescores nearly every row: room on each page
            // lets those updates stay on it (HOT), leaving the description's
            // search index alone.
            manager.get_connection().execute_unprepared("ALTER TABLE cves SET (fillfactor = 70)").await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CveSources::Table)
                    .col(string_len(CveSources::Source, 16).primary_key())
                    .col(string_len_null(CveSources::Version, 128))
                    .col(string_len_null(CveSources::Cursor, 64))
                    .col(timestamp_with_time_zone_null(CveSources::LastAttemptAt))
                    .col(timestamp_with_time_zone_null(CveSources::LastSuccessAt))
                    .col(integer(CveSources::ConsecutiveFailures).default(0))
                    .col(text_null(CveSources::LastError))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CveSources::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Cves::Table).to_owned()).await
    }
}

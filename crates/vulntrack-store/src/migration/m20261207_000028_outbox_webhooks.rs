//! What leaves the product: the outbox (mail and webhook calls, written
//! in the same transaction as the change that causes them, delivered by
//! a background worker that claims rows), the teams' webhooks and their
//! delivery log, and each user's notification preferences.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261130_000012_team_keyed_search::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Teams {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    NotificationSettings,
    DigestSentAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Outbox {
    Table,
    Id,
    TeamId,
    Channel,
    TargetId,
    Event,
    Payload,
    CreatedAt,
    AvailableAt,
    Attempts,
    LockedBy,
    LockedUntil,
    DeliveredAt,
    FailedAt,
    LastError,
}

#[derive(DeriveIden, Clone, Copy)]
enum Webhooks {
    Table,
    Id,
    TeamId,
    Url,
    Secret,
    Events,
    Active,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookDeliveries {
    Table,
    Id,
    TeamId,
    WebhookId,
    OutboxId,
    Event,
    Attempt,
    StatusCode,
    Error,
    DurationMs,
    AttemptedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Users::Table).add_column(text_null(Users::NotificationSettings)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Users::DigestSentAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(pk_uuid(Outbox::Id))
                    .col(uuid(Outbox::TeamId))
                    .col(string_len(Outbox::Channel, 16).check(Expr::col(Outbox::Channel).is_in(["email", "webhook"])))
                    .col(uuid(Outbox::TargetId))
                    .col(string_len(Outbox::Event, 64))
                    .col(text(Outbox::Payload))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone(Outbox::AvailableAt))
                    .col(integer(Outbox::Attempts).default(0))
                    .col(string_len_null(Outbox::LockedBy, 128))
                    .col(timestamp_with_time_zone_null(Outbox::LockedUntil))
                    .col(timestamp_with_time_zone_null(Outbox::DeliveredAt))
                    .col(timestamp_with_time_zone_null(Outbox::FailedAt))
                    .col(text_null(Outbox::LastError))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outbox_team")
                            .from(Outbox::Table, Outbox::TeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .col(pk_uuid(Webhooks::Id))
                    .col(uuid(Webhooks::TeamId))
                    .col(text(Webhooks::Url))
                    .col(string_len(Webhooks::Secret, 128))
                    .col(text(Webhooks::Events))
                    .col(boolean(Webhooks::Active).default(true))
                    .col(uuid_null(Webhooks::CreatedBy))
                    .col(timestamp_with_time_zone(Webhooks::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhooks_team")
                            .from(Webhooks::Table, Webhooks::TeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(pk_uuid(WebhookDeliveries::Id))
                    .col(uuid(WebhookDeliveries::TeamId))
                    .col(uuid(WebhookDeliveries::WebhookId))
                    .col(uuid(WebhookDeliveries::OutboxId))
                    .col(string_len(WebhookDeliveries::Event, 64))
                    .col(integer(WebhookDeliveries::Attempt))
                    .col(integer_null(WebhookDeliveries::StatusCode))
                    .col(text_null(WebhookDeliveries::Error))
                    .col(big_integer(WebhookDeliveries::DurationMs))
                    .col(timestamp_with_time_zone(WebhookDeliveries::AttemptedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_webhook")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::WebhookId)
                            .to(Webhooks::Table, Webhooks::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        run(
            manager.get_connection(),
            &[
                // The worker's search: only what still waits is in it.
                "CREATE INDEX ix_outbox_waiting ON outbox (available_at) \
                 WHERE delivered_at IS NULL AND failed_at IS NULL",
                "CREATE INDEX ix_webhooks_team ON webhooks (team_id)",
                "CREATE INDEX ix_webhook_deliveries_webhook ON webhook_deliveries (webhook_id, attempted_at)",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Webhooks::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Outbox::Table).to_owned()).await?;
        run(
            manager.get_connection(),
            &["ALTER TABLE users DROP COLUMN digest_sent_at", "ALTER TABLE users DROP COLUMN notification_settings"],
        )
        .await
    }
}

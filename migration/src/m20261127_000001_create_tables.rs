//! Every table of the gateway, with the indexes of the hot queries: key lookup by hash, fan-out
//! by (org, event type), the delivery claim by (status, due_at), logs by webhook, samples by
//! (org, event type) and pruning by age.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .if_not_exists()
                    .col(string(ApiKeys::Id).primary_key())
                    .col(string(ApiKeys::OrgId))
                    .col(string(ApiKeys::Name))
                    .col(string(ApiKeys::Prefix))
                    .col(string_uniq(ApiKeys::KeyHash))
                    .col(string(ApiKeys::Scopes))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_api_keys_org",
            ApiKeys::Table,
            &[ApiKeys::OrgId, ApiKeys::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .if_not_exists()
                    .col(string(Webhooks::Id).primary_key())
                    .col(string(Webhooks::OrgId))
                    .col(string(Webhooks::Name))
                    .col(text(Webhooks::Url))
                    .col(string_null(Webhooks::Secret))
                    .col(string(Webhooks::Status))
                    .col(string(Webhooks::Source))
                    .col(json_null(Webhooks::Filters))
                    .col(timestamp_with_time_zone(Webhooks::CreatedAt))
                    .col(timestamp_with_time_zone(Webhooks::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_webhooks_org",
            Webhooks::Table,
            &[Webhooks::OrgId, Webhooks::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookEvents::Table)
                    .if_not_exists()
                    .col(string(WebhookEvents::WebhookId))
                    .col(string(WebhookEvents::EventType))
                    .col(string(WebhookEvents::OrgId))
                    .primary_key(
                        Index::create()
                            .col(WebhookEvents::WebhookId)
                            .col(WebhookEvents::EventType),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookEvents::Table, WebhookEvents::WebhookId)
                            .to(Webhooks::Table, Webhooks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_webhook_events_fanout",
            WebhookEvents::Table,
            &[WebhookEvents::OrgId, WebhookEvents::EventType],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .if_not_exists()
                    .col(string(Events::Id).primary_key())
                    .col(string(Events::OrgId))
                    .col(string(Events::EventType))
                    .col(text(Events::Payload))
                    .col(timestamp_with_time_zone(Events::CreatedAt))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_events_samples",
            Events::Table,
            &[Events::OrgId, Events::EventType, Events::CreatedAt],
        )
        .await?;
        create_index(
            manager,
            "idx_events_created",
            Events::Table,
            &[Events::CreatedAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .if_not_exists()
                    .col(string(Deliveries::Id).primary_key())
                    .col(string(Deliveries::OrgId))
                    .col(string(Deliveries::EventId))
                    .col(string(Deliveries::WebhookId))
                    .col(string(Deliveries::EventType))
                    .col(string(Deliveries::Status))
                    .col(integer(Deliveries::Attempts))
                    .col(big_integer(Deliveries::DueAt))
                    .col(big_integer_null(Deliveries::LeaseUntil))
                    .col(integer_null(Deliveries::LastResponseCode))
                    .col(timestamp_with_time_zone(Deliveries::CreatedAt))
                    .col(timestamp_with_time_zone(Deliveries::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Deliveries::Table, Deliveries::EventId)
                            .to(Events::Table, Events::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Deliveries::Table, Deliveries::WebhookId)
                            .to(Webhooks::Table, Webhooks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_deliveries_due",
            Deliveries::Table,
            &[Deliveries::Status, Deliveries::DueAt],
        )
        .await?;
        create_index(
            manager,
            "idx_deliveries_webhook",
            Deliveries::Table,
            &[Deliveries::WebhookId, Deliveries::Id],
        )
        .await?;
        create_index(
            manager,
            "idx_deliveries_event",
            Deliveries::Table,
            &[Deliveries::EventId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(DeliveryAttempts::Table)
                    .if_not_exists()
                    .col(string(DeliveryAttempts::Id).primary_key())
                    .col(string(DeliveryAttempts::OrgId))
                    .col(string(DeliveryAttempts::DeliveryId))
                    .col(string(DeliveryAttempts::WebhookId))
                    .col(string(DeliveryAttempts::EventId))
                    .col(string(DeliveryAttempts::EventType))
                    .col(integer(DeliveryAttempts::Attempt))
                    .col(string(DeliveryAttempts::Status))
                    .col(integer_null(DeliveryAttempts::ResponseCode))
                    .col(big_integer(DeliveryAttempts::DurationMs))
                    .col(text_null(DeliveryAttempts::Error))
                    .col(text_null(DeliveryAttempts::ResponseBody))
                    .col(timestamp_with_time_zone(DeliveryAttempts::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DeliveryAttempts::Table, DeliveryAttempts::DeliveryId)
                            .to(Deliveries::Table, Deliveries::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_attempts_webhook",
            DeliveryAttempts::Table,
            &[DeliveryAttempts::WebhookId, DeliveryAttempts::Id],
        )
        .await?;
        create_index(
            manager,
            "idx_attempts_webhook_status",
            DeliveryAttempts::Table,
            &[
                DeliveryAttempts::WebhookId,
                DeliveryAttempts::Status,
                DeliveryAttempts::Id,
            ],
        )
        .await?;
        create_index(
            manager,
            "idx_attempts_webhook_event",
            DeliveryAttempts::Table,
            &[
                DeliveryAttempts::WebhookId,
                DeliveryAttempts::EventType,
                DeliveryAttempts::Id,
            ],
        )
        .await?;
        create_index(
            manager,
            "idx_attempts_delivery",
            DeliveryAttempts::Table,
            &[DeliveryAttempts::DeliveryId],
        )
        .await?;
        create_index(
            manager,
            "idx_attempts_created",
            DeliveryAttempts::Table,
            &[DeliveryAttempts::CreatedAt],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DeliveryAttempts::Table.into_iden(),
            Deliveries::Table.into_iden(),
            Events::Table.into_iden(),
            WebhookEvents::Table.into_iden(),
            Webhooks::Table.into_iden(),
            ApiKeys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn create_index<T, C>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[C],
) -> Result<(), DbErr>
where
    T: IntoIden + Copy + 'static,
    C: IntoIden + Copy + 'static,
{
    let mut index = Index::create();
    index.name(name).table(table).if_not_exists();
    for column in columns {
        index.col(*column);
    }
    manager.create_index(index.to_owned()).await
}

#[derive(DeriveIden, Clone, Copy)]
enum ApiKeys {
    Table,
    Id,
    OrgId,
    Name,
    Prefix,
    KeyHash,
    Scopes,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Webhooks {
    Table,
    Id,
    OrgId,
    Name,
    Url,
    Secret,
    Status,
    Source,
    Filters,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookEvents {
    Table,
    WebhookId,
    EventType,
    OrgId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Events {
    Table,
    Id,
    OrgId,
    EventType,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Deliveries {
    Table,
    Id,
    OrgId,
    EventId,
    WebhookId,
    EventType,
    Status,
    Attempts,
    DueAt,
    LeaseUntil,
    LastResponseCode,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum DeliveryAttempts {
    Table,
    Id,
    OrgId,
    DeliveryId,
    WebhookId,
    EventId,
    EventType,
    Attempt,
    Status,
    ResponseCode,
    DurationMs,
    Error,
    ResponseBody,
    CreatedAt,
}

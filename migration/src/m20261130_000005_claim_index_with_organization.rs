//! Workers are shared fairly between organizations: a claim skips the due deliveries of an
//! organization that already holds its share. The claim index carries `org_id` so that choice
//! is still made from the index alone.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD: &str = "idx_deliveries_claim";
const NEW: &str = "idx_deliveries_claim_org";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NEW)
                    .table(Deliveries::Table)
                    .if_not_exists()
                    .col(Deliveries::Status)
                    .col(Deliveries::DueAt)
                    .col(Deliveries::LeaseUntil)
                    .col(Deliveries::OrgId)
                    .col(Deliveries::WebhookId)
                    .col(Deliveries::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(OLD).table(Deliveries::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(OLD)
                    .table(Deliveries::Table)
                    .if_not_exists()
                    .col(Deliveries::Status)
                    .col(Deliveries::DueAt)
                    .col(Deliveries::LeaseUntil)
                    .col(Deliveries::WebhookId)
                    .col(Deliveries::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(NEW).table(Deliveries::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Deliveries {
    Table,
    Id,
    OrgId,
    WebhookId,
    Status,
    DueAt,
    LeaseUntil,
}

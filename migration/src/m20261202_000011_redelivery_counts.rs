//! Redelivery metered by the deliveries it queues: per organization and clock hour, how many
//! deliveries recover and replay queued, shared by every instance on the database.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RedeliveryCounts::Table)
                    .if_not_exists()
                    .col(string(RedeliveryCounts::OrgId))
                    .col(big_integer(RedeliveryCounts::Hour))
                    .col(big_integer(RedeliveryCounts::Queued))
                    .primary_key(
                        Index::create()
                            .col(RedeliveryCounts::OrgId)
                            .col(RedeliveryCounts::Hour),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RedeliveryCounts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum RedeliveryCounts {
    Table,
    OrgId,
    Hour,
    Queued,
}

//! Deleting a webhook answers at once: the row is marked deleted (gone for every query), and its
//! deliveries and attempts are purged afterwards in small batches. One cascading `DELETE` of a
//! busy webhook held the one SQLite writer, and everyone with it, for seconds.

use sea_orm_migration::{prelude::*, schema::timestamp_with_time_zone_null};

use crate::columns;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [timestamp_with_time_zone_null(Webhooks::DeletedAt)];
        columns::add(manager, Webhooks::Table, columns).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        columns::drop(manager, Webhooks::Table, [Webhooks::DeletedAt]).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Webhooks {
    Table,
    DeletedAt,
}

//! Per-webhook rate limits. `rate_limit` is the most deliveries per second the webhook's
//! receiver takes; `rate_next_us` is the earliest time (Unix microseconds) its next request may
//! go out, advanced by every instance that reserves send times, so the limit holds across all
//! the instances on one database.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            integer_null(Webhooks::RateLimit),
            big_integer_null(Webhooks::RateNextUs),
        ];
        columns::add(manager, Webhooks::Table, columns).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [Webhooks::RateLimit, Webhooks::RateNextUs];
        columns::drop(manager, Webhooks::Table, columns).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Webhooks {
    Table,
    RateLimit,
    RateNextUs,
}

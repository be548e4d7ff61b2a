//! Per-webhook rate limits. `rate_limit` is the most deliveries per second the webhook's
//! receiver takes; `rate_next_us` is the earliest time (Unix microseconds) its next request may
//! go out, advanced by every instance that reserves send times, so the limit holds across all
//! the instances on one database.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        for mut column in [
            integer_null(Webhooks::RateLimit),
            big_integer_null(Webhooks::RateNextUs),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Webhooks::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Webhooks::RateLimit, Webhooks::RateNextUs] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Webhooks::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Webhooks {
    Table,
    RateLimit,
    RateNextUs,
}

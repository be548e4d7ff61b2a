//! Webhook health and secret rotation. A webhook counts its deliveries that failed in a row
//! (and since when), so one that keeps failing can be disabled with the reason and time shown;
//! a rotated secret is kept, with the time it stops signing, so receivers have an overlap to
//! switch in.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        let columns = [
            integer(Webhooks::ConsecutiveFailures).default(0).to_owned(),
            timestamp_with_time_zone_null(Webhooks::FailingSince),
            text_null(Webhooks::DisabledReason),
            timestamp_with_time_zone_null(Webhooks::DisabledAt),
            text_null(Webhooks::PreviousSecret),
            timestamp_with_time_zone_null(Webhooks::PreviousSecretUntil),
        ];
        for mut column in columns {
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
        for column in [
            Webhooks::ConsecutiveFailures,
            Webhooks::FailingSince,
            Webhooks::DisabledReason,
            Webhooks::DisabledAt,
            Webhooks::PreviousSecret,
            Webhooks::PreviousSecretUntil,
        ] {
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
    ConsecutiveFailures,
    FailingSince,
    DisabledReason,
    DisabledAt,
    PreviousSecret,
    PreviousSecretUntil,
}

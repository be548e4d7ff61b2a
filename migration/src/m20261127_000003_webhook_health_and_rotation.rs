//! Webhook health and secret rotation. A webhook counts its deliveries that failed in a row
//! (and since when), so one that keeps failing can be disabled with the reason and time shown;
//! a rotated secret is kept, with the time it stops signing, so receivers have an overlap to
//! switch in.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            integer(Webhooks::ConsecutiveFailures).default(0).to_owned(),
            timestamp_with_time_zone_null(Webhooks::FailingSince),
            text_null(Webhooks::DisabledReason),
            timestamp_with_time_zone_null(Webhooks::DisabledAt),
            text_null(Webhooks::PreviousSecret),
            timestamp_with_time_zone_null(Webhooks::PreviousSecretUntil),
        ];
        columns::add(manager, Webhooks::Table, columns).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            Webhooks::ConsecutiveFailures,
            Webhooks::FailingSince,
            Webhooks::DisabledReason,
            Webhooks::DisabledAt,
            Webhooks::PreviousSecret,
            Webhooks::PreviousSecretUntil,
        ];
        columns::drop(manager, Webhooks::Table, columns).await
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

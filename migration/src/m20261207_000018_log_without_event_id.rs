//! A log row no longer repeats its event's id: its delivery holds it, and the log reads each
//! page's deliveries anyway (for their state now). Producers choose their ids, often long ones,
//! and the log holds a row per attempt.

use sea_orm_migration::{prelude::*, schema::string};

use crate::columns;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        columns::drop(
            manager,
            DeliveryAttempts::Table,
            [DeliveryAttempts::EventId],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let event_id = string(DeliveryAttempts::EventId).default("").to_owned();
        columns::add(manager, DeliveryAttempts::Table, [event_id]).await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE delivery_attempts SET event_id = (SELECT d.event_id FROM deliveries d \
                 WHERE d.id = delivery_attempts.delivery_id)",
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum DeliveryAttempts {
    Table,
    EventId,
}

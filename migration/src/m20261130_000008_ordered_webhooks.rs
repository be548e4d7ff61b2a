//! Ordered delivery: a webhook marked `ordered` gets its deliveries one at a time, in the order
//! the events were published. Deliveries waiting behind an earlier one are stored with a due
//! time no claim reaches (`domain::ordered::PARKED`) until the one ahead of them ends; the
//! webhook keeps the delivery now at the head of its line (`line_head`). The partial index holds
//! parked deliveries only, so finding the next in line costs nothing to other webhooks.

use sea_orm_migration::{
    prelude::*,
    schema::{boolean, string_null},
};

use crate::columns;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            boolean(Webhooks::Ordered).default(false).to_owned(),
            string_null(Webhooks::LineHead),
        ];
        columns::add(manager, Webhooks::Table, columns).await?;
        // The same text on SQLite and PostgreSQL; the literal is `domain::ordered::PARKED`.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS idx_deliveries_parked ON deliveries (webhook_id, id) \
                 WHERE due_at >= 253402300799999",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_deliveries_parked")
            .await?;
        let columns = [Webhooks::Ordered, Webhooks::LineHead];
        columns::drop(manager, Webhooks::Table, columns).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Webhooks {
    Table,
    Ordered,
    LineHead,
}

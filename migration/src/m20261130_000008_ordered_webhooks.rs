//! Ordered delivery: a webhook marked `ordered` gets its deliveries one at a time, in the order
//! the events were published. Deliveries waiting behind an earlier one are stored with a due
//! time no claim reaches (`domain::ordered::PARKED`) until the one ahead of them ends; the
//! webhook keeps the delivery now at the head of its line (`line_head`). The partial index holds
//! parked deliveries only, so finding the next in line costs nothing to other webhooks.

use sea_orm_migration::{
    prelude::*,
    schema::{boolean, string_null},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        for mut column in [
            boolean(Webhooks::Ordered).default(false).to_owned(),
            string_null(Webhooks::LineHead),
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
        for column in [Webhooks::Ordered, Webhooks::LineHead] {
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

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Ordered,
    LineHead,
}

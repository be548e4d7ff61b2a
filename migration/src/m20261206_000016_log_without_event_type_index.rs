//! The log's index by webhook and event type goes: a page filtered by event type is looked for
//! in a bounded stretch of the webhook's log (the index by webhook and id), so the index only
//! cost bytes in every row written.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_attempts_webhook_event")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_attempts_webhook_event \
                 ON delivery_attempts (webhook_id, event_type, id)",
            )
            .await?;
        Ok(())
    }
}

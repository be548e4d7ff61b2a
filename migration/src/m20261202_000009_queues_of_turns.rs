//! The tables of turns the claim takes work from (docs/architecture.md, "How the engine chooses
//! work"): `org_queues`, one row per organization with deliveries to claim, and
//! `webhook_queues`, one row per webhook with pending deliveries, each with the time its next
//! turn may come. Claims used to read the oldest due deliveries across every organization, so
//! one organization's backlog filled what every claim read.
//!
//! The covering claim index over every delivery is replaced by a partial index of pending
//! deliveries only, per webhook: a claim now reads a webhook's due deliveries, never all of them.
//! Existing pending deliveries are entered in the new tables.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const CLAIM_INDEX: &str = "idx_deliveries_claim_org";

/// The same text on SQLite and PostgreSQL. Queries name `status = 'pending'` as a literal, so
/// the database may use it (it must see that the query implies the index's condition).
const PENDING_INDEX: &str = "CREATE INDEX IF NOT EXISTS idx_deliveries_pending \
    ON deliveries (webhook_id, due_at) WHERE status = 'pending'";

/// Every pending delivery that is not parked behind an ordered line, by webhook: claimable at
/// its due time, or when its lease ends. (253402300799999 is `domain::ordered::PARKED`.)
const ENTER_WEBHOOKS: &str = "INSERT INTO webhook_queues (webhook_id, org_id, ready_at) \
    SELECT webhook_id, MIN(org_id), \
        MIN(CASE WHEN lease_until > due_at THEN lease_until ELSE due_at END) \
    FROM deliveries WHERE status = 'pending' AND due_at < 253402300799999 GROUP BY webhook_id";

const ENTER_ORGS: &str = "INSERT INTO org_queues (org_id, ready_at) \
    SELECT org_id, MIN(ready_at) FROM webhook_queues GROUP BY org_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OrgQueues::Table)
                    .if_not_exists()
                    .col(string(OrgQueues::OrgId).primary_key())
                    .col(big_integer(OrgQueues::ReadyAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookQueues::Table)
                    .if_not_exists()
                    .col(string(WebhookQueues::WebhookId).primary_key())
                    .col(string(WebhookQueues::OrgId))
                    .col(big_integer(WebhookQueues::ReadyAt))
                    .to_owned(),
            )
            .await?;
        let indexes = [
            Index::create()
                .name("idx_org_queues_turn")
                .table(OrgQueues::Table)
                .col(OrgQueues::ReadyAt)
                .col(OrgQueues::OrgId)
                .to_owned(),
            Index::create()
                .name("idx_webhook_queues_org_turn")
                .table(WebhookQueues::Table)
                .col(WebhookQueues::OrgId)
                .col(WebhookQueues::ReadyAt)
                .col(WebhookQueues::WebhookId)
                .to_owned(),
            Index::create()
                .name("idx_webhook_queues_turn")
                .table(WebhookQueues::Table)
                .col(WebhookQueues::ReadyAt)
                .to_owned(),
        ];
        for mut index in indexes {
            manager
                .create_index(index.if_not_exists().to_owned())
                .await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared(PENDING_INDEX).await?;
        db.execute_unprepared(ENTER_WEBHOOKS).await?;
        db.execute_unprepared(ENTER_ORGS).await?;
        manager
            .drop_index(
                Index::drop()
                    .name(CLAIM_INDEX)
                    .table(Deliveries::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(CLAIM_INDEX)
                    .table(Deliveries::Table)
                    .if_not_exists()
                    .col(Deliveries::Status)
                    .col(Deliveries::DueAt)
                    .col(Deliveries::LeaseUntil)
                    .col(Deliveries::OrgId)
                    .col(Deliveries::WebhookId)
                    .col(Deliveries::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_deliveries_pending")
            .await?;
        for table in [
            OrgQueues::Table.into_iden(),
            WebhookQueues::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum OrgQueues {
    Table,
    OrgId,
    ReadyAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookQueues {
    Table,
    WebhookId,
    OrgId,
    ReadyAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Deliveries {
    Table,
    OrgId,
    WebhookId,
    Status,
    DueAt,
    LeaseUntil,
    Id,
}

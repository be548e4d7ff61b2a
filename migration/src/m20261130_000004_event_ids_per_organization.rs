//! Event ids are the producers' own (`wamid.123`), so they are unique per organization, not
//! across the gateway: one organization publishing an id first must neither block another's
//! event nor learn that the id exists. The events table's key becomes (organization, id), and
//! deliveries refer to their event by both.
//!
//! PostgreSQL changes the keys in place. SQLite cannot change a primary key, so both tables are
//! rebuilt and their rows copied, with foreign keys off meanwhile (dropping a parent table would
//! otherwise cascade into its children) and checked before the commit.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES: &[&str] = &[
    "ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_id_fkey",
    "ALTER TABLE events DROP CONSTRAINT events_pkey",
    "ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (org_id, id)",
    "DROP INDEX idx_deliveries_event",
    "CREATE INDEX idx_deliveries_event ON deliveries (org_id, event_id)",
    "ALTER TABLE deliveries ADD CONSTRAINT deliveries_event_fkey FOREIGN KEY (org_id, event_id) \
     REFERENCES events (org_id, id) ON DELETE CASCADE",
];

const SQLITE: &[&str] = &[
    r#"CREATE TABLE "events_new" ( "id" varchar NOT NULL, "org_id" varchar NOT NULL,
        "event_type" varchar NOT NULL, "payload" text NOT NULL,
        "created_at" timestamp_with_timezone_text NOT NULL, PRIMARY KEY ("org_id", "id") )"#,
    r#"INSERT INTO "events_new" ("id", "org_id", "event_type", "payload", "created_at")
        SELECT "id", "org_id", "event_type", "payload", "created_at" FROM "events""#,
    r#"DROP TABLE "events""#,
    r#"ALTER TABLE "events_new" RENAME TO "events""#,
    r#"CREATE INDEX "idx_events_samples" ON "events" ("org_id", "event_type", "created_at")"#,
    r#"CREATE INDEX "idx_events_created" ON "events" ("created_at")"#,
    r#"CREATE TABLE "deliveries_new" ( "id" varchar NOT NULL PRIMARY KEY,
        "org_id" varchar NOT NULL, "event_id" varchar NOT NULL, "webhook_id" varchar NOT NULL,
        "event_type" varchar NOT NULL, "status" varchar NOT NULL, "attempts" integer NOT NULL,
        "due_at" integer NOT NULL, "lease_until" integer NULL, "last_response_code" integer NULL,
        "created_at" timestamp_with_timezone_text NOT NULL,
        "updated_at" timestamp_with_timezone_text NOT NULL,
        FOREIGN KEY ("org_id", "event_id") REFERENCES "events" ("org_id", "id") ON DELETE CASCADE,
        FOREIGN KEY ("webhook_id") REFERENCES "webhooks" ("id") ON DELETE CASCADE )"#,
    r#"INSERT INTO "deliveries_new" SELECT "id", "org_id", "event_id", "webhook_id",
        "event_type", "status", "attempts", "due_at", "lease_until", "last_response_code",
        "created_at", "updated_at" FROM "deliveries""#,
    r#"DROP TABLE "deliveries""#,
    r#"ALTER TABLE "deliveries_new" RENAME TO "deliveries""#,
    r#"CREATE INDEX "idx_deliveries_webhook" ON "deliveries" ("webhook_id", "id")"#,
    r#"CREATE INDEX "idx_deliveries_event" ON "deliveries" ("org_id", "event_id")"#,
    r#"CREATE INDEX "idx_deliveries_claim" ON "deliveries"
        ("status", "due_at", "lease_until", "webhook_id", "id")"#,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::rebuild::per_backend(manager, SQLITE, POSTGRES).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "event ids may repeat across organizations now; they cannot become global again".into(),
        ))
    }
}

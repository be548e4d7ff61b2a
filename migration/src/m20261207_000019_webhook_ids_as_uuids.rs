//! A webhook's id is stored as its UUID alone, 16 bytes, as deliveries' and log rows' ids are
//! since migration 17: every delivery and every log row holds its webhook's id, and so does
//! each entry of their indexes by webhook, the ones the claim and the log read. It was 35
//! characters of text (`wh_` and 32 hex digits); the API still shows it that way.
//!
//! PostgreSQL changes the columns in place, with the foreign keys to `webhooks` dropped
//! meanwhile (a key and its reference must have one type). SQLite cannot change a column's
//! type: the six tables are rebuilt and their rows copied.

use sea_orm_migration::prelude::*;

use crate::m20261207_000017_compact_delivery_rows::SQLITE_DELIVERY_INDEXES;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `column`'s webhook id, shown as `wh_` and 32 hex digits, as a `uuid`.
macro_rules! pg_uuid {
    ($column:literal) => {
        concat!(
            "ALTER COLUMN ",
            $column,
            " TYPE uuid USING substr(",
            $column,
            ", 4)::uuid"
        )
    };
}

const POSTGRES: &[&str] = &[
    "ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_webhook_id_fkey",
    "ALTER TABLE deliveries DROP CONSTRAINT deliveries_webhook_id_fkey",
    concat!("ALTER TABLE webhooks ", pg_uuid!("id")),
    concat!("ALTER TABLE webhook_events ", pg_uuid!("webhook_id")),
    concat!("ALTER TABLE webhook_queues ", pg_uuid!("webhook_id")),
    concat!("ALTER TABLE webhook_hours ", pg_uuid!("webhook_id")),
    concat!("ALTER TABLE deliveries ", pg_uuid!("webhook_id")),
    concat!("ALTER TABLE delivery_attempts ", pg_uuid!("webhook_id")),
    "ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_webhook_id_fkey \
     FOREIGN KEY (webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE",
    "ALTER TABLE deliveries ADD CONSTRAINT deliveries_webhook_id_fkey \
     FOREIGN KEY (webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE",
];

/// The 16 bytes of a webhook id SQLite stored as text.
macro_rules! sqlite_uuid {
    ($column:literal) => {
        concat!("unhex(substr(\"", $column, "\", 4))")
    };
}

const SQLITE: &[&str] = &[
    r#"CREATE TABLE "webhooks_new" ( "id" blob NOT NULL PRIMARY KEY, "org_id" varchar NOT NULL,
        "name" varchar NOT NULL, "url" text NOT NULL, "secret" varchar NULL,
        "status" varchar NOT NULL, "source" varchar NOT NULL, "filters" json_text NULL,
        "created_at" timestamp_with_timezone_text NOT NULL,
        "updated_at" timestamp_with_timezone_text NOT NULL,
        "consecutive_failures" integer NOT NULL DEFAULT 0,
        "failing_since" timestamp_with_timezone_text NULL, "disabled_reason" text NULL,
        "disabled_at" timestamp_with_timezone_text NULL, "previous_secret" text NULL,
        "previous_secret_until" timestamp_with_timezone_text NULL, "rate_limit" integer NULL,
        "rate_next_us" integer NULL, "ordered" boolean NOT NULL DEFAULT FALSE,
        "line_head" varchar NULL, "deleted_at" timestamp_with_timezone_text NULL )"#,
    concat!(
        r#"INSERT INTO "webhooks_new" SELECT "#,
        sqlite_uuid!("id"),
        r#", "org_id", "name", "url", "secret", "status", "source", "filters", "created_at",
        "updated_at", "consecutive_failures", "failing_since", "disabled_reason", "disabled_at",
        "previous_secret", "previous_secret_until", "rate_limit", "rate_next_us", "ordered",
        "line_head", "deleted_at" FROM "webhooks""#
    ),
    r#"CREATE TABLE "webhook_events_new" ( "webhook_id" blob NOT NULL,
        "event_type" varchar NOT NULL, "org_id" varchar NOT NULL,
        PRIMARY KEY ("webhook_id", "event_type"),
        FOREIGN KEY ("webhook_id") REFERENCES "webhooks" ("id") ON DELETE CASCADE )"#,
    concat!(
        r#"INSERT INTO "webhook_events_new" SELECT "#,
        sqlite_uuid!("webhook_id"),
        r#", "event_type", "org_id" FROM "webhook_events""#
    ),
    r#"CREATE TABLE "webhook_queues_new" ( "webhook_id" blob NOT NULL PRIMARY KEY,
        "org_id" varchar NOT NULL, "ready_at" integer NOT NULL )"#,
    concat!(
        r#"INSERT INTO "webhook_queues_new" SELECT "#,
        sqlite_uuid!("webhook_id"),
        r#", "org_id", "ready_at" FROM "webhook_queues""#
    ),
    r#"CREATE TABLE "webhook_hours_new" ( "webhook_id" blob NOT NULL, "hour" integer NOT NULL,
        "org_id" varchar NOT NULL, "delivered" integer NOT NULL, "pending" integer NOT NULL,
        "failed" integer NOT NULL, "under_5ms" integer NOT NULL, "under_10ms" integer NOT NULL,
        "under_25ms" integer NOT NULL, "under_50ms" integer NOT NULL,
        "under_100ms" integer NOT NULL, "under_250ms" integer NOT NULL,
        "under_500ms" integer NOT NULL, "under_1s" integer NOT NULL,
        "under_2500ms" integer NOT NULL, "under_5s" integer NOT NULL,
        "under_10s" integer NOT NULL, "over_10s" integer NOT NULL, "max_ms" integer NOT NULL,
        PRIMARY KEY ("webhook_id", "hour") )"#,
    concat!(
        r#"INSERT INTO "webhook_hours_new" SELECT "#,
        sqlite_uuid!("webhook_id"),
        r#", "hour", "org_id", "delivered", "pending", "failed", "under_5ms", "under_10ms",
        "under_25ms", "under_50ms", "under_100ms", "under_250ms", "under_500ms", "under_1s",
        "under_2500ms", "under_5s", "under_10s", "over_10s", "max_ms" FROM "webhook_hours""#
    ),
    r#"CREATE TABLE "deliveries_new" ( "id" blob NOT NULL PRIMARY KEY,
        "org_id" varchar NOT NULL, "event_id" varchar NOT NULL, "webhook_id" blob NOT NULL,
        "event_type" varchar NOT NULL, "status" varchar NOT NULL, "attempts" integer NOT NULL,
        "due_at" integer NOT NULL, "lease_until" integer NULL, "last_response_code" integer NULL,
        "created_at" integer NOT NULL, "updated_at" integer NOT NULL,
        "replay" boolean NOT NULL DEFAULT FALSE, "leases" integer NOT NULL DEFAULT 0,
        "schedule_from" integer NOT NULL DEFAULT 0,
        FOREIGN KEY ("org_id", "event_id") REFERENCES "events" ("org_id", "id") ON DELETE CASCADE,
        FOREIGN KEY ("webhook_id") REFERENCES "webhooks" ("id") ON DELETE CASCADE )"#,
    concat!(
        r#"INSERT INTO "deliveries_new" SELECT "id", "org_id", "event_id", "#,
        sqlite_uuid!("webhook_id"),
        r#", "event_type", "status", "attempts", "due_at", "lease_until", "last_response_code",
        "created_at", "updated_at", "replay", "leases", "schedule_from" FROM "deliveries""#
    ),
    r#"CREATE TABLE "delivery_attempts_new" ( "id" blob NOT NULL PRIMARY KEY,
        "org_id" varchar NOT NULL, "delivery_id" blob NOT NULL, "webhook_id" blob NOT NULL,
        "event_type" varchar NOT NULL, "attempt" integer NOT NULL,
        "status" varchar NOT NULL, "response_code" integer NULL, "duration_ms" integer NOT NULL,
        "error" text NULL, "response_body" text NULL, "created_at" integer NOT NULL,
        FOREIGN KEY ("delivery_id") REFERENCES "deliveries" ("id") ON DELETE CASCADE )"#,
    concat!(
        r#"INSERT INTO "delivery_attempts_new" SELECT "id", "org_id", "delivery_id", "#,
        sqlite_uuid!("webhook_id"),
        r#", "event_type", "attempt", "status", "response_code", "duration_ms", "error",
        "response_body", "created_at" FROM "delivery_attempts""#
    ),
    r#"DROP TABLE "delivery_attempts""#,
    r#"DROP TABLE "deliveries""#,
    r#"DROP TABLE "webhook_hours""#,
    r#"DROP TABLE "webhook_queues""#,
    r#"DROP TABLE "webhook_events""#,
    r#"DROP TABLE "webhooks""#,
    r#"ALTER TABLE "webhooks_new" RENAME TO "webhooks""#,
    r#"ALTER TABLE "webhook_events_new" RENAME TO "webhook_events""#,
    r#"ALTER TABLE "webhook_queues_new" RENAME TO "webhook_queues""#,
    r#"ALTER TABLE "webhook_hours_new" RENAME TO "webhook_hours""#,
    r#"ALTER TABLE "deliveries_new" RENAME TO "deliveries""#,
    r#"ALTER TABLE "delivery_attempts_new" RENAME TO "delivery_attempts""#,
    r#"CREATE INDEX "idx_webhooks_org" ON "webhooks" ("org_id", "id")"#,
    r#"CREATE INDEX "idx_webhook_events_fanout" ON "webhook_events" ("org_id", "event_type")"#,
    r#"CREATE INDEX "idx_webhook_queues_org_turn" ON "webhook_queues"
        ("org_id", "ready_at", "webhook_id")"#,
    r#"CREATE INDEX "idx_webhook_queues_turn" ON "webhook_queues" ("ready_at")"#,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sqlite = [SQLITE, SQLITE_DELIVERY_INDEXES].concat();
        crate::rebuild::per_backend(manager, &sqlite, POSTGRES).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "webhooks' ids are stored as 16 bytes now; this gateway version cannot read them as \
             text again"
                .into(),
        ))
    }
}

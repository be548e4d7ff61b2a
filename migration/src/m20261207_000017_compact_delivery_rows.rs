//! Deliveries and their log rows are what a deployment keeps millions of, so their ids and
//! times take fewer bytes. A delivery's and a log row's id was 36 characters of text (`dlv_` or
//! `att_` and a UUID's 32 hex digits) and sits in each row and in three or four index entries:
//! now the UUID alone, 16 bytes (`uuid` on PostgreSQL, a blob on SQLite); the API still shows it
//! with its prefix. Their times were about 30 characters of text on SQLite: now Unix
//! milliseconds, as `due_at` already was (PostgreSQL's 8-byte timestamps become 8-byte integers,
//! so the same code reads both).
//!
//! PostgreSQL changes the columns in place (and rebuilds their indexes). SQLite cannot change a
//! column's type: both tables are rebuilt and their rows copied. (As `WITHOUT ROWID` tables
//! they saved 2 % more, too little to change how SQLite stores its two largest tables:
//! bench/README.md.)

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Unix milliseconds of a `timestamptz` column.
macro_rules! pg_millis {
    ($column:literal) => {
        concat!(
            "ALTER COLUMN ",
            $column,
            " TYPE bigint USING round(extract(epoch FROM ",
            $column,
            ") * 1000)::bigint"
        )
    };
}

const POSTGRES: &[&str] = &[
    "ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_delivery_id_fkey",
    concat!(
        "ALTER TABLE deliveries ALTER COLUMN id TYPE uuid USING substr(id, 5)::uuid, ",
        pg_millis!("created_at"),
        ", ",
        pg_millis!("updated_at")
    ),
    concat!(
        "ALTER TABLE delivery_attempts ALTER COLUMN id TYPE uuid USING substr(id, 5)::uuid, ",
        "ALTER COLUMN delivery_id TYPE uuid USING substr(delivery_id, 5)::uuid, ",
        pg_millis!("created_at")
    ),
    "ALTER TABLE delivery_attempts ADD CONSTRAINT delivery_attempts_delivery_id_fkey \
     FOREIGN KEY (delivery_id) REFERENCES deliveries (id) ON DELETE CASCADE",
];

/// Unix milliseconds of a time SQLite stored as RFC 3339 text (`julianday` reads it; its
/// precision is well under a millisecond, so rounding gives the stored millisecond).
macro_rules! sqlite_millis {
    ($column:literal) => {
        concat!(
            "CAST(ROUND((julianday(\"",
            $column,
            "\") - 2440587.5) * 86400000.0) AS INTEGER)"
        )
    };
}

const SQLITE: &[&str] = &[
    r#"CREATE TABLE "deliveries_new" ( "id" blob NOT NULL PRIMARY KEY,
        "org_id" varchar NOT NULL, "event_id" varchar NOT NULL, "webhook_id" varchar NOT NULL,
        "event_type" varchar NOT NULL, "status" varchar NOT NULL, "attempts" integer NOT NULL,
        "due_at" integer NOT NULL, "lease_until" integer NULL, "last_response_code" integer NULL,
        "created_at" integer NOT NULL, "updated_at" integer NOT NULL,
        "replay" boolean NOT NULL DEFAULT FALSE, "leases" integer NOT NULL DEFAULT 0,
        "schedule_from" integer NOT NULL DEFAULT 0,
        FOREIGN KEY ("org_id", "event_id") REFERENCES "events" ("org_id", "id") ON DELETE CASCADE,
        FOREIGN KEY ("webhook_id") REFERENCES "webhooks" ("id") ON DELETE CASCADE )"#,
    concat!(
        r#"INSERT INTO "deliveries_new" SELECT unhex(substr("id", 5)), "org_id", "event_id",
        "webhook_id", "event_type", "status", "attempts", "due_at", "lease_until",
        "last_response_code", "#,
        sqlite_millis!("created_at"),
        ", ",
        sqlite_millis!("updated_at"),
        r#", "replay", "leases", "schedule_from" FROM "deliveries""#
    ),
    r#"CREATE TABLE "delivery_attempts_new" ( "id" blob NOT NULL PRIMARY KEY,
        "org_id" varchar NOT NULL, "delivery_id" blob NOT NULL, "webhook_id" varchar NOT NULL,
        "event_id" varchar NOT NULL, "event_type" varchar NOT NULL, "attempt" integer NOT NULL,
        "status" varchar NOT NULL, "response_code" integer NULL, "duration_ms" integer NOT NULL,
        "error" text NULL, "response_body" text NULL, "created_at" integer NOT NULL,
        FOREIGN KEY ("delivery_id") REFERENCES "deliveries" ("id") ON DELETE CASCADE )"#,
    concat!(
        r#"INSERT INTO "delivery_attempts_new" SELECT unhex(substr("id", 5)), "org_id",
        unhex(substr("delivery_id", 5)), "webhook_id", "event_id", "event_type", "attempt",
        "status", "response_code", "duration_ms", "error", "response_body", "#,
        sqlite_millis!("created_at"),
        r#" FROM "delivery_attempts""#
    ),
    r#"DROP TABLE "delivery_attempts""#,
    r#"DROP TABLE "deliveries""#,
    r#"ALTER TABLE "deliveries_new" RENAME TO "deliveries""#,
    r#"ALTER TABLE "delivery_attempts_new" RENAME TO "delivery_attempts""#,
];

/// The indexes of `deliveries` and `delivery_attempts` on SQLite since this migration: a
/// rebuild of those tables (this one, migration 19's) makes them again.
pub(crate) const SQLITE_DELIVERY_INDEXES: &[&str] = &[
    r#"CREATE INDEX "idx_deliveries_webhook" ON "deliveries" ("webhook_id", "id")"#,
    r#"CREATE INDEX "idx_deliveries_event" ON "deliveries" ("org_id", "event_id")"#,
    "CREATE INDEX idx_deliveries_parked ON deliveries (webhook_id, id) \
     WHERE due_at >= 253402300799999",
    "CREATE INDEX idx_deliveries_pending ON deliveries (webhook_id, due_at) \
     WHERE status = 'pending'",
    r#"CREATE INDEX "idx_attempts_webhook" ON "delivery_attempts" ("webhook_id", "id")"#,
    r#"CREATE INDEX "idx_attempts_delivery" ON "delivery_attempts" ("delivery_id")"#,
    "CREATE INDEX idx_attempts_webhook_status ON delivery_attempts (webhook_id, status, id) \
     WHERE status <> 'delivered'",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sqlite = [SQLITE, SQLITE_DELIVERY_INDEXES].concat();
        crate::rebuild::per_backend(manager, &sqlite, POSTGRES).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "deliveries' ids and times are stored compactly now; this gateway version cannot \
             read them as text again"
                .into(),
        ))
    }
}

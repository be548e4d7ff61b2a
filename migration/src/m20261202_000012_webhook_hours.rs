//! A webhook's attempts counted per clock hour as they are recorded, so its last day's chart
//! reads 24 rows instead of every attempt of the day (a busy webhook's took a second, on the
//! connection everyone shares on SQLite). The last day already logged is counted in.

use sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Duration buckets: each column counts the attempts shorter than its bound (ms).
const BUCKETS: [(&str, Option<i64>); 12] = [
    ("under_5ms", Some(5)),
    ("under_10ms", Some(10)),
    ("under_25ms", Some(25)),
    ("under_50ms", Some(50)),
    ("under_100ms", Some(100)),
    ("under_250ms", Some(250)),
    ("under_500ms", Some(500)),
    ("under_1s", Some(1000)),
    ("under_2500ms", Some(2500)),
    ("under_5s", Some(5000)),
    ("under_10s", Some(10000)),
    ("over_10s", None),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(WebhookHours::Table)
            .if_not_exists()
            .col(string(WebhookHours::WebhookId))
            .col(big_integer(WebhookHours::Hour))
            .col(string(WebhookHours::OrgId))
            .col(big_integer(WebhookHours::Delivered))
            .col(big_integer(WebhookHours::Pending))
            .col(big_integer(WebhookHours::Failed));
        for (name, _) in BUCKETS {
            table.col(big_integer(Alias::new(name)));
        }
        table.col(big_integer(WebhookHours::MaxMs)).primary_key(
            Index::create()
                .col(WebhookHours::WebhookId)
                .col(WebhookHours::Hour),
        );
        manager.create_table(table.to_owned()).await?;
        let db = manager.get_connection();
        db.execute_unprepared(&backfill(db.get_database_backend()))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookHours::Table).to_owned())
            .await
    }
}

/// Counts the attempts of the last 25 hours into their hours.
fn backfill(backend: DbBackend) -> String {
    let (hour, since) = match backend {
        DbBackend::Postgres => (
            "CAST(FLOOR(EXTRACT(EPOCH FROM created_at) / 3600) AS BIGINT)",
            "created_at >= NOW() - INTERVAL '25 hours'",
        ),
        _ => (
            "CAST(strftime('%s', created_at) AS INTEGER) / 3600",
            "created_at >= strftime('%Y-%m-%dT%H:%M:%S', 'now', '-25 hours')",
        ),
    };
    let mut lower = 0;
    let buckets: Vec<String> = BUCKETS
        .iter()
        .map(|(_, upper)| {
            let test = match upper {
                Some(upper) => format!("duration_ms >= {lower} AND duration_ms < {upper}"),
                None => format!("duration_ms >= {lower}"),
            };
            lower = upper.unwrap_or(lower);
            format!("SUM(CASE WHEN {test} THEN 1 ELSE 0 END)")
        })
        .collect();
    let names: Vec<&str> = BUCKETS.iter().map(|(name, _)| *name).collect();
    format!(
        "INSERT INTO webhook_hours (webhook_id, hour, org_id, delivered, pending, failed, {}, max_ms) \
         SELECT webhook_id, {hour}, MIN(org_id), \
             SUM(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), \
             {}, MAX(duration_ms) \
         FROM delivery_attempts WHERE {since} GROUP BY webhook_id, {hour}",
        names.join(", "),
        buckets.join(", ")
    )
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookHours {
    Table,
    WebhookId,
    Hour,
    OrgId,
    Delivered,
    Pending,
    Failed,
    MaxMs,
}

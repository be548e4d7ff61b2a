//! `--profile year`: the same customer reads on an empty gateway and on one holding a loaded
//! history (`history.rs`), side by side in one run, and what the history costs on disk per
//! delivery. The load's own time is reported and kept out of every other figure.

use std::{
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use sea_orm::ConnectionTrait;

use crate::{
    Args, Db, Sizes,
    gateway::{Gateway, NewDatabase, drop_new_database, gateway_bin, new_database, start_on},
    history::{self, HistorySize, Loaded},
    raw,
    receiver::Receiver,
    report::{Row, row},
    year_traffic::{compared, pruning, traffic},
};

/// Requests per read, after a warm-up of a tenth as many.
const SAMPLES: usize = 1_000;

/// A customer read: a name and the path, given the loaded (or seeded) names.
struct Read {
    name: &'static str,
    path: String,
}

fn reads(target: &Loaded) -> Vec<Read> {
    let (webhook, (since, until)) = (&target.webhook, &target.range);
    let read = |name, path: String| Read { name, path };
    vec![
        read("list webhooks", "/api/webhooks".into()),
        read("logs, first page", format!("/api/webhooks/{webhook}/logs")),
        read(
            "logs, status=failed",
            format!("/api/webhooks/{webhook}/logs?status=failed"),
        ),
        read(
            "logs, an hour's range",
            format!("/api/webhooks/{webhook}/logs?since={since}&until={until}"),
        ),
        read(
            "logs, a deep cursor",
            format!("/api/webhooks/{webhook}/logs?cursor={}", target.cursor),
        ),
        read(
            "find by event id",
            format!("/api/logs?search={}", target.event_id),
        ),
        read(
            "stats of the busiest webhook",
            format!("/api/webhooks/{webhook}/stats"),
        ),
        read("describe", "/api/integrations/describe".into()),
        read(
            "samples",
            "/api/integrations/triggers/message.received/samples".into(),
        ),
    ]
}

/// Milliseconds at the 50th and 99th percentiles of `SAMPLES` sequential requests.
async fn percentiles(gateway: &Gateway, key: &str, path: &str) -> anyhow::Result<(f64, f64)> {
    let url = format!(
        "{}{}",
        gateway.base,
        path.replace(' ', "%20").replace('+', "%2B")
    );
    let mut took = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES + SAMPLES / 10 {
        let started = Instant::now();
        let answer = gateway.client.get(&url).bearer_auth(key).send().await?;
        let status = answer.status();
        answer.bytes().await?;
        anyhow::ensure!(status.is_success(), "GET {path}: {status}");
        if i >= SAMPLES / 10 {
            took.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    took.sort_by(f64::total_cmp);
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    Ok((at(0.5), at(0.99)))
}

fn key_for(database_url: &str, org: &str) -> anyhow::Result<String> {
    let made = Command::new(gateway_bin()?)
        .args(["api-key", "create", "--org", org, "--name", "year"])
        .args(["--scopes", "webhooks,integrations"])
        .env("KAANHA_DATABASE_URL", database_url)
        .output()?;
    anyhow::ensure!(
        made.status.success(),
        "api-key create: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    Ok(String::from_utf8(made.stdout)?.trim().to_owned())
}

/// Bytes the database keeps per delivery (tables and indexes, after a checkpoint on SQLite and
/// `VACUUM ANALYZE` on PostgreSQL), with the share of each table and index.
async fn bytes_per_delivery(
    database_url: &str,
    db: Db,
    deliveries: u64,
) -> anyhow::Result<(f64, String)> {
    let conn = sea_orm::Database::connect(database_url).await?;
    let sql = match db {
        Db::Sqlite => {
            conn.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
            "SELECT name AS name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY 2 DESC"
        }
        Db::Postgres => {
            // Then a checkpoint: the load's writes are not flushed during the reads measured.
            conn.execute_unprepared("VACUUM ANALYZE").await?;
            conn.execute_unprepared("CHECKPOINT").await?;
            "SELECT c.relname AS name, pg_relation_size(c.oid) AS bytes FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 't') ORDER BY 2 DESC"
        }
    };
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            sql,
        ))
        .await?;
    let mut total = 0i64;
    let mut parts = Vec::new();
    for row in rows {
        let (name, bytes): (String, i64) = (row.try_get("", "name")?, row.try_get("", "bytes")?);
        total += bytes;
        if bytes * 100 >= 1 {
            parts.push((name, bytes));
        }
    }
    let per = |b: i64| b as f64 / deliveries.max(1) as f64;
    let shown: Vec<String> = parts
        .iter()
        .filter(|(_, b)| *b * 50 >= total)
        .map(|(name, b)| format!("{name} {:.0}", per(*b)))
        .collect();
    Ok((per(total), shown.join(", ")))
}

/// A new database, migrated, holding `size` of history.
async fn loaded(
    args: &Args,
    size: HistorySize,
    receiver: &str,
) -> anyhow::Result<(NewDatabase, Loaded)> {
    let database = new_database(args).await?;
    let migrated = Command::new(gateway_bin()?)
        .arg("migrate")
        .env("KAANHA_DATABASE_URL", &database.0)
        .output()?;
    anyhow::ensure!(
        migrated.status.success(),
        "migrate: {}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    // One connection: the loader's settings are per connection.
    let mut options = sea_orm::ConnectOptions::new(&database.0);
    options.max_connections(1).min_connections(1);
    let conn = sea_orm::Database::connect(options).await?;
    let loaded = history::load(&conn, size, receiver).await?;
    conn.close().await?;
    Ok((database, loaded))
}

pub async fn year(
    args: &Args,
    receiver: &str,
    counts: &Arc<Receiver>,
    sizes: Sizes,
) -> anyhow::Result<Vec<Row>> {
    let size = if args.quick {
        HistorySize::QUICK
    } else {
        HistorySize::FULL
    };
    let (ceiling_row, ceiling) = raw::measure(receiver, sizes.raw)?;
    let mut rows = vec![ceiling_row];

    // The empty side: a database holding a page of each read, no more.
    let (database, empty_target) = loaded(args, HistorySize::NEARLY_EMPTY, receiver).await?;
    let mut empty = start_on(args, database).await?;
    let empty_key = key_for(&empty.database_url, &empty_target.org)?;
    let mut empty_figures = Vec::new();
    for read in reads(&empty_target) {
        empty_figures.push(percentiles(&empty, &empty_key, &read.path).await?);
    }
    let empty_traffic = traffic(&empty, counts, args.db, sizes, ceiling, "year-empty").await?;
    empty.drop_database().await;
    drop(empty);

    // The storage of a fan-out (the shape measured from outside), on a database of its own.
    let (database, _) = loaded(args, HistorySize::FAN_OUT, receiver).await?;
    let deliveries = HistorySize::FAN_OUT.deliveries;
    let (bytes, shares) = bytes_per_delivery(&database.0, args.db, deliveries).await?;
    let mut disk = row(
        "year: on-disk bytes per delivery, 10,000 events to 20 webhooks",
        deliveries,
        Duration::from_secs(1),
        None,
    );
    disk.detail = format!("{bytes:.0} B per delivery; by table and index: {shares}");
    rows.push(disk);
    drop_new_database(database).await?;

    // The history side: migrate, load, then start the gateway on it.
    let (database, loaded) = loaded(args, size, receiver).await?;
    let mut load = row(
        &format!(
            "year: history loaded ({} organizations, {} webhooks, {} days)",
            size.orgs, size.webhooks, size.days
        ),
        size.deliveries,
        loaded.took,
        None,
    );
    load.detail = format!(
        "{} due on rate-limited webhooks; load time kept out of every figure",
        size.backlog
    );
    rows.push(load);

    // The reads come before the history is analyzed (for its bytes, below): on PostgreSQL
    // their plans are made without statistics, as on a server whose autovacuum is off or
    // behind. Only the load's writes are flushed first, so that the reads do not pay for them.
    let mut history = start_on(args, database).await?;
    history.checkpoint().await?;
    let key = key_for(&history.database_url, &loaded.org)?;
    for (read, (p50_empty, p99_empty)) in reads(&loaded).into_iter().zip(empty_figures) {
        let started = Instant::now();
        let (p50, p99) = percentiles(&history, &key, &read.path).await?;
        let mut r = row(
            &format!("year: {}", read.name),
            SAMPLES as u64,
            started.elapsed(),
            None,
        );
        r.detail = format!(
            "history p50 {p50:.1} ms, p99 {p99:.1} ms; empty p50 {p50_empty:.1} ms, p99 {p99_empty:.1} ms; p99 history ÷ empty {:.2}",
            p99 / p99_empty.max(0.001)
        );
        rows.push(r);
    }
    let (bytes, shares) =
        bytes_per_delivery(&history.database_url, args.db, size.deliveries).await?;
    let mut disk = row(
        "year: on-disk bytes per delivery, the history (tables and indexes)",
        size.deliveries,
        Duration::from_secs(1),
        None,
    );
    disk.detail = format!("{bytes:.0} B per delivery; by table and index: {shares}");
    rows.push(disk);
    // An error from here on is reported beside the figures already measured, not instead of
    // them: the full size takes the better part of an hour to reach this point.
    let live = async {
        let history_traffic =
            traffic(&history, counts, args.db, sizes, ceiling, "year-history").await?;
        let unpruned = history_traffic.steady_detail.clone();
        let mut rows = compared(history_traffic, empty_traffic, args.db);
        let seconds = sizes.steady_seconds;
        rows.push(pruning(args, &mut history, counts, size.days, seconds, &unpruned).await?);
        anyhow::Ok(rows)
    };
    match live.await {
        Ok(live) => rows.extend(live),
        Err(err) => {
            let mut failed = row(
                "year: traffic on the history",
                0,
                Duration::from_secs(1),
                None,
            );
            failed.detail = format!("FAILED: {err:#}");
            rows.push(failed);
        }
    }
    history.drop_database().await;
    Ok(rows)
}

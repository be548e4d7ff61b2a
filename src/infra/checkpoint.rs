//! SQLite's write-ahead log moved into the database file in the background, on a connection of
//! its own, instead of by whichever commit finds the log past its threshold.
//!
//! The gateway writes through one connection (see `db::connect`), and SQLite runs an automatic
//! checkpoint inside the `COMMIT` that crosses the threshold: that commit, and every request
//! queued behind it on the connection, waits while pages are copied. At a steady 500 publishes
//! a second this came every fraction of a second and was the whole of publish → receipt p99
//! (`kaanha-bench --only steady`, see bench/README.md). A passive checkpoint from another
//! connection waits for no reader or writer; the automatic one stays as a backstop, at a
//! threshold ten times SQLite's, for a log the background cannot keep up with.
//!
//! Under a stream of large commits (retention pruning deletes from about ten B-trees at
//! scattered places), the log does not restart: SQLite starts it over only when a write begins
//! after a checkpoint that copied everything, and with commits arriving during each copy that
//! moment never comes. The log then grows to the backstop, and the commit that crosses it copies
//! whatever the background has not. So while passes find much to copy, they follow each other
//! closely: what is left for that commit stays a few milliseconds of writes.

use std::{
    sync::{Arc, atomic::Ordering::Relaxed},
    time::{Duration, Instant},
};

use sea_orm::{
    DatabaseConnection, DbBackend,
    sqlx::{self, Connection, Row, sqlite::SqliteConnection},
};
use tokio::sync::watch;

use super::metrics::Metrics;

/// Pages in the log past which a commit checkpoints on the writing connection itself.
pub const BACKSTOP_PAGES: u32 = 10_000;
/// How often the background looks: a quarter of a second of writes is far under the backstop
/// at every rate the benchmark reaches.
const EVERY: Duration = Duration::from_millis(250);
/// The next pass comes after [`SOON`] instead while the log grows faster than this many pages
/// a second (several times what a steady stream of publishes writes).
const BUSY_PAGES_PER_SECOND: f64 = 2_000.0;
const SOON: Duration = Duration::from_millis(10);

/// Checkpoints `db`'s log every [`EVERY`] until `stop` turns true. Nothing on PostgreSQL.
pub async fn run(db: DatabaseConnection, metrics: Arc<Metrics>, mut stop: watch::Receiver<bool>) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let mut conn: Option<SqliteConnection> = None;
    let mut wait = EVERY;
    // Pages of the log already in the database file after the last pass, and when it ran.
    let mut copied_before = 0;
    let mut last_pass = Instant::now();
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => break,
        }
        if conn.is_none() {
            match SqliteConnection::connect_with(&options).await {
                Ok(opened) => conn = Some(opened),
                Err(err) => {
                    tracing::warn!(error = %err, "cannot open a connection to checkpoint on; commits checkpoint meanwhile");
                    continue;
                }
            }
        }
        let Some(open) = conn.as_mut() else { continue };
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut *open)
            .await
        {
            Ok(row) => {
                let in_log: i64 = row.try_get(1).unwrap_or(0);
                let copied: i64 = row.try_get(2).unwrap_or(0);
                metrics.checkpoints.fetch_add(1, Relaxed);
                let behind = (in_log - copied).max(0) as u64;
                metrics.wal_pages_behind.store(behind, Relaxed);
                // A log that started over since the last pass copied all it holds now.
                let this_pass = if copied >= copied_before {
                    copied - copied_before
                } else {
                    copied
                };
                copied_before = copied;
                let per_second = this_pass as f64 / last_pass.elapsed().as_secs_f64();
                last_pass = Instant::now();
                wait = if per_second > BUSY_PAGES_PER_SECOND {
                    SOON
                } else {
                    EVERY
                };
            }
            Err(err) => {
                tracing::warn!(error = %err, "background checkpoint failed; reconnecting");
                conn = None;
                wait = EVERY;
            }
        }
    }
    if let Some(open) = conn {
        let _ = open.close().await;
    }
}

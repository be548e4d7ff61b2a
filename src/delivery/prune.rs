//! Retention: delivery logs and finished events older than `KAANHA_LOG_RETENTION` are deleted
//! in bounded batches, so pruning never holds a long lock or one huge transaction.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use entity::{delivery, delivery_attempt, event, webhook};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
    sea_query::{Expr, ExprTrait, Query},
};
use tokio::sync::watch;

use crate::{
    domain::{delivery_status::DeliveryStatus, named::Named},
    infra::{ids::first_uuid_at, metrics::Metrics, time},
};

const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);
/// The first pass comes soon after start, not an hour later: an instance restarted more often
/// than hourly (each deploy) would otherwise never prune.
const FIRST_PRUNE_AFTER: Duration = Duration::from_secs(10);
/// Rows per delete: a publish queued behind one waits a few milliseconds at most.
const PRUNE_BATCH: u64 = 50;
/// Rest after each batch, as a multiple of the batch's time: pruning takes at most a tenth of
/// the database's time, and on a machine its database shares with the gateway, a tenth of the
/// CPU. A month of 100 million deliveries is about 120 rows a second to prune, far below what
/// even a tenth deletes.
const REST_PER_BATCH: u32 = 9;

pub async fn run(
    db: DatabaseConnection,
    retention: Duration,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let mut wait = FIRST_PRUNE_AFTER;
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        wait = PRUNE_EVERY;
        match pass_or_stop(&db, retention, &metrics, &mut stop).await {
            None => return,
            Some(Ok((attempts, events))) if attempts + events > 0 => {
                tracing::info!(attempts, events, "pruned delivery logs past retention");
            }
            Some(Ok(_)) => {}
            Some(Err(err)) => tracing::warn!(error = %err, "pruning failed; will try again"),
        }
    }
}

/// One pass of [`prune`], given up as soon as `stop` turns true (`None` then). Each batch
/// commits on its own, so what a pass leaves the next pass prunes, here or on another instance;
/// and a stopping gateway never waits out a pass, which on a large history takes minutes (and
/// behind a held lock, as long as the lock).
pub async fn pass_or_stop(
    db: &DatabaseConnection,
    retention: Duration,
    metrics: &Metrics,
    stop: &mut watch::Receiver<bool>,
) -> Option<Result<(u64, u64), DbErr>> {
    tokio::select! {
        pruned = prune(db, retention, metrics) => Some(pruned),
        _ = stop.changed() => None,
    }
}

/// Deletes old log rows, then old events none of whose deliveries is still pending (their
/// deliveries go with them), counting them in `metrics` batch by batch. Returns how many
/// attempts and events were removed.
pub async fn prune(
    db: &DatabaseConnection,
    retention: Duration,
    metrics: &Metrics,
) -> Result<(u64, u64), DbErr> {
    let cutoff =
        time::now() - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
    // Log ids sort as their times do: the old rows are a range of the primary key.
    let before = first_uuid_at(cutoff);
    let attempts = in_batches(&metrics.pruned_attempts, || async {
        let batch = delivery_attempt::Entity::find()
            .select_only()
            .column(delivery_attempt::Column::Id)
            .filter(delivery_attempt::Column::Id.lt(before))
            .order_by_asc(delivery_attempt::Column::Id)
            .limit(PRUNE_BATCH)
            .into_query();
        let deleted = delivery_attempt::Entity::delete_many()
            .filter(delivery_attempt::Column::Id.in_subquery(batch))
            .exec(db)
            .await?;
        Ok(deleted.rows_affected)
    })
    .await?;
    let events = in_batches(&metrics.pruned_events, || async {
        let still_pending = Query::select()
            .expr(Expr::val(1))
            .from(delivery::Entity)
            .and_where(
                Expr::col((delivery::Entity, delivery::Column::OrgId))
                    .equals((event::Entity, event::Column::OrgId)),
            )
            .and_where(
                Expr::col((delivery::Entity, delivery::Column::EventId))
                    .equals((event::Entity, event::Column::Id)),
            )
            .and_where(
                Expr::col((delivery::Entity, delivery::Column::Status))
                    .eq(DeliveryStatus::Pending.as_str()),
            )
            .to_owned();
        // In time order: the oldest events are read by their index on time, and each is
        // tested for pending deliveries by its own. Unordered, PostgreSQL without statistics
        // merged the events' key with the whole index of deliveries by event instead (one
        // batch of 50 took 43 s on 20 million deliveries: bench/README.md).
        let batch = event::Entity::find()
            .select_only()
            .column(event::Column::OrgId)
            .column(event::Column::Id)
            .filter(event::Column::CreatedAt.lt(cutoff))
            .filter(Expr::exists(still_pending).not())
            .order_by_asc(event::Column::CreatedAt)
            .limit(PRUNE_BATCH)
            .into_query();
        let deleted = event::Entity::delete_many()
            .filter(
                Expr::tuple([
                    Expr::col(event::Column::OrgId),
                    Expr::col(event::Column::Id),
                ])
                .in_subquery(batch),
            )
            .exec(db)
            .await?;
        Ok(deleted.rows_affected)
    })
    .await?;
    forget_rotated_secrets(db).await?;
    crate::domain::stats::forget_old_hours(db, time::now()).await?;
    // Deleted webhooks whose purge a restart cut short.
    crate::domain::webhooks::purge_all_deleted(db).await?;
    Ok((attempts, events))
}

/// Runs `batch` until it deletes fewer than `PRUNE_BATCH` rows, counting them in `pruned`.
/// After each batch it rests (`REST_PER_BATCH`), so what waits behind it (on SQLite's one
/// connection, every publish) waits for one small batch at most, and seldom.
async fn in_batches<F, Fut>(pruned: &AtomicU64, mut batch: F) -> Result<u64, DbErr>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, DbErr>>,
{
    let mut total = 0;
    loop {
        let started = Instant::now();
        let removed = batch().await?;
        total += removed;
        pruned.fetch_add(removed, Relaxed);
        if removed < PRUNE_BATCH {
            return Ok(total);
        }
        tokio::time::sleep(started.elapsed() * REST_PER_BATCH).await;
    }
}

/// Drops previous secrets whose overlap has ended (they already sign nothing).
async fn forget_rotated_secrets(db: &DatabaseConnection) -> Result<(), DbErr> {
    webhook::Entity::update_many()
        .col_expr(
            webhook::Column::PreviousSecret,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            webhook::Column::PreviousSecretUntil,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(webhook::Column::PreviousSecretUntil.lt(time::now()))
        .exec(db)
        .await?;
    Ok(())
}

//! Retention: delivery logs and finished events older than `KAANHA_LOG_RETENTION` are deleted
//! in bounded batches, so pruning never holds a long lock or one huge transaction.

use std::time::Duration;

use entity::{delivery, delivery_attempt, event, webhook};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait, Query},
};
use tokio::sync::watch;

use crate::{
    domain::{delivery_status::DeliveryStatus, named::Named},
    infra::time,
};

const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);
const PRUNE_BATCH: u64 = 1000;

pub async fn run(db: DatabaseConnection, retention: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = stop.changed() => return,
        }
        match prune(&db, retention).await {
            Ok((attempts, events)) if attempts + events > 0 => {
                tracing::info!(attempts, events, "pruned delivery logs past retention");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "pruning failed; will try again"),
        }
    }
}

/// Deletes old log rows, then old events none of whose deliveries is still pending (their
/// deliveries go with them). Returns how many attempts and events were removed.
pub async fn prune(db: &DatabaseConnection, retention: Duration) -> Result<(u64, u64), DbErr> {
    let cutoff =
        time::now() - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
    let mut attempts = 0;
    loop {
        let batch = delivery_attempt::Entity::find()
            .select_only()
            .column(delivery_attempt::Column::Id)
            .filter(delivery_attempt::Column::CreatedAt.lt(cutoff))
            .limit(PRUNE_BATCH)
            .into_query();
        let removed = delivery_attempt::Entity::delete_many()
            .filter(delivery_attempt::Column::Id.in_subquery(batch))
            .exec(db)
            .await?
            .rows_affected;
        attempts += removed;
        if removed < PRUNE_BATCH {
            break;
        }
    }
    let mut events = 0;
    loop {
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
        let batch = event::Entity::find()
            .select_only()
            .column(event::Column::OrgId)
            .column(event::Column::Id)
            .filter(event::Column::CreatedAt.lt(cutoff))
            .filter(Expr::exists(still_pending).not())
            .limit(PRUNE_BATCH)
            .into_query();
        let removed = event::Entity::delete_many()
            .filter(
                Expr::tuple([
                    Expr::col(event::Column::OrgId),
                    Expr::col(event::Column::Id),
                ])
                .in_subquery(batch),
            )
            .exec(db)
            .await?
            .rows_affected;
        events += removed;
        if removed < PRUNE_BATCH {
            break;
        }
    }
    forget_rotated_secrets(db).await?;
    crate::domain::stats::forget_old_hours(db, time::now()).await?;
    // Deleted webhooks whose purge a restart cut short.
    crate::domain::webhooks::purge_all_deleted(db).await?;
    Ok((attempts, events))
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

//! Recover: a webhook's deliveries that ended `failed` in a range go back to `pending`, due now,
//! with the whole retry schedule ahead of them again.

use chrono::Duration;
use entity::delivery;
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, prelude::Uuid, sea_query::Expr,
};

use super::{RedeliverError, TimeRange, budget, require_active};
use crate::{
    domain::{
        delivery_status::DeliveryStatus, field_error::FieldError, named::Named, ordered,
        org::OrgId, store::Store, webhooks::Webhook,
    },
    infra::{
        db::{begin_write, commit},
        queues::Queued,
        time,
    },
};

/// The widest range one call may recover.
pub fn widest() -> Duration {
    Duration::days(14)
}

/// Deliveries changed per statement: each batch is a short write of its own, so publishes and
/// the engine get the database between them.
const BATCH: u64 = 500;

/// Puts the webhook's failed deliveries of `range` (by when they failed) back in the queue and
/// returns how many. A delivery already pending or delivered is left alone, so a repeated call
/// requeues nothing twice. A range holding more than `bounds.max_deliveries` is refused whole,
/// and so is one that would pass the organization's budget for the hour.
pub async fn recover(
    store: &Store,
    webhook: &Webhook,
    range: TimeRange,
    bounds: Bounds,
) -> Result<u64, RedeliverError> {
    require_active(webhook)?;
    let db = &store.db;
    let failed = DeliveryStatus::Failed.as_str();
    let in_range = || {
        delivery::Entity::find()
            .select_only()
            .column(delivery::Column::Id)
            .filter(delivery::Column::WebhookId.eq(webhook.row.id))
            .filter(delivery::Column::OrgId.eq(webhook.row.org_id.as_str()))
            .filter(delivery::Column::Status.eq(failed))
            .filter(delivery::Column::UpdatedAt.gte(range.since.timestamp_millis()))
            .filter(delivery::Column::UpdatedAt.lt(range.until.timestamp_millis()))
    };
    // Counted no further than one past the bound.
    let found = in_range()
        .limit(bounds.max_deliveries + 1)
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .len() as u64;
    if found > bounds.max_deliveries {
        return Err(FieldError::new(
            "since",
            format!(
                "the range holds more than {} failed deliveries, the most one call may recover on this gateway; narrow the range",
                bounds.max_deliveries
            ),
        )
        .into());
    }
    let org = OrgId::stored(webhook.row.org_id.clone());
    let reserved = budget::reserve(db, &org, found, bounds.per_hour).await?;
    let requeued = requeue(store, webhook, in_range).await;
    let settled = reserved
        .settle(db, *requeued.as_ref().unwrap_or(&found))
        .await;
    let requeued = requeued?;
    settled?;
    Ok(requeued)
}

/// What a recover call may queue, besides its range.
pub struct Bounds {
    /// `KAANHA_RECOVER_MAX_DELIVERIES`.
    pub max_deliveries: u64,
    /// `KAANHA_REDELIVERIES_PER_HOUR`.
    pub per_hour: u64,
}

async fn requeue<Q>(store: &Store, webhook: &Webhook, in_range: Q) -> Result<u64, RedeliverError>
where
    Q: Fn() -> sea_orm::Select<delivery::Entity>,
{
    let db = &store.db;
    let failed = DeliveryStatus::Failed.as_str();
    let mut after = Uuid::nil();
    let mut requeued = 0;
    loop {
        // The webhook's deliveries in id order (index: webhook_id, id), from where the last
        // batch ended.
        let ids: Vec<Uuid> = in_range()
            .filter(delivery::Column::Id.gt(after))
            .order_by_asc(delivery::Column::Id)
            .limit(BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = ids.last() else { break };
        after = *last;
        let now = time::now();
        // An ordered webhook's recovered deliveries take their places in line by age.
        let due_at = if webhook.row.ordered {
            ordered::PARKED
        } else {
            now.timestamp_millis()
        };
        let txn = begin_write(db).await?;
        let changed = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::Status,
                Expr::value(DeliveryStatus::Pending.as_str()),
            )
            // The whole schedule again, from here; the attempts keep their numbers.
            .col_expr(
                delivery::Column::ScheduleFrom,
                Expr::col(delivery::Column::Attempts),
            )
            .col_expr(delivery::Column::DueAt, Expr::value(due_at))
            .col_expr(
                delivery::Column::LeaseUntil,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(
                delivery::Column::UpdatedAt,
                Expr::value(now.timestamp_millis()),
            )
            .filter(delivery::Column::Id.is_in(ids.iter().copied()))
            // Whatever changed since the read (a retry by hand) is not requeued twice.
            .filter(delivery::Column::Status.eq(failed))
            .exec(&txn)
            .await?;
        requeued += changed.rows_affected;
        if changed.rows_affected > 0 {
            let mut queued = Queued::default();
            let (id, now_ms) = (webhook.row.id, now.timestamp_millis());
            if webhook.row.ordered {
                ordered::release_next(&txn, id, now_ms, &mut queued).await?;
            } else {
                queued.add(id, &webhook.row.org_id, now_ms);
            }
            queued.write(&txn).await?;
            store.wake.commit(txn).await?;
        } else {
            commit(txn).await?;
        }
        if (ids.len() as u64) < BATCH {
            break;
        }
    }
    Ok(requeued)
}

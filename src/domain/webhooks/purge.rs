//! Deleting a webhook in two steps. [`mark_deleted`] answers at once: the row is marked, its
//! subscriptions go, and from then on no query, fan-out or claim sees it (the next claim to
//! visit its turn removes it). [`purge`]
//! then removes its attempts and deliveries in small batches, each a short write of its own,
//! and the row last. One cascading `DELETE` of a busy webhook held the database (SQLite's one
//! writer: everyone) for seconds.

use std::time::Duration;

use entity::{delivery, delivery_attempt, webhook, webhook_event, webhook_hour, webhook_queue};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait, sea_query::Expr,
};

use uuid::Uuid;

use crate::infra::{ids, time};

/// Rows removed per statement.
const BATCH: u64 = 1000;

/// Marks webhooks deleted (those matching `which`, not deleted yet) and removes what makes them
/// receive anything; returns the ones marked. In the caller's transaction.
pub async fn mark_deleted(
    db: &impl ConnectionTrait,
    which: sea_orm::Condition,
) -> Result<Vec<Uuid>, DbErr> {
    let mut update = webhook::Entity::update_many()
        .col_expr(webhook::Column::DeletedAt, Expr::value(time::now()))
        .filter(which)
        .filter(webhook::Column::DeletedAt.is_null())
        .into_query();
    update.returning_col(webhook::Column::Id);
    let ids: Vec<Uuid> = db
        .query_all(&update)
        .await?
        .iter()
        .map(|row| row.try_get_by_index(0))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Ok(ids);
    }
    // Not its turn: claims take organizations' turns before webhooks', and so must every
    // writer; the next claim to visit it removes it.
    webhook_event::Entity::delete_many()
        .filter(webhook_event::Column::WebhookId.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(ids)
}

/// Times a purge is tried again before it is left to the hourly pruning.
const TRIES: u32 = 5;

/// Purges the webhooks in the background. A batch can lose a deadlock to the recorder writing
/// the outcome of a delivery that was in flight at the delete (PostgreSQL then aborts one of the
/// two): it is tried again, from where it stopped.
pub fn purge_later(db: DatabaseConnection, webhooks: Vec<Uuid>) {
    if webhooks.is_empty() {
        return;
    }
    tokio::spawn(async move {
        for id in webhooks {
            for attempt in 1..=TRIES {
                match purge(&db, id).await {
                    Ok(()) => break,
                    Err(err) if attempt == TRIES => {
                        tracing::warn!(webhook = %ids::show(ids::WEBHOOK, &id), error = %err, "purging a deleted webhook failed; the hourly pruning will finish it");
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(200) * attempt).await,
                }
            }
        }
    });
}

/// Deletes the rows of `E` whose `column` is `value`, `BATCH` at a time (by `id`), each batch
/// a statement of its own.
async fn delete_in_batches<E>(
    db: &DatabaseConnection,
    id: E::Column,
    column: E::Column,
    value: Uuid,
) -> Result<(), DbErr>
where
    E: EntityTrait,
{
    loop {
        let batch = E::find()
            .select_only()
            .column(id)
            .filter(column.eq(value))
            .limit(BATCH)
            .into_query();
        let removed = E::delete_many()
            .filter(id.in_subquery(batch))
            .exec(db)
            .await?;
        if removed.rows_affected < BATCH {
            return Ok(());
        }
    }
}

/// Removes a deleted webhook's attempts, then its deliveries, a batch at a time, then the row.
pub async fn purge(db: &DatabaseConnection, webhook_id: Uuid) -> Result<(), DbErr> {
    use delivery_attempt::Column as Attempt;
    delete_in_batches::<delivery_attempt::Entity>(db, Attempt::Id, Attempt::WebhookId, webhook_id)
        .await?;
    use delivery::Column as Delivery;
    delete_in_batches::<delivery::Entity>(db, Delivery::Id, Delivery::WebhookId, webhook_id)
        .await?;
    // The row (nothing is left to cascade), then its hours, then whatever turn a recorder
    // entered meanwhile: a turn last, as every writer takes them, so a claim waiting for this
    // one never waits for anything this transaction waits for.
    let txn = crate::infra::db::begin_write(db).await?;
    webhook::Entity::delete_many()
        .filter(webhook::Column::Id.eq(webhook_id))
        .filter(webhook::Column::DeletedAt.is_not_null())
        .exec(&txn)
        .await?;
    webhook_hour::Entity::delete_many()
        .filter(webhook_hour::Column::WebhookId.eq(webhook_id))
        .exec(&txn)
        .await?;
    webhook_queue::Entity::delete_many()
        .filter(webhook_queue::Column::WebhookId.eq(webhook_id))
        .exec(&txn)
        .await?;
    crate::infra::db::commit(txn).await
}

/// Finishes every purge left undone (a restart mid-way); returns how many webhooks it purged.
pub async fn purge_all_deleted(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let deleted: Vec<Uuid> = webhook::Entity::find()
        .select_only()
        .column(webhook::Column::Id)
        .filter(webhook::Column::DeletedAt.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    for id in &deleted {
        purge(db, *id).await?;
    }
    Ok(deleted.len() as u64)
}

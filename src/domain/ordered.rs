//! Ordered delivery: a webhook marked `ordered` is sent one delivery at a time, in the order
//! its deliveries were made (their ids are time-ordered), each waiting until the one before it
//! is delivered or has finally failed.
//!
//! The line is kept in the rows themselves. A delivery to an ordered webhook is written
//! *parked*: due at [`PARKED`], a time no claim reaches. [`release_next`] then lets the oldest
//! parked one go (due now) unless the head of the line — the one it released last, kept in
//! the webhook's `line_head` — is still pending. Every write that
//! makes such a delivery pending (a publish, a test event, a retry by hand, a recover, a
//! replay) parks it and calls `release_next` in the same transaction, and so does the recorder
//! when a delivery ends. Claims need no rule of their own: only the head of the line is ever
//! due, and its lease holds it through a crash, so a crash reorders nothing.
//!
//! On PostgreSQL `release_next` first locks the webhook's row, so two transactions (a publish
//! and the recorder ending the head) never both see "nothing else pending" and never both miss
//! each other's delivery; SQLite has one writer at a time.

use entity::{delivery, webhook};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    prelude::Uuid,
    sea_query::{Expr, LockType},
};

use crate::{
    domain::{delivery_status::DeliveryStatus, named::Named},
    infra::{ids, queues::Queued},
};

/// The due time of a delivery waiting in line (9999-12-31, Unix ms): never due on its own.
pub const PARKED: i64 = 253_402_300_799_999;

/// Whether a delivery is waiting behind an earlier one of its ordered webhook.
pub fn is_parked(due_at: i64) -> bool {
    due_at >= PARKED
}

/// Whether the webhook is ordered (false when it is gone).
pub async fn is_ordered(txn: &impl ConnectionTrait, webhook_id: Uuid) -> Result<bool, DbErr> {
    let ordered: Option<bool> = webhook::Entity::find_by_id(webhook_id)
        .select_only()
        .column(webhook::Column::Ordered)
        .into_tuple()
        .one(txn)
        .await?;
    Ok(ordered.unwrap_or(false))
}

/// Lets the oldest parked delivery of the webhook go now, unless the head of its line is still
/// pending (in flight, or waiting for a retry); the one released is entered in `queued`.
/// Returns it.
pub async fn release_next(
    txn: &impl ConnectionTrait,
    webhook_id: Uuid,
    now_ms: i64,
    queued: &mut Queued,
) -> Result<Option<Uuid>, DbErr> {
    let line: Option<(String, Option<String>)> = webhook::Entity::find_by_id(webhook_id)
        .select_only()
        .column(webhook::Column::OrgId)
        .column(webhook::Column::LineHead)
        .lock(LockType::Update)
        .into_tuple()
        .one(txn)
        .await?;
    let Some((org_id, head)) = line else {
        return Ok(None);
    };
    // The head is kept as the API shows it: the webhooks' table is small.
    if let Some(head) = head.and_then(|head| ids::parse(ids::DELIVERY, &head)) {
        let still_pending = delivery::Entity::find_by_id(head)
            .filter(delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .count(txn)
            .await?;
        if still_pending > 0 {
            return Ok(None);
        }
    }
    // The literal, not a parameter: only then may the database use the partial index of
    // parked deliveries (it must see that the query implies the index's condition).
    let next: Option<Uuid> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(delivery::Column::WebhookId.eq(webhook_id))
        .filter(Expr::cust(format!("\"due_at\" >= {PARKED}")))
        .order_by_asc(delivery::Column::Id)
        .into_tuple()
        .one(txn)
        .await?;
    if let Some(next) = next {
        delivery::Entity::update_many()
            .col_expr(delivery::Column::DueAt, Expr::value(now_ms))
            .filter(delivery::Column::Id.eq(next))
            .exec(txn)
            .await?;
        queued.add(webhook_id, &org_id, now_ms);
    }
    webhook::Entity::update_many()
        .col_expr(
            webhook::Column::LineHead,
            Expr::value(next.map(|next| ids::show(ids::DELIVERY, &next))),
        )
        .filter(webhook::Column::Id.eq(webhook_id))
        .exec(txn)
        .await?;
    Ok(next)
}

/// Lets every parked delivery of the webhook go now (it is no longer ordered); they are entered
/// in `queued`.
pub async fn release_all(
    txn: &impl ConnectionTrait,
    webhook_id: Uuid,
    org_id: &str,
    queued: &mut Queued,
) -> Result<(), DbErr> {
    let now_ms = crate::infra::time::now().timestamp_millis();
    webhook::Entity::update_many()
        .col_expr(
            webhook::Column::LineHead,
            Expr::value(Option::<String>::None),
        )
        .filter(webhook::Column::Id.eq(webhook_id))
        .exec(txn)
        .await?;
    delivery::Entity::update_many()
        .col_expr(delivery::Column::DueAt, Expr::value(now_ms))
        .filter(delivery::Column::WebhookId.eq(webhook_id))
        .filter(Expr::cust(format!("\"due_at\" >= {PARKED}")))
        .exec(txn)
        .await?;
    queued.add(webhook_id, org_id, now_ms);
    Ok(())
}

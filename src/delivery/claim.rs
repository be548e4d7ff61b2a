//! Claiming: a worker takes due deliveries by setting their lease in one statement, so two
//! workers never hold the same delivery, and a dead worker's deliveries come back when the
//! lease runs out.

use std::collections::HashMap;

use entity::{delivery, event, webhook};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
    sea_query::{Expr, LockBehavior, LockType},
};

use super::PENDING;

fn claimable(now_ms: i64) -> Condition {
    Condition::all()
        .add(delivery::Column::Status.eq(PENDING))
        .add(delivery::Column::DueAt.lte(now_ms))
        .add(
            Condition::any()
                .add(delivery::Column::LeaseUntil.is_null())
                .add(delivery::Column::LeaseUntil.lt(now_ms)),
        )
}

/// Leases up to `limit` due deliveries, oldest due first, skipping webhooks in `busy` (at
/// their in-flight limit). On PostgreSQL the candidate rows are locked `FOR UPDATE SKIP
/// LOCKED`, so instances claiming at once take disjoint rows instead of waiting on each other;
/// the outer condition is repeated so a row claimed meanwhile is re-checked, never taken twice.
/// SQLite has one writer at a time and no row locks; the lock clause is left out there.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    now_ms: i64,
    lease_ms: i64,
    limit: u64,
    busy: &[String],
) -> Result<Vec<delivery::Model>, DbErr> {
    let mut due = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(claimable(now_ms))
        .order_by_asc(delivery::Column::DueAt)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    if !busy.is_empty() {
        due = due.filter(delivery::Column::WebhookId.is_not_in(busy.iter().map(String::as_str)));
    }
    delivery::Entity::update_many()
        .col_expr(delivery::Column::LeaseUntil, Expr::value(now_ms + lease_ms))
        .filter(delivery::Column::Id.in_subquery(due.into_query()))
        .filter(claimable(now_ms))
        .exec_with_returning(db)
        .await
}

/// Gives deliveries back before their lease ends (over a webhook's limit, or at shutdown).
pub async fn release(db: &impl ConnectionTrait, ids: &[String]) -> Result<(), DbErr> {
    for chunk in ids.chunks(500) {
        delivery::Entity::update_many()
            .col_expr(
                delivery::Column::LeaseUntil,
                Expr::value(Option::<i64>::None),
            )
            .filter(delivery::Column::Id.is_in(chunk.iter().map(String::as_str)))
            .filter(delivery::Column::Status.eq(PENDING))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// When the next delivery falls due, to sleep exactly that long (Unix ms).
pub async fn next_due(db: &impl ConnectionTrait) -> Result<Option<i64>, DbErr> {
    let next: Option<Option<i64>> = delivery::Entity::find()
        .select_only()
        .column_as(delivery::Column::DueAt.min(), "next")
        .filter(delivery::Column::Status.eq(PENDING))
        .into_tuple()
        .one(db)
        .await?;
    Ok(next.flatten())
}

/// What claimed deliveries need: their events' payloads and their webhooks, in two queries.
pub struct Targets {
    pub payloads: HashMap<String, String>,
    pub webhooks: HashMap<String, webhook::Model>,
}

pub async fn load_targets(
    db: &impl ConnectionTrait,
    deliveries: &[delivery::Model],
) -> Result<Targets, DbErr> {
    let mut event_ids: Vec<&str> = deliveries.iter().map(|d| d.event_id.as_str()).collect();
    event_ids.sort_unstable();
    event_ids.dedup();
    let mut webhook_ids: Vec<&str> = deliveries.iter().map(|d| d.webhook_id.as_str()).collect();
    webhook_ids.sort_unstable();
    webhook_ids.dedup();
    let payloads = event::Entity::find()
        .select_only()
        .column(event::Column::Id)
        .column(event::Column::Payload)
        .filter(event::Column::Id.is_in(event_ids))
        .into_tuple::<(String, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let webhooks = webhook::Entity::find()
        .filter(webhook::Column::Id.is_in(webhook_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|w| (w.id.clone(), w))
        .collect();
    Ok(Targets { payloads, webhooks })
}

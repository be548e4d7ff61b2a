//! Claiming: a worker takes due deliveries by setting their lease in one statement, so two
//! workers never hold the same delivery, and a dead worker's deliveries come back when the
//! lease runs out.

use std::collections::HashMap;

use entity::{delivery, event, webhook};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait,
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

/// How many due rows one claim looks at to choose from.
const CANDIDATES: u64 = 1000;

/// Leases due deliveries, oldest due first: at most `limit` in all and, per webhook, only as
/// many as `room` says that webhook can take now (webhooks in `full` have none) — so a slow receiver's backlog is never
/// claimed only to wait (or be handed back) while other webhooks' deliveries are due.
///
/// Candidates are read first (an index range on `status, due_at`); the chosen rows are then
/// locked `FOR UPDATE SKIP LOCKED` on PostgreSQL, checked again, and leased in the same
/// transaction, so instances claiming at once never take the same row and never wait on each
/// other. SQLite has one writer at a time; the lock clause is left out there.
pub async fn claim_due(
    db: &(impl ConnectionTrait + TransactionTrait),
    now_ms: i64,
    lease_ms: i64,
    limit: usize,
    full: &[String],
    room: impl Fn(&str) -> usize,
) -> Result<Vec<delivery::Model>, DbErr> {
    let mut candidates = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .column(delivery::Column::WebhookId)
        .filter(claimable(now_ms))
        .order_by_asc(delivery::Column::DueAt)
        .limit(CANDIDATES);
    if !full.is_empty() {
        // A dead receiver's backlog must not fill the window others' deliveries are read from.
        candidates = candidates
            .filter(delivery::Column::WebhookId.is_not_in(full.iter().map(String::as_str)));
    }
    let candidates: Vec<(String, String)> = candidates.into_tuple().all(db).await?;
    // Room left per webhook, asked once per webhook seen.
    let mut left: HashMap<String, usize> = HashMap::new();
    let mut chosen = Vec::new();
    for (id, webhook_id) in candidates {
        if chosen.len() >= limit {
            break;
        }
        let slots = left.entry(webhook_id).or_insert_with_key(|w| room(w));
        if *slots > 0 {
            *slots -= 1;
            chosen.push(id);
        }
    }
    lease(db, now_ms, lease_ms, chosen).await
}

async fn lease(
    db: &impl TransactionTrait,
    now_ms: i64,
    lease_ms: i64,
    ids: Vec<String>,
) -> Result<Vec<delivery::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Rows are found by primary key only, so the plan never depends on how stale the
    // planner's idea of the pending backlog is; claimability is checked on the locked rows.
    let txn = crate::db::begin_write(db).await?;
    let free: Vec<String> = delivery::Entity::find()
        .filter(delivery::Column::Id.is_in(ids))
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&txn)
        .await?
        .into_iter()
        .filter(|d| {
            d.status == PENDING
                && d.due_at <= now_ms
                && d.lease_until.is_none_or(|until| until < now_ms)
        })
        .map(|d| d.id)
        .collect();
    if free.is_empty() {
        txn.commit().await?;
        return Ok(Vec::new());
    }
    let leased = delivery::Entity::update_many()
        .col_expr(delivery::Column::LeaseUntil, Expr::value(now_ms + lease_ms))
        .filter(delivery::Column::Id.is_in(free))
        .exec_with_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(leased)
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

/// When the next delivery this worker could claim falls due (Unix ms), to sleep exactly that
/// long: not ones leased by someone (their end comes back by polling), nor ones for webhooks
/// in `full` (a finishing delivery wakes the worker).
pub async fn next_due(
    db: &impl ConnectionTrait,
    now_ms: i64,
    full: &[String],
) -> Result<Option<i64>, DbErr> {
    let mut query = delivery::Entity::find()
        .select_only()
        .column_as(delivery::Column::DueAt.min(), "next")
        .filter(delivery::Column::Status.eq(PENDING))
        .filter(
            Condition::any()
                .add(delivery::Column::LeaseUntil.is_null())
                .add(delivery::Column::LeaseUntil.lt(now_ms)),
        );
    if !full.is_empty() {
        query =
            query.filter(delivery::Column::WebhookId.is_not_in(full.iter().map(String::as_str)));
    }
    let next: Option<Option<i64>> = query.into_tuple().one(db).await?;
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

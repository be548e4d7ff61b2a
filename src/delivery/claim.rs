//! Claiming: a worker takes due deliveries by setting their lease in one statement, so two
//! workers never hold the same delivery, and a dead worker's deliveries come back when the
//! lease runs out.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};

use entity::{delivery, event, webhook};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Func, LockBehavior, LockType, Order, Query},
};

use crate::{
    domain::{delivery_status::DeliveryStatus, named::Named},
    infra::lookup::keys_in,
};

fn claimable(now_ms: i64) -> Condition {
    Condition::all()
        .add(delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
        .add(delivery::Column::DueAt.lte(now_ms))
        .add(
            Condition::any()
                .add(delivery::Column::LeaseUntil.is_null())
                .add(delivery::Column::LeaseUntil.lt(now_ms)),
        )
}

/// Most due rows one claim looks at to choose from.
const CANDIDATES: u64 = 1000;
/// Rows looked at per delivery wanted: enough to skip past webhooks with little room.
const CANDIDATES_PER_SLOT: u64 = 4;

/// What one claim took, and whether it saw every due delivery it could have taken.
pub struct Claimed {
    pub deliveries: Vec<delivery::Model>,
    /// The candidate window came back full: more due deliveries may wait behind it, so the
    /// caller claims again at once instead of sleeping.
    pub window_full: bool,
    /// Due deliveries were read and not taken, for lack of room or of slots.
    pub left_behind: bool,
}

/// How far a claim reads past the due deliveries of webhooks with no room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// As far as it takes: every due delivery of a full webhook is skipped, however many.
    Deep,
    /// Only the first rows due, so a full webhook's large backlog costs little to skip.
    Shallow,
}

/// Rows a shallow claim reads, at most.
const SHALLOW_SCAN: u64 = 2 * CANDIDATES;

/// Webhooks and organizations that have no room in this engine now: their due deliveries are
/// skipped by the claim.
#[derive(Debug, Default)]
pub struct Full {
    pub webhooks: Vec<String>,
    pub orgs: Vec<String>,
}

impl Full {
    pub fn is_empty(&self) -> bool {
        self.webhooks.is_empty() && self.orgs.is_empty()
    }
}

/// How many more deliveries a webhook's lane and its organization's share can take now.
pub struct Room {
    pub webhook: usize,
    pub org: usize,
}

/// What one claim asks for.
pub struct Ask<'a> {
    pub now_ms: i64,
    /// How long the claimed deliveries stay leased to this instance.
    pub lease_ms: i64,
    /// Most deliveries to claim.
    pub limit: usize,
    /// Webhooks and organizations with no room now: their due deliveries are skipped.
    pub full: &'a Full,
    pub reach: Reach,
}

/// Leases due deliveries, oldest due first: at most `limit` in all and, per webhook and per
/// organization, only as many as `room` says they can take now (those in `full` have none) — so
/// a slow receiver's backlog is never claimed only to wait (or be handed back) while other
/// webhooks' deliveries are due. Organizations take turns: one delivery of each organization
/// with due deliveries, then a second of each, and so on, so when slots are scarce an
/// organization with a backlog does not take them all.
///
/// Candidates are read first (from the index alone: it carries every column read); the chosen
/// rows are then leased by `lease`, so instances claiming at once never take the same row.
///
/// Skipping the backlog of a full webhook costs a read of each of its due rows. A `Deep` claim
/// does that; a `Shallow` one reads only the first rows due. The engine claims shallow and goes
/// deep now and then: the benchmark's backlog drained at a third of its rate while every claim
/// read past the whole backlog.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    ask: Ask<'_>,
    room: impl Fn(&str, &str) -> Room,
) -> Result<Claimed, DbErr> {
    let Ask {
        now_ms,
        lease_ms,
        limit,
        full,
        reach,
    } = ask;
    let window = (limit as u64 * CANDIDATES_PER_SLOT).clamp(64, CANDIDATES);
    let columns = [
        delivery::Column::Id,
        delivery::Column::WebhookId,
        delivery::Column::OrgId,
        delivery::Column::DueAt,
    ];
    let mut due = Query::select()
        .columns(columns)
        .from(delivery::Entity)
        .cond_where(claimable(now_ms))
        .order_by(delivery::Column::DueAt, Order::Asc)
        .to_owned();
    let candidates = if full.is_empty() {
        due.limit(window).to_owned()
    } else {
        if reach == Reach::Shallow {
            due.limit(SHALLOW_SCAN);
        }
        // A dead receiver's backlog, or an organization's, must not fill the window others'
        // deliveries are read from.
        let mut skipping = Query::select()
            .columns(columns)
            .from_subquery(due, "due")
            .order_by(delivery::Column::DueAt, Order::Asc)
            .limit(window)
            .to_owned();
        if !full.webhooks.is_empty() {
            let webhooks = full.webhooks.iter().map(String::as_str);
            skipping.and_where(Expr::col(delivery::Column::WebhookId).is_not_in(webhooks));
        }
        if !full.orgs.is_empty() {
            let orgs = full.orgs.iter().map(String::as_str);
            skipping.and_where(Expr::col(delivery::Column::OrgId).is_not_in(orgs));
        }
        skipping
    };
    let rows = db.query_all(&candidates).await?;
    let window_full = rows.len() as u64 == window;
    let read = rows.len();
    // Each organization's candidates, oldest due first, in the order organizations first appear.
    let mut by_org: Vec<(String, VecDeque<(String, String)>)> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let id: String = row.try_get_by_index(0)?;
        let webhook_id: String = row.try_get_by_index(1)?;
        let org_id: String = row.try_get_by_index(2)?;
        let at = *position.entry(org_id.clone()).or_insert_with(|| {
            by_org.push((org_id, VecDeque::new()));
            by_org.len() - 1
        });
        by_org[at].1.push_back((id, webhook_id));
    }
    // Room left per webhook and per organization, asked once each.
    let mut webhook_left: HashMap<String, usize> = HashMap::new();
    let mut org_left: HashMap<String, usize> = HashMap::new();
    let mut chosen = Vec::new();
    while chosen.len() < limit && !by_org.is_empty() {
        by_org.retain_mut(|(org_id, queue)| {
            // One of this organization's candidates this turn: the first its room allows.
            while let Some((id, webhook_id)) = queue.pop_front() {
                if chosen.len() >= limit {
                    return false;
                }
                let org = org_left
                    .entry(org_id.clone())
                    .or_insert_with(|| room(&webhook_id, org_id).org);
                if *org == 0 {
                    return false;
                }
                let webhook = webhook_left
                    .entry(webhook_id)
                    .or_insert_with_key(|w| room(w, org_id).webhook);
                if *webhook > 0 {
                    *webhook -= 1;
                    *org -= 1;
                    chosen.push(id);
                    return !queue.is_empty();
                }
            }
            false
        });
    }
    Ok(Claimed {
        left_behind: chosen.len() < read,
        deliveries: lease(db, now_ms, lease_ms, chosen).await?,
        window_full,
    })
}

/// `claimable`, written so that no index can serve it: `LOWER(status)` and `due_at + 0`.
///
/// The lease below must find its rows by primary key only. With the plain conditions,
/// PostgreSQL's planner — believing from stale statistics that few deliveries are pending —
/// ANDed a bitmap of the claim index (every pending, due row: 27,000 in the benchmark's
/// fan-out) with the 64 primary keys; that statement was running in 51 of 60 samples of
/// `pg_stat_activity`, at 9 ms a claim instead of 2 ms.
fn claimable_by_key_only(now_ms: i64) -> Condition {
    Condition::all()
        .add(Func::lower(Expr::col(delivery::Column::Status)).eq(DeliveryStatus::Pending.as_str()))
        .add(Expr::col(delivery::Column::DueAt).add(0).lte(now_ms))
        .add(
            Condition::any()
                .add(delivery::Column::LeaseUntil.is_null())
                .add(delivery::Column::LeaseUntil.lt(now_ms)),
        )
}

/// Leases the chosen rows that are still claimable, in one statement: on PostgreSQL the rows
/// are locked `FOR UPDATE SKIP LOCKED` by primary key in a subquery (so instances claiming at
/// once never wait on each other, and the plan never depends on how stale the planner's idea of
/// the pending backlog is: see `claimable_by_key_only`); SQLite has one writer at a time and
/// leaves the lock clause out. Claimability is checked again on the rows as they are when
/// updated.
async fn lease(
    db: &impl ConnectionTrait,
    now_ms: i64,
    lease_ms: i64,
    ids: Vec<String>,
) -> Result<Vec<delivery::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let free = Query::select()
        .column(delivery::Column::Id)
        .from(delivery::Entity)
        .cond_where(
            Condition::all()
                .add(delivery::Column::Id.is_in(ids))
                .add(claimable_by_key_only(now_ms)),
        )
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    delivery::Entity::update_many()
        .col_expr(delivery::Column::LeaseUntil, Expr::value(now_ms + lease_ms))
        .filter(delivery::Column::Id.in_subquery(free))
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
            .filter(delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// When the next delivery this worker could claim falls due (Unix ms), to sleep exactly that
/// long: not ones leased by someone (their end comes back by polling), nor ones for webhooks
/// in `full` (a finishing delivery wakes the worker).
///
/// Only deliveries due after `now_ms` are looked at: the caller has just claimed without
/// filling its window, so every delivery due now was either taken or belongs to a webhook with
/// no room. Starting the index range at `now_ms` keeps this one seek however large the due
/// backlog of a full webhook is — it used to scan that whole backlog on every claim.
pub async fn next_due(
    db: &impl ConnectionTrait,
    now_ms: i64,
    full: &Full,
) -> Result<Option<i64>, DbErr> {
    let mut query = delivery::Entity::find()
        .select_only()
        .column_as(delivery::Column::DueAt.min(), "next")
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
        .filter(delivery::Column::DueAt.gt(now_ms))
        .filter(
            Condition::any()
                .add(delivery::Column::LeaseUntil.is_null())
                .add(delivery::Column::LeaseUntil.lt(now_ms)),
        );
    if !full.webhooks.is_empty() {
        let webhooks = full.webhooks.iter().map(String::as_str);
        query = query.filter(delivery::Column::WebhookId.is_not_in(webhooks));
    }
    if !full.orgs.is_empty() {
        let orgs = full.orgs.iter().map(String::as_str);
        query = query.filter(delivery::Column::OrgId.is_not_in(orgs));
    }
    let next: Option<Option<i64>> = query.into_tuple().one(db).await?;
    Ok(next.flatten())
}

/// What claimed deliveries need: their events' payloads and their webhooks, in two queries.
/// Shared, not copied, by the deliveries of one event or one webhook.
pub struct Targets {
    /// By organization, then event id (event ids are unique per organization only).
    payloads: HashMap<String, HashMap<String, Arc<str>>>,
    pub webhooks: HashMap<String, Arc<webhook::Model>>,
}

impl Targets {
    /// The body a delivery sends, if its event is still there.
    pub fn payload(&self, delivery: &delivery::Model) -> Option<&Arc<str>> {
        self.payloads.get(&delivery.org_id)?.get(&delivery.event_id)
    }
}

pub async fn load_targets(
    db: &impl ConnectionTrait,
    deliveries: &[delivery::Model],
) -> Result<Targets, DbErr> {
    // Event ids are unique per organization only: the key is (organization, id).
    let mut keys: Vec<(&str, &str)> = deliveries
        .iter()
        .map(|d| (d.org_id.as_str(), d.event_id.as_str()))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let events = keys_in(
        db.get_database_backend(),
        event::Column::OrgId,
        event::Column::Id,
        keys,
    );
    let mut webhook_ids: Vec<&str> = deliveries.iter().map(|d| d.webhook_id.as_str()).collect();
    webhook_ids.sort_unstable();
    webhook_ids.dedup();
    let mut payloads: HashMap<String, HashMap<String, Arc<str>>> = HashMap::new();
    let rows = event::Entity::find()
        .select_only()
        .column(event::Column::OrgId)
        .column(event::Column::Id)
        .column(event::Column::Payload)
        .filter(events)
        .into_tuple::<(String, String, String)>()
        .all(db)
        .await?;
    for (org, id, payload) in rows {
        payloads
            .entry(org)
            .or_default()
            .insert(id, Arc::from(payload));
    }
    let webhooks = webhook::Entity::find()
        .filter(webhook::Column::Id.is_in(webhook_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|w| (w.id.clone(), Arc::new(w)))
        .collect();
    Ok(Targets { payloads, webhooks })
}

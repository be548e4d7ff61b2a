//! Claiming: a worker takes due deliveries by turns (organizations, then their webhooks) and
//! sets their lease, so two workers never hold the same delivery and a dead worker's
//! deliveries come back when the lease runs out. The statements of the turns are in `turns`.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use entity::{delivery, event, webhook};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait, TransactionTrait,
    prelude::Uuid,
    sea_query::{Expr, ExprTrait, Func, LockBehavior, LockType, Query},
};

pub use super::allot::Room;
use super::{
    allot::allot,
    turns::{self, InTurn},
};
use crate::{
    domain::{delivery_status::DeliveryStatus, named::Named},
    infra::{lookup::keys_in, queues::Queued, time},
};

/// Most webhooks of one organization a claim looks at.
const WEBHOOKS_PER_ORG: usize = 32;

/// What one claim took.
pub struct Claimed {
    pub deliveries: Vec<delivery::Model>,
    /// Their events' payloads and their webhooks, read in the same transaction.
    pub targets: Targets,
    /// More may be ready now: every organization or webhook the claim could read was ready, or
    /// it took all it could. The caller claims again at once instead of sleeping.
    pub more: bool,
    /// Due deliveries stayed behind for lack of room here: a slot given back that makes room
    /// should wake the loop.
    pub left_behind: bool,
}

/// Webhooks and organizations that have no room in this engine now: the claim leaves them out.
#[derive(Debug, Default)]
pub struct Full {
    pub webhooks: Vec<Uuid>,
    pub orgs: Vec<String>,
}

impl Full {
    pub fn is_empty(&self) -> bool {
        self.webhooks.is_empty() && self.orgs.is_empty()
    }
}

/// What one claim asks for.
pub struct Ask<'a> {
    pub now_ms: i64,
    /// How long the claimed deliveries stay leased to this instance.
    pub lease_ms: i64,
    /// Most deliveries to claim.
    pub limit: usize,
    /// Webhooks and organizations with no room now: left out.
    pub full: &'a Full,
}

/// Leases due deliveries by turns, in one transaction (docs/architecture.md, "How the engine
/// chooses work"): the organizations whose turn has come, a few of each one's webhooks whose
/// turn has come, `limit` places dealt among them one at a time (each webhook at most what
/// `room` says its lane takes), then each webhook's oldest due deliveries up to its share. Every
/// webhook and organization visited goes to the back of its line, or, with nothing claimable
/// left, waits until its next retry or lease end.
pub async fn claim_due(
    db: &impl TransactionTrait,
    ask: Ask<'_>,
    room: impl Fn(&InTurn) -> Room,
) -> Result<Claimed, DbErr> {
    let Ask {
        now_ms,
        lease_ms,
        limit,
        full,
    } = ask;
    let txn = crate::infra::db::begin_write(db).await?;
    plan_for_now(&txn).await?;
    let orgs = turns::organizations(&txn, now_ms, &full.orgs, limit).await?;
    if orgs.is_empty() {
        crate::infra::db::commit(txn).await?;
        return Ok(Claimed {
            deliveries: Vec::new(),
            targets: Targets::default(),
            more: false,
            left_behind: !full.is_empty(),
        });
    }
    let per_org = (limit / orgs.len()).clamp(1, WEBHOOKS_PER_ORG);
    let in_turn = turns::webhooks(&txn, &orgs, now_ms, &full.webhooks, per_org).await?;
    let read_all_webhooks = orgs
        .iter()
        .all(|org| in_turn.iter().filter(|w| &w.org_id == org).count() < per_org);
    let seen_orgs: HashSet<String> = in_turn.iter().map(|w| w.org_id.clone()).collect();
    // A deleted webhook's turn is taken away; what it had is being purged.
    let (gone, in_turn): (Vec<InTurn>, Vec<InTurn>) = in_turn.into_iter().partition(|w| w.gone);
    let mut gone_orgs: HashSet<String> = gone.iter().map(|w| w.org_id.clone()).collect();
    let mut gone: Vec<Uuid> = gone.into_iter().map(|w| w.webhook_id).collect();
    let org_of: HashMap<Uuid, String> = in_turn
        .iter()
        .map(|w| (w.webhook_id, w.org_id.clone()))
        .collect();
    let allotment = allot(&orgs, in_turn, limit, room);
    let picked = turns::due_deliveries(&txn, &allotment.shares, now_ms).await?;
    let mut taken: HashMap<Uuid, usize> = HashMap::new();
    for (_, webhook) in &picked {
        *taken.entry(*webhook).or_default() += 1;
    }
    // A webhook that took its whole share may have more: back of its line. One that took less
    // has nothing to claim until its next retry or lease end.
    let mut turns_now = Vec::new();
    let mut exhausted = Vec::new();
    let mut may_have_more = false;
    for (webhook, share) in &allotment.shares {
        if taken.get(webhook).copied().unwrap_or(0) >= *share {
            turns_now.push((*webhook, now_ms));
            may_have_more = true;
        } else {
            exhausted.push(*webhook);
        }
    }
    let ids = picked.iter().map(|(id, _)| *id).collect();
    let deliveries = lease(&txn, now_ms, lease_ms, ids).await?;
    for (webhook, next) in turns::next_claimable(&txn, &exhausted, now_ms).await? {
        match next {
            Some(at) => turns_now.push((webhook, at)),
            None => {
                gone_orgs.extend(org_of.get(&webhook).cloned());
                gone.push(webhook);
            }
        }
    }
    turns::set_webhook_turns(&txn, &turns_now).await?;
    turns::remove_webhooks(&txn, &gone).await?;
    // Only an organization that showed no webhook, or lost one, may have none left.
    let maybe_empty: Vec<String> = orgs
        .iter()
        .filter(|org| !seen_orgs.contains(org.as_str()) || gone_orgs.contains(org.as_str()))
        .cloned()
        .collect();
    turns::requeue_organizations(&txn, &orgs, &maybe_empty, now_ms).await?;
    let targets = load_targets(&txn, &deliveries).await?;
    crate::infra::db::commit(txn).await?;
    Ok(Claimed {
        targets,
        more: orgs.len() >= limit || !read_all_webhooks || deliveries.len() >= limit,
        // A webhook that took its whole share may have more, waiting for room in its lane.
        left_behind: allotment.left_behind || may_have_more || !full.is_empty(),
        deliveries,
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
    ids: Vec<Uuid>,
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
        .col_expr(
            delivery::Column::Leases,
            Expr::col(delivery::Column::Leases).add(1),
        )
        .filter(delivery::Column::Id.in_subquery(free))
        .exec_with_returning(db)
        .await
}

/// Gives deliveries back before their lease ends (over a webhook's limit, or at shutdown):
/// claimable again at once, so their webhooks' turns come now.
pub async fn release(db: &impl TransactionTrait, ids: &[Uuid]) -> Result<(), DbErr> {
    let txn = crate::infra::db::begin_write(db).await?;
    let now_ms = time::now().timestamp_millis();
    let mut queued = Queued::default();
    for chunk in ids.chunks(500) {
        // Given back unsent: this lease does not count against the delivery.
        let mut update = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::LeaseUntil,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(
                delivery::Column::Leases,
                Expr::col(delivery::Column::Leases).sub(1),
            )
            .filter(delivery::Column::Id.is_in(chunk.iter().copied()))
            .filter(delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .into_query();
        update.returning(
            Query::returning().columns([delivery::Column::WebhookId, delivery::Column::OrgId]),
        );
        for row in txn.query_all(&update).await? {
            let webhook: Uuid = row.try_get_by_index(0)?;
            let org: String = row.try_get_by_index(1)?;
            queued.add(webhook, &org, now_ms);
        }
    }
    queued.write(&txn).await?;
    crate::infra::db::commit(txn).await
}

/// When the next webhook this worker could serve gets its turn (Unix ms), to sleep exactly that
/// long: not one in `full` (a finishing delivery wakes the worker). One index seek, however
/// large any backlog.
pub async fn next_due(db: &impl ConnectionTrait, full: &Full) -> Result<Option<i64>, DbErr> {
    turns::next_turn(db, &full.webhooks, &full.orgs).await
}

/// Plans every statement of this claim for the tables as they are now (PostgreSQL).
///
/// A prepared statement's plan is kept once PostgreSQL finds it no worse than planning anew,
/// and only a change of statistics makes it plan again. A gateway starts on empty tables; on a
/// server where nothing analyzes them (autovacuum off), the plans kept from then stayed: the
/// claimed deliveries' events were looked up by reading the whole events table, 16 ms a claim
/// beside a 100,000-delivery backlog. Planned for the present, each lookup is a probe of its
/// index again; planning a claim's few statements costs far less than one such scan.
async fn plan_for_now(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await?;
    }
    Ok(())
}

/// What claimed deliveries need: their events' payloads and their webhooks, in two queries.
/// Shared, not copied, by the deliveries of one event or one webhook.
#[derive(Default)]
pub struct Targets {
    /// By organization, then event id (event ids are unique per organization only).
    payloads: HashMap<String, HashMap<String, Arc<str>>>,
    pub webhooks: HashMap<Uuid, Arc<webhook::Model>>,
}

impl Targets {
    /// The body a delivery sends, if its event is still there.
    pub fn payload(&self, delivery: &delivery::Model) -> Option<&Arc<str>> {
        self.payloads.get(&delivery.org_id)?.get(&delivery.event_id)
    }
}

async fn load_targets(
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
    let mut webhook_ids: Vec<Uuid> = deliveries.iter().map(|d| d.webhook_id).collect();
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
    // A webhook deleted since is not sent to.
    let webhooks = webhook::Entity::find()
        .filter(webhook::Column::Id.is_in(webhook_ids))
        .filter(webhook::Column::DeletedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|w| (w.id, Arc::new(w)))
        .collect();
    Ok(Targets { payloads, webhooks })
}

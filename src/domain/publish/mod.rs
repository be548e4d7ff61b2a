//! Publishing: an event and one delivery per subscribed active webhook, written in one
//! transaction before the publish call answers (a transactional outbox: nothing accepted lives
//! only in memory). [`Batch`] is the one way in: publish into a transaction, then commit.

mod envelope;
mod fan_out;
mod new_event;
mod one_trip;
mod rows;
pub mod samples;

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use entity::{delivery, event, webhook};
pub use envelope::{ENVELOPE_FIELDS, envelope};
use fan_out::FanOut;
pub use new_event::{EventRequest, NewEvent};
pub(crate) use rows::new_delivery;
pub use rows::{insert_test_event, send_test_event};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbErr, IntoActiveModel, Set, TransactionTrait,
};

use uuid::Uuid;

use crate::{
    catalog,
    domain::{
        handoff::{Handed, Handoff, Reservation},
        ordered,
        org::OrgId,
    },
    infra::{ids::new_id, queues::Queued, time, wake::Wake},
};

/// What became of one published event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub id: String,
    /// Deliveries the event has (for a duplicate: those made when it was first published).
    pub deliveries: u64,
    /// The id was already stored: nothing new was created.
    pub duplicate: bool,
    /// Of its deliveries, those handed straight to this instance's engine (sent without a
    /// claim; no worker needs waking for them).
    pub handed: u64,
}

impl Published {
    /// Deliveries this publish created that a worker must claim.
    pub fn to_claim(&self) -> u64 {
        if self.duplicate {
            0
        } else {
            self.deliveries - self.handed
        }
    }
}

/// The publishes of one transaction: what they read once (the webhooks subscribed), the
/// deliveries they reserved in this instance's engine, and whether any is left for a claim.
pub struct Batch<'h> {
    fan_out: FanOut,
    handoff: Option<&'h dyn Handoff>,
    handed: Vec<Handed>,
    to_claim: bool,
    /// Webhooks given deliveries: their turns, written at commit.
    queued: Queued,
}

/// What a publish writes, decided before anything is written.
struct Planned {
    results: Vec<Published>,
    events: Vec<event::ActiveModel>,
    deliveries: Vec<delivery::Model>,
    /// Ordered webhooks given deliveries: each lets the head of its line go, if it may.
    in_line: BTreeSet<Uuid>,
    /// For the deliveries handed to the engine: places, payloads (webhooks are the fan-out's).
    reserved: Vec<(usize, Reservation)>,
    payloads: HashMap<String, Arc<str>>,
    now: DateTime<Utc>,
}

impl Planned {
    /// The rows to insert: the events (taken) and the deliveries (copied: the plan keeps them
    /// for the turns and the hand-over).
    fn rows(&mut self) -> (Vec<event::ActiveModel>, Vec<delivery::ActiveModel>) {
        let deliveries = self.deliveries.iter();
        let deliveries = deliveries.map(|d| d.clone().into_active_model()).collect();
        (std::mem::take(&mut self.events), deliveries)
    }
}

impl<'h> Batch<'h> {
    /// `handoff` is this instance's engine, given the deliveries it has room for; with `None`
    /// (an `api` instance, or a publish inside the engine's own transaction) every delivery
    /// waits for a claim.
    pub fn new(handoff: Option<&'h dyn Handoff>) -> Self {
        Self {
            fan_out: FanOut::default(),
            handoff,
            handed: Vec::new(),
            to_claim: false,
            queued: Queued::default(),
        }
    }

    /// Stores events with their deliveries in `txn`. Ids this organization already stored are
    /// reported as duplicates and create nothing. Deliveries the engine has room for are
    /// written leased to this instance, to be handed over by [`Batch::commit`] (dropped
    /// instead, they give their places back).
    pub async fn publish(
        &mut self,
        txn: &impl ConnectionTrait,
        org: &OrgId,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Published>, DbErr> {
        let mut planned = self.plan(txn, org, events).await?;
        let (events, deliveries) = planned.rows();
        rows::insert_rows(txn, events, deliveries).await?;
        for webhook_id in &planned.in_line {
            let now_ms = planned.now.timestamp_millis();
            ordered::release_next(txn, *webhook_id, now_ms, &mut self.queued).await?;
        }
        Ok(self.settle(planned))
    }

    /// What publishing `events` writes, read through `db` (the webhooks subscribed, the ids
    /// already stored) but not yet written; places in the engine are reserved for the
    /// deliveries it has room for.
    async fn plan(
        &mut self,
        db: &impl ConnectionTrait,
        org: &OrgId,
        events: Vec<NewEvent>,
    ) -> Result<Planned, DbErr> {
        let given = events.iter().filter_map(|e| e.id.as_deref());
        let stored = rows::stored_ids(db, org, given).await?;
        let duplicate_counts =
            rows::count_deliveries(db, org, stored.iter().map(String::as_str)).await?;

        let now = time::now();
        let mut planned = Planned {
            results: Vec::with_capacity(events.len()),
            events: Vec::new(),
            deliveries: Vec::new(),
            in_line: BTreeSet::new(),
            reserved: Vec::new(),
            payloads: HashMap::new(),
            now,
        };
        let mut seen_in_request: HashMap<String, usize> = HashMap::new();
        for new in events {
            let id = new.id.clone().unwrap_or_else(|| new_id("evt"));
            if stored.contains(&id) || seen_in_request.contains_key(&id) {
                let deliveries = match seen_in_request.get(&id) {
                    Some(first) => planned.results[*first].deliveries,
                    None => duplicate_counts.get(&id).copied().unwrap_or(0),
                };
                planned.results.push(Published {
                    id,
                    deliveries,
                    duplicate: true,
                    handed: 0,
                });
                continue;
            }
            let catalog_type =
                catalog::find(new.event_type).expect("published types come from the catalog");
            let targets: Vec<Arc<webhook::Model>> = self
                .fan_out
                .subscribed(db, org, new.event_type)
                .await?
                .iter()
                .filter(|t| new.except_webhook != Some(t.id))
                .filter(|t| {
                    t.filters
                        .as_ref()
                        .is_none_or(|f| catalog_type.passes(f, &new.data))
                })
                .cloned()
                .collect();
            let payload = envelope(&id, new.event_type, org, new.timestamp, &new.data);
            let first = planned.deliveries.len();
            planned.deliveries.extend(targets.iter().map(|webhook| {
                let mut delivery = rows::new_delivery(org, &id, webhook.id, new.event_type, now);
                if webhook.ordered {
                    // In line behind what the webhook has pending: released once written.
                    delivery.due_at = ordered::PARKED;
                    planned.in_line.insert(webhook.id);
                }
                delivery
            }));
            if let Some(handoff) = self.handoff {
                let before = planned.reserved.len();
                let fresh = &mut planned.deliveries[first..];
                reserve(handoff, &targets, fresh, now, &mut planned.reserved, first);
                if planned.reserved.len() > before {
                    planned
                        .payloads
                        .insert(id.clone(), Arc::from(payload.as_str()));
                }
            }
            planned.events.push(event::ActiveModel {
                id: Set(id.clone()),
                org_id: Set(org.to_string()),
                event_type: Set(new.event_type.to_owned()),
                payload: Set(payload),
                created_at: Set(now),
            });
            seen_in_request.insert(id.clone(), planned.results.len());
            planned.results.push(Published {
                id,
                deliveries: targets.len() as u64,
                duplicate: false,
                handed: 0,
            });
        }
        Ok(planned)
    }

    /// Takes in a written plan: its webhooks' turns, the deliveries to hand over at commit,
    /// and whether any is left for a claim.
    fn settle(&mut self, planned: Planned) -> Vec<Published> {
        let Planned {
            mut results,
            deliveries,
            reserved,
            payloads,
            ..
        } = planned;
        for delivery in deliveries.iter().filter(|d| !ordered::is_parked(d.due_at)) {
            // A delivery handed to this instance is claimable by others only if its lease ends.
            let ready_at = delivery.lease_until.unwrap_or(delivery.due_at);
            self.queued
                .add(delivery.webhook_id, &delivery.org_id, ready_at);
        }
        if !reserved.is_empty() {
            let handed = hand_over(reserved, &deliveries, &payloads, &self.fan_out.webhooks);
            let mut per_event: HashMap<&str, u64> = HashMap::new();
            for one in &handed {
                *per_event.entry(one.delivery.event_id.as_str()).or_default() += 1;
            }
            for result in results.iter_mut().filter(|r| !r.duplicate) {
                result.handed = per_event.get(result.id.as_str()).copied().unwrap_or(0);
            }
            self.handed.extend(handed);
        }
        self.to_claim |= results.iter().any(|r| r.to_claim() > 0);
        results
    }

    /// The webhooks this batch gave deliveries, for a caller that commits the transaction
    /// itself (it writes them last, with [`Queued::write`]).
    pub fn into_queued(self) -> Queued {
        self.queued
    }

    /// Commits, waking the workers if a delivery waits for a claim, then hands the reserved
    /// deliveries to the engine.
    pub async fn commit(self, txn: DatabaseTransaction, wake: &Wake) -> Result<(), DbErr> {
        self.queued.write(&txn).await?;
        if self.to_claim {
            wake.commit(txn).await?;
        } else {
            crate::infra::db::commit(txn).await?;
        }
        if let Some(handoff) = self.handoff {
            handoff.hand(self.handed);
        }
        Ok(())
    }
}

/// Publishes in a transaction of their own.
pub async fn publish(
    db: &impl TransactionTrait<Transaction = DatabaseTransaction>,
    wake: &Wake,
    handoff: Option<&dyn Handoff>,
    org: &OrgId,
    events: Vec<NewEvent>,
) -> Result<Vec<Published>, DbErr> {
    let txn = crate::infra::db::begin_write(db).await?;
    let mut batch = Batch::new(handoff);
    let published = batch.publish(&txn, org, events).await?;
    batch.commit(txn, wake).await?;
    Ok(published)
}

/// Takes a place in the engine for each of an event's fresh deliveries (to `targets`, in
/// order) that it has room for, and writes those leased. `offset` is the first one's index
/// among the transaction's deliveries.
fn reserve(
    handoff: &dyn Handoff,
    targets: &[Arc<webhook::Model>],
    fresh: &mut [delivery::Model],
    now: DateTime<Utc>,
    reserved: &mut Vec<(usize, Reservation)>,
    offset: usize,
) {
    let lease_until = handoff.lease_until(now.timestamp_millis());
    for (index, (delivery, webhook)) in fresh.iter_mut().zip(targets).enumerate() {
        if let Some(place) = handoff.reserve(delivery, webhook) {
            delivery.lease_until = Some(lease_until);
            delivery.leases = 1;
            reserved.push((offset + index, place));
        }
    }
}

/// The reserved deliveries with what the engine needs to send them: their payloads and their
/// webhooks, both already in hand.
fn hand_over(
    reserved: Vec<(usize, Reservation)>,
    deliveries: &[delivery::Model],
    payloads: &HashMap<String, Arc<str>>,
    webhooks: &HashMap<Uuid, Arc<webhook::Model>>,
) -> Vec<Handed> {
    reserved
        .into_iter()
        .filter_map(|(index, place)| {
            let delivery = deliveries[index].clone();
            Some(Handed {
                payload: payloads.get(&delivery.event_id)?.clone(),
                webhook: webhooks.get(&delivery.webhook_id)?.clone(),
                delivery,
                reservation: place,
            })
        })
        .collect()
}

//! Where deliveries take their place in this instance: a global slot each, a lane per webhook
//! (its requests at once, and as many queued behind them) and a share per organization. The claim
//! loop and the publisher's handoff both reserve here; a slot gives its places back as the
//! receiver answers and as the outcome is written.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering::Relaxed},
    },
};

use entity::{delivery, webhook};
use sea_orm::prelude::Uuid;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::claim::Full;
use crate::infra::{metrics::Metrics, wake::Wake};

/// Per webhook, how many deliveries this instance holds beyond those it is sending: as many
/// again as the webhook's request limit, so when a request is answered the next one goes out at
/// once instead of after a claim's round trips. Measured end to end on SQLite: without them,
/// the database sat idle 45 % of the time while each answer waited for the next claim.
const CLAIM_AHEAD: usize = 2;

/// Deliveries this instance holds: every one claimed and not yet recorded, per webhook a lane
/// of those not yet answered, and per organization how many of those it has.
#[derive(Default)]
pub(super) struct InFlight {
    pub(super) deliveries: HashMap<Uuid, Uuid>,
    pub(super) lanes: HashMap<Uuid, Lane>,
    pub(super) orgs: HashMap<String, usize>,
}

/// One webhook's deliveries that are not answered yet: queued or sending.
pub(super) struct Lane {
    held: usize,
    /// Most it may hold: fewer for a rate-limited webhook (see `Lanes::hold_for`).
    limit: usize,
    /// One permit per request the receiver may see at once; queued deliveries wait on it, in
    /// the order they were claimed.
    gate: Arc<Semaphore>,
}

impl InFlight {
    /// Takes a delivery on; returns its webhook's gate.
    pub(super) fn start(
        &mut self,
        delivery: Place<'_>,
        per_webhook: usize,
        limit: usize,
    ) -> Arc<Semaphore> {
        let Place {
            delivery_id,
            webhook_id,
            org_id,
        } = delivery;
        self.deliveries.insert(delivery_id, webhook_id);
        *self.orgs.entry(org_id.to_owned()).or_default() += 1;
        let lane = self.lanes.entry(webhook_id).or_insert_with(|| Lane {
            held: 0,
            limit,
            gate: Arc::new(Semaphore::new(per_webhook)),
        });
        lane.held += 1;
        lane.gate.clone()
    }

    /// A delivery's place in its webhook's lane and its organization's share is free again;
    /// true if that made room where there was none (`per_org` is the organization's share).
    pub(super) fn answered(&mut self, webhook_id: Uuid, org_id: &str, per_org: usize) -> bool {
        let mut made_room = false;
        if let Some(lane) = self.lanes.get_mut(&webhook_id) {
            made_room |= lane.held >= lane.limit;
            lane.held -= 1;
            if lane.held == 0 {
                self.lanes.remove(&webhook_id);
            }
        }
        if let Some(held) = self.orgs.get_mut(org_id) {
            made_room |= *held >= per_org;
            *held -= 1;
            if *held == 0 {
                self.orgs.remove(org_id);
            }
        }
        made_room
    }

    pub(super) fn recorded(&mut self, delivery_id: &Uuid) {
        self.deliveries.remove(delivery_id);
    }

    /// How many more a webhook may hold: its lane's limit (`limit` when it has none) less what
    /// it holds.
    pub(super) fn room(&self, webhook_id: Uuid, limit: usize) -> usize {
        self.lanes
            .get(&webhook_id)
            .map_or(limit, |lane| lane.limit.saturating_sub(lane.held))
    }

    /// Deliveries held for an organization and not answered yet.
    pub(super) fn org_count(&self, org_id: &str) -> usize {
        self.orgs.get(org_id).copied().unwrap_or(0)
    }

    /// Webhooks and organizations with no room left: not worth reading candidates for.
    pub(super) fn full(&self, per_org: usize) -> Full {
        Full {
            webhooks: self
                .lanes
                .iter()
                .filter(|(_, lane)| lane.held >= lane.limit)
                .map(|(id, _)| *id)
                .collect(),
            orgs: self
                .orgs
                .iter()
                .filter(|(_, held)| **held >= per_org)
                .map(|(id, _)| id.clone())
                .collect(),
        }
    }
}

/// Who a delivery is for: what its place in the engine is counted against.
#[derive(Clone, Copy)]
pub(super) struct Place<'a> {
    pub delivery_id: Uuid,
    pub webhook_id: Uuid,
    pub org_id: &'a str,
}

impl<'a> From<&'a delivery::Model> for Place<'a> {
    fn from(delivery: &'a delivery::Model) -> Self {
        Self {
            delivery_id: delivery.id,
            webhook_id: delivery.webhook_id,
            org_id: &delivery.org_id,
        }
    }
}

/// A delivery's place in this instance, in two parts.
///
/// - Its place in its webhook's lane, given back as soon as the receiver answers.
/// - Its global slot, given back only once the outcome is written, so a request answered but
///   not yet recorded still counts, and duplicates after a crash stay bounded by the global
///   limit. The webhook's next requests go out while the last ones are being written; holding
///   the webhook's place until then made each webhook send, wait and write in lockstep.
pub struct InFlightSlot {
    delivery_id: Uuid,
    webhook_id: Uuid,
    org_id: String,
    awaiting_answer: bool,
    sending: bool,
    /// Its answer freed a full lane or organization share.
    made_room: bool,
    /// Its organization's share of this instance.
    per_org: usize,
    permit: OwnedSemaphorePermit,
    in_flight: Arc<Mutex<InFlight>>,
    metrics: Arc<Metrics>,
    wake: Wake,
    room_wanted: Arc<AtomicBool>,
}

impl InFlightSlot {
    /// Its webhook's gate let it through: the request goes out now.
    pub(super) fn sending(&mut self) {
        self.sending = true;
        self.metrics.in_flight.fetch_add(1, Relaxed);
    }

    /// The receiver answered (or the attempt ended otherwise): its webhook's lane has room for
    /// another.
    pub(super) fn answered(&mut self) {
        if std::mem::take(&mut self.awaiting_answer) {
            if let Ok(mut in_flight) = self.in_flight.lock() {
                self.made_room = in_flight.answered(self.webhook_id, &self.org_id, self.per_org);
            }
            if std::mem::take(&mut self.sending) {
                self.metrics.in_flight.fetch_sub(1, Relaxed);
            }
        }
    }
}

impl std::fmt::Debug for InFlightSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlightSlot")
            .field("delivery_id", &self.delivery_id)
            .finish()
    }
}

impl Drop for InFlightSlot {
    fn drop(&mut self) {
        self.answered();
        if let Ok(mut in_flight) = self.in_flight.lock() {
            in_flight.recorded(&self.delivery_id);
        }
        // Woken only if the loop left deliveries behind for lack of room and this slot makes
        // some: a full lane or share it freed, or a global slot when none was free. Waking it
        // for every slot given back cost two queries per delivery at a moderate rate, to find
        // nothing; so did waking it for any slot while a rate-limited webhook's lane, full of
        // deliveries waiting for their turns, kept asking for room (a claim, finding nothing,
        // after nearly every delivery of everyone else).
        let all_slots_taken = self.permit.semaphore().available_permits() == 0;
        if (self.made_room || all_slots_taken) && self.room_wanted.swap(false, Relaxed) {
            self.wake.here();
        }
    }
}

/// Where deliveries take their place in this instance: the global slots and the webhooks'
/// lanes. Shared by the claim loop and the publisher's handoff.
#[derive(Clone)]
pub(super) struct Lanes {
    pub(super) slots: Arc<Semaphore>,
    pub(super) in_flight: Arc<Mutex<InFlight>>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) wake: Wake,
    pub(super) per_webhook: usize,
    /// Most deliveries one organization may hold and not have answered: its share of the
    /// engine, so a backlog or slow receivers of one never take every slot.
    pub(super) per_org: usize,
    /// Set when the loop left deliveries in the database for lack of room (no free slot, or a
    /// webhook or organization at its limit): the next slot given back that makes such room
    /// wakes it to claim them.
    pub(super) room_wanted: Arc<AtomicBool>,
}

impl Lanes {
    /// The loop left deliveries behind for lack of room.
    pub(super) fn want_room(&self) {
        self.room_wanted.store(true, Relaxed);
    }

    /// Most deliveries held for one webhook and not answered: its request limit, and as many
    /// queued behind them.
    pub(super) fn held_per_webhook(&self) -> usize {
        self.per_webhook * CLAIM_AHEAD
    }

    /// Most deliveries this instance holds for `webhook`: for a rate-limited one, about a
    /// second of its sends (they wait for their turn under the lease, so it must stay short).
    pub(super) fn hold_for(&self, webhook: &webhook::Model) -> usize {
        self.hold_at_rate(webhook.rate_limit)
    }

    /// `hold_for` a webhook with this rate limit.
    pub(super) fn hold_at_rate(&self, rate_limit: Option<i32>) -> usize {
        let held = self.held_per_webhook();
        match rate_limit {
            Some(per_second) => (per_second.max(1) as usize).min(held),
            None => held,
        }
    }

    /// Takes a place for a delivery if a global slot is free, its webhook's lane holds fewer
    /// than `hold` and its organization's share has room.
    pub(super) fn reserve(&self, place: Place<'_>, hold: usize) -> Option<Reserved> {
        let permit = self.slots.clone().try_acquire_owned().ok()?;
        let gate = {
            let mut in_flight = self.in_flight.lock().unwrap();
            if in_flight.room(place.webhook_id, hold) == 0
                || in_flight.org_count(place.org_id) >= self.per_org
            {
                return None;
            }
            in_flight.start(place, self.per_webhook, hold)
        };
        let slot = InFlightSlot {
            delivery_id: place.delivery_id,
            webhook_id: place.webhook_id,
            org_id: place.org_id.to_owned(),
            awaiting_answer: true,
            sending: false,
            made_room: false,
            per_org: self.per_org,
            permit,
            in_flight: self.in_flight.clone(),
            metrics: self.metrics.clone(),
            wake: self.wake.clone(),
            room_wanted: self.room_wanted.clone(),
        };
        Some(Reserved { slot, gate })
    }
}

/// The engine's place for one delivery: its in-flight slot and its webhook's gate.
pub struct Reserved {
    pub(super) slot: InFlightSlot,
    pub(super) gate: Arc<Semaphore>,
}

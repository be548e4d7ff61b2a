//! Handing fresh deliveries straight to this instance's engine.
//!
//! A publish normally writes its deliveries and wakes a worker, which then claims them back:
//! read the candidates, write the lease, read the payloads and the webhooks — four statements
//! and a commit before the first request leaves. When the engine has room, the publisher
//! instead reserves a place for a delivery before writing it, writes it already leased to this
//! instance, and after the commit hands it over with its payload and webhook in memory.
//!
//! Nothing is lost by the shortcut: the delivery is in the database, leased like any claimed
//! one. If this process dies before sending it, the lease runs out and any instance claims it.

use std::sync::Arc;

use entity::{delivery, webhook};
use tokio::sync::{Semaphore, mpsc};

use super::lanes::{InFlightSlot, Lanes, Place};

/// A place reserved in the engine for one delivery not yet written. Dropped unused (the
/// publish failed), it gives the place back.
pub struct Reserved {
    pub(super) slot: InFlightSlot,
    pub(super) gate: Arc<Semaphore>,
}

/// A delivery written leased to this instance, ready to send.
pub struct Handed {
    pub delivery: delivery::Model,
    pub reserved: Reserved,
    /// The event's body, shared by its deliveries.
    pub payload: Arc<str>,
    pub webhook: Arc<webhook::Model>,
}

/// The publisher's way into the engine. Cheap to clone.
#[derive(Clone)]
pub struct Handoff {
    pub(super) lanes: Lanes,
    pub(super) lease_ms: i64,
    /// Unbounded, yet never holding more than the engine's slots: every delivery in it holds
    /// one of them.
    pub(super) handed: mpsc::UnboundedSender<Vec<Handed>>,
}

impl Handoff {
    /// A place for this delivery, if its webhook's lane, its organization's share and the
    /// engine all have room now.
    pub fn reserve(&self, delivery: &delivery::Model) -> Option<Reserved> {
        // A stopped engine takes nothing more: what is published while the server finishes
        // its last requests is left for a claim, not leased to an engine that is gone.
        if self.handed.is_closed() {
            return None;
        }
        self.lanes.reserve(Place::from(delivery))
    }

    /// The lease a reserved delivery is written with (Unix ms).
    pub fn lease_until(&self, now_ms: i64) -> i64 {
        now_ms + self.lease_ms
    }

    /// Hands committed deliveries to the engine. If it has stopped, they stay leased in the
    /// database until the lease runs out, and are claimed then.
    pub fn hand(&self, handed: Vec<Handed>) {
        if !handed.is_empty() {
            let _ = self.handed.send(handed);
        }
    }
}

//! The engine's side of [`crate::domain::handoff`]: a publish reserves a place in the lanes,
//! and hands the committed delivery to the run loop.

use entity::{delivery, webhook};
use tokio::sync::mpsc;

use super::lanes::{Lanes, Place};
use crate::domain::handoff::{Handed, Handoff, Reservation};

/// The publisher's way into this instance's engine. Cheap to clone.
#[derive(Clone)]
pub struct EngineHandoff {
    pub(super) lanes: Lanes,
    pub(super) lease_ms: i64,
    /// Unbounded, yet never holding more than the engine's slots: every delivery in it holds
    /// one of them.
    pub(super) handed: mpsc::UnboundedSender<Vec<Handed>>,
}

impl Handoff for EngineHandoff {
    /// A place if the delivery's webhook lane, its organization's share and the engine all
    /// have room now.
    fn reserve(&self, delivery: &delivery::Model, webhook: &webhook::Model) -> Option<Reservation> {
        // A stopped engine takes nothing more: what is published while the server finishes
        // its last requests is left for a claim, not leased to an engine that is gone.
        // A rate-limited webhook's deliveries are claimed, where their send times are reserved
        // together (`pace`).
        // So are an ordered webhook's: each waits in line in the database (`domain::ordered`).
        if self.handed.is_closed() || webhook.rate_limit.is_some() || webhook.ordered {
            return None;
        }
        self.lanes
            .reserve(Place::from(delivery), self.lanes.held_per_webhook())
            .map(Reservation::new)
    }

    fn lease_until(&self, now_ms: i64) -> i64 {
        now_ms + self.lease_ms
    }

    fn hand(&self, handed: Vec<Handed>) {
        if !handed.is_empty() {
            let _ = self.handed.send(handed);
        }
    }
}

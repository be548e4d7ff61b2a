//! Handing fresh deliveries straight to this instance's engine: the engine as a publish sees
//! it.
//!
//! A publish normally writes its deliveries and wakes a worker, which then claims them back:
//! read the candidates, write the lease, read the payloads and the webhooks — four statements
//! and a commit before the first request leaves. When the engine has room, a publish instead
//! reserves a place for a delivery before writing it, writes it already leased to this
//! instance, and after the commit hands it over with its payload and webhook in memory.
//!
//! Nothing is lost by the shortcut: the delivery is in the database, leased like any claimed
//! one. If this process dies before sending it, the lease runs out and any instance claims it.

use std::{any::Any, sync::Arc};

use entity::{delivery, webhook};

/// What the engine offers a publish. The engine implements it (`delivery::handoff`); the
/// domain knows nothing of its slots and lanes.
pub trait Handoff: Send + Sync {
    /// A place for this delivery to `webhook`, if the engine has room for it now.
    fn reserve(&self, delivery: &delivery::Model, webhook: &webhook::Model) -> Option<Reservation>;

    /// The lease a reserved delivery is written with (Unix ms).
    fn lease_until(&self, now_ms: i64) -> i64;

    /// Hands committed deliveries to the engine. If it has stopped, they stay leased in the
    /// database until the lease runs out, and are claimed then.
    fn hand(&self, handed: Vec<Handed>);
}

/// A place held in the engine for one delivery not yet written. What it holds is the
/// engine's; dropped unused (the publish failed), it gives the place back.
pub struct Reservation(Box<dyn Any + Send + Sync>);

impl Reservation {
    pub fn new(place: impl Any + Send + Sync) -> Self {
        Self(Box::new(place))
    }

    /// The engine's place, if this reservation holds a `T`.
    pub fn into_inner<T: Any>(self) -> Option<T> {
        self.0.downcast().ok().map(|place| *place)
    }
}

/// A delivery written leased to this instance, ready to send.
pub struct Handed {
    pub delivery: delivery::Model,
    pub reservation: Reservation,
    /// The event's body, shared by its deliveries.
    pub payload: Arc<str>,
    pub webhook: Arc<webhook::Model>,
}

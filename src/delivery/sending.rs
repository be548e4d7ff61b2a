//! Each delivery on its own task: it waits for its webhook's lane (and, rate-limited, for its
//! turn), makes the attempt and hands the outcome to the recorder. And stopping them at
//! shutdown.

use std::{sync::Arc, time::Duration};

use entity::{delivery, webhook};
use tokio::{sync::mpsc, task::JoinSet};

use super::{
    attempt::attempt,
    client::Sender,
    lanes::{Lanes, Reserved},
    record::Outcome,
};
use crate::{domain::handoff::Handed, infra::cipher::SecretBox};

/// How long shutdown waits for deliveries in flight before giving the rest back.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Where one delivery goes and what it carries, both already in memory.
pub(super) struct Target {
    pub payload: Arc<str>,
    pub webhook: Arc<webhook::Model>,
}

/// What the run loop sends with: the recorder's channel, the tasks sending, and the deliveries
/// the publisher hands over.
pub(super) struct Sending {
    pub outcomes: mpsc::Sender<Outcome>,
    pub tasks: JoinSet<()>,
    pub handed: mpsc::UnboundedReceiver<Vec<Handed>>,
    pub sender: Arc<Sender>,
    /// Opens the webhooks' stored secrets for signing.
    pub secrets: Arc<SecretBox>,
}

impl Sending {
    /// Sends one delivery on its own task, once its webhook's lane lets it through and `wait`
    /// (its rate-limited turn) is over.
    pub(super) fn spawn(
        &mut self,
        delivery: delivery::Model,
        reserved: Reserved,
        Target { payload, webhook }: Target,
        wait: Duration,
    ) {
        let Reserved { mut slot, gate } = reserved;
        let (sender, secrets) = (self.sender.clone(), self.secrets.clone());
        let outcomes = self.outcomes.clone();
        // Only a rate-limited turn sleeps: tokio's timer counts whole milliseconds, so even a
        // sleep until now would hold every delivery up to a millisecond.
        let turn_at = (!wait.is_zero()).then(|| tokio::time::Instant::now() + wait);
        self.tasks.spawn(async move {
            // Closed never: the lane's semaphore lives as long as the lane.
            let Ok(_turn) = gate.acquire_owned().await else {
                return;
            };
            if let Some(turn_at) = turn_at {
                tokio::time::sleep_until(turn_at).await;
            }
            slot.sending();
            let mut outcome = attempt(&sender, &secrets, delivery, &webhook, &payload).await;
            slot.answered();
            outcome.slot = Some(slot);
            let _ = outcomes.send(outcome).await;
        });
    }
}

/// Waits up to the grace period for requests in flight, then cancels the rest and returns
/// their delivery ids.
pub(super) async fn stop(lanes: &Lanes, mut tasks: JoinSet<()>) -> Vec<String> {
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_ok() {
        return Vec::new();
    }
    // Taken before cancelling: a cancelled task gives its slot back as it is dropped.
    let unfinished = lanes
        .in_flight
        .lock()
        .unwrap()
        .deliveries
        .keys()
        .cloned()
        .collect();
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    unfinished
}

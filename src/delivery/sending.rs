//! Each delivery on its own task: it waits for its webhook's lane (and, rate-limited, for its
//! reserved turn), makes the attempt and hands the outcome to the recorder. And stopping them at
//! shutdown.

use std::{sync::Arc, time::Duration};

use entity::{delivery, webhook};
use sea_orm::{DatabaseConnection, prelude::Uuid};
use tokio::{sync::mpsc, task::JoinSet, time::Instant};

use super::{
    attempt::attempt,
    claim::release,
    client::Sender,
    lanes::{Lanes, Reserved},
    pace,
    record::Outcome,
    turns,
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

/// A claimed delivery with its place here and its target, waiting for its reserved turn.
pub(super) type Paced = (delivery::Model, Reserved, Target);

impl Sending {
    /// Sends one delivery on its own task, once its webhook's lane lets it through.
    pub(super) fn spawn(&mut self, delivery: delivery::Model, reserved: Reserved, target: Target) {
        self.tasks
            .spawn(self.attempts().send(delivery, reserved, target, None));
    }

    /// Sends a rate-limited webhook's deliveries from one task: it reserves their send times in
    /// the webhook's row, shared with every other instance (`pace`), holds the webhook's turn
    /// until the last of them, then sends each at its time. Off the run loop: its two round
    /// trips per webhook would otherwise hold up every delivery the publisher hands over
    /// meanwhile, and a backlog on paced webhooks is claimed several times a second.
    pub(super) fn spawn_paced(
        &mut self,
        db: &DatabaseConnection,
        webhook_id: Uuid,
        per_second: i32,
        deliveries: Vec<Paced>,
    ) {
        let (db, attempts) = (db.clone(), self.attempts());
        self.tasks.spawn(async move {
            let booked = pace::reserve(&db, webhook_id, per_second, deliveries.len()).await;
            let pace::Booked { turns, now_us } = match booked {
                Ok(Some(booked)) => booked,
                // The webhook is gone: nothing to send; the leases run out.
                Ok(None) => return,
                Err(err) => {
                    tracing::warn!(error = %err, "reserving send times failed; giving the deliveries back");
                    let ids: Vec<Uuid> = deliveries.into_iter().map(|(d, _, _)| d.id).collect();
                    if let Err(err) = release(&db, &ids).await {
                        tracing::warn!(error = %err, "releasing deliveries failed; their lease will expire");
                    }
                    return;
                }
            };
            let booked_at = Instant::now();
            let last_ms = (turns.at_us(deliveries.len() - 1) + 999) / 1000;
            let mut sends = JoinSet::new();
            for (index, (delivery, reserved, target)) in deliveries.into_iter().enumerate() {
                let turn_at = booked_at + turns.wait(index, now_us);
                let send = attempts.clone().send(delivery, reserved, target, Some(turn_at));
                sends.spawn(send);
            }
            // No claim need look at the webhook again before its last turn here comes.
            if let Err(err) = turns::hold_until(&db, webhook_id, last_ms).await {
                tracing::warn!(error = %err, "could not hold a rate-limited webhook's turn; a claim will find it full");
            }
            while sends.join_next().await.is_some() {}
        });
    }

    fn attempts(&self) -> Attempts {
        Attempts {
            sender: self.sender.clone(),
            secrets: self.secrets.clone(),
            outcomes: self.outcomes.clone(),
        }
    }
}

/// What a delivery's task makes its attempt with.
#[derive(Clone)]
struct Attempts {
    sender: Arc<Sender>,
    secrets: Arc<SecretBox>,
    outcomes: mpsc::Sender<Outcome>,
}

impl Attempts {
    /// Waits for the webhook's lane (and, rate-limited, for `turn_at`), makes the attempt and
    /// hands the outcome to the recorder.
    async fn send(
        self,
        delivery: delivery::Model,
        Reserved { mut slot, gate }: Reserved,
        Target { payload, webhook }: Target,
        turn_at: Option<Instant>,
    ) {
        // Closed never: the lane's semaphore lives as long as the lane.
        let Ok(_turn) = gate.acquire_owned().await else {
            return;
        };
        // Only a rate-limited turn sleeps: tokio's timer counts whole milliseconds, so even a
        // sleep until now would hold every delivery up to a millisecond.
        if let Some(turn_at) = turn_at.filter(|at| *at > Instant::now()) {
            tokio::time::sleep_until(turn_at).await;
        }
        slot.sending();
        let mut outcome = attempt(&self.sender, &self.secrets, delivery, &webhook, &payload).await;
        slot.answered();
        outcome.slot = Some(slot);
        let _ = self.outcomes.send(outcome).await;
    }
}

/// Waits up to the grace period for requests in flight, then cancels the rest and returns
/// their delivery ids.
pub(super) async fn stop(lanes: &Lanes, mut tasks: JoinSet<()>) -> Vec<Uuid> {
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

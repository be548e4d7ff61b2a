//! The recorder: one task per engine that writes outcomes in batches (each batch one
//! transaction, see `record`), counts them in the metrics, and wakes the run loop after a batch
//! that scheduled a retry.

use std::{
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use sea_orm::DatabaseConnection;
use tokio::sync::{Semaphore, mpsc};

use super::record::{Outcome, Policy, record};
use crate::infra::{metrics::Metrics, wake::Wake};

/// Most outcomes written per transaction.
const RECORD_BATCH: usize = 500;
/// How long the recorder waits for more outcomes once one arrives, so a transaction carries more
/// than the one or two that happened to be ready, while the engine has slots to spare. No
/// receiver waits for it: only the slot, held until the outcome is written, and a retry's
/// scheduling. At a moderate rate each transaction is several round trips to the database's
/// thread, which is what the CPU per event is made of; a busy engine writes at once.
const RECORD_LINGER: Duration = Duration::from_millis(10);
/// What the recorder needs from its engine.
pub(super) struct Recorder {
    pub db: DatabaseConnection,
    pub policy: Policy,
    /// The run loop's wake.
    pub wake: Wake,
    pub metrics: Arc<Metrics>,
    /// The engine's slots (`concurrency` of them), to tell a busy engine from an idle one.
    pub slots: Arc<Semaphore>,
    pub concurrency: usize,
}

/// Each outcome waiting holds its slot: lingering is free only while more than half the slots
/// are (with a single slot, never: it would hold the engine still).
fn may_linger(free_slots: usize, concurrency: usize) -> bool {
    free_slots * 2 > concurrency
}

/// Starts the task that writes outcomes in batches and wakes the loop after a batch that
/// scheduled a retry (it may now be due sooner than the loop planned to look).
pub(super) fn start(recorder: Recorder) -> (mpsc::Sender<Outcome>, tokio::task::JoinHandle<()>) {
    let Recorder {
        db,
        policy,
        wake,
        metrics,
        slots,
        concurrency,
    } = recorder;
    // Outcomes waiting to be written, at most: each holds a slot, so twice the slots is room.
    let (tx, mut rx) = mpsc::channel::<Outcome>(concurrency * 2);
    let busy = move || !may_linger(slots.available_permits(), concurrency);
    let handle = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(RECORD_BATCH);
        while rx.recv_many(&mut batch, RECORD_BATCH).await > 0 {
            let linger_until = tokio::time::Instant::now() + RECORD_LINGER;
            while batch.len() < RECORD_BATCH && !busy() {
                let room = RECORD_BATCH - batch.len();
                let more = rx.recv_many(&mut batch, room);
                match tokio::time::timeout_at(linger_until, more).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            let started = std::time::Instant::now();
            let written = record(&db, &policy, &batch).await;
            tracing::debug!(outcomes = batch.len(), took = ?started.elapsed(), "recorded");
            match written {
                Ok(recorded) => {
                    if recorded.pending > 0 {
                        wake.here();
                    }
                    metrics
                        .attempts_delivered
                        .fetch_add(recorded.delivered, Relaxed);
                    metrics
                        .attempts_retrying
                        .fetch_add(recorded.pending, Relaxed);
                    metrics.attempts_failed.fetch_add(recorded.failed, Relaxed);
                    metrics
                        .webhooks_disabled
                        .fetch_add(recorded.disabled, Relaxed);
                    for outcome in &batch {
                        observe(&metrics, outcome);
                    }
                    crate::domain::webhooks::purge_later(db.clone(), recorded.removed);
                }
                Err(err) => {
                    // Not lost: the deliveries are still leased and come back when it ends.
                    tracing::error!(error = %err, outcomes = batch.len(), "recording outcomes failed");
                }
            }
            batch.clear();
        }
    });
    (tx, handle)
}

/// Counts one recorded attempt in the metrics: its class, its duration, and for a delivery's
/// first attempt (a replay's aside) the time since its event was published.
fn observe(metrics: &Metrics, outcome: &Outcome) {
    let took = Duration::from_millis(outcome.result.duration_ms.max(0) as u64);
    let delivery = &outcome.delivery;
    let since_publish = (delivery.attempts == 0 && !delivery.replay)
        .then(|| outcome.at.timestamp_millis() - delivery.created_at)
        .and_then(|waited| u64::try_from(waited).ok())
        .map(|waited| Duration::from_millis(waited) + took);
    metrics.observe_attempt(outcome.result.class(), took, since_publish);
}

#[cfg(test)]
mod tests {
    use super::may_linger;

    #[test]
    fn the_recorder_lingers_only_while_most_slots_are_free() {
        assert!(may_linger(64, 64));
        assert!(may_linger(33, 64));
        assert!(!may_linger(32, 64), "half the slots taken: write at once");
        assert!(
            !may_linger(0, 1),
            "the only slot held by the outcome waiting"
        );
        assert!(!may_linger(1, 2));
    }
}

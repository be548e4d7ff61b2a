//! The worker loop: claim what is due, send each delivery on its own task once it has a place
//! (`lanes`: a global slot, its webhook's lane, its organization's share), hand outcomes to the
//! recorder, and sleep only until the next thing is due (or a publish wakes it).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, atomic::Ordering::Relaxed},
    time::Duration,
};

use entity::delivery;
use sea_orm::DatabaseConnection;
use tokio::{
    sync::{Semaphore, mpsc, watch},
    task::JoinSet,
};

use uuid::Uuid;

use super::{
    claim::{Ask, Claimed, Room, Targets, claim_due, next_due, release},
    client::Sender,
    handoff::EngineHandoff,
    lanes::{Lanes, Place, Reserved},
    listen, prune,
    record::{Outcome, Policy},
    recorder::{self, Recorder},
    sending::{self, Paced, Sending, Target},
    settings::EngineSettings,
};
use crate::{
    config::Config,
    domain::handoff::{Handed, Handoff},
    infra::{cipher::SecretBox, metrics::Metrics, targets::Lookup, time, wake::Wake},
};

/// Most deliveries claimed per round trip.
const CLAIM_BATCH: usize = 200;
/// Shortest sleep between empty claims, so a worker that finds nothing it may take never spins.
const MIN_WAIT: Duration = Duration::from_millis(20);

/// What the engine shares with the rest of this instance.
pub struct Shared {
    /// Woken by publishes, retries and other instances' `NOTIFY`.
    pub wake: Wake,
    pub metrics: Arc<Metrics>,
    /// Resolves webhook hosts at delivery (the outbound policy checks the address used).
    pub lookup: Lookup,
    /// Opens webhook secrets to sign.
    pub secrets: Arc<SecretBox>,
}

pub struct Engine {
    db: DatabaseConnection,
    sender: Arc<Sender>,
    /// Opens the webhooks' stored secrets for signing.
    secrets: Arc<SecretBox>,
    settings: EngineSettings,
    lanes: Lanes,
    handoff: EngineHandoff,
    /// Deliveries handed over by the publisher; taken by `run`.
    handed: Mutex<Option<mpsc::UnboundedReceiver<Vec<Handed>>>>,
}

impl Engine {
    pub fn new(db: DatabaseConnection, config: &Config, shared: Shared) -> anyhow::Result<Self> {
        let Shared {
            wake,
            metrics,
            lookup,
            secrets,
        } = shared;
        let settings = EngineSettings::from_config(config);
        let lanes = Lanes {
            slots: Arc::new(Semaphore::new(settings.concurrency)),
            in_flight: Arc::default(),
            metrics,
            wake,
            per_webhook: settings.per_webhook,
            per_org: settings.per_org,
            room_wanted: Arc::default(),
        };
        let (handed_tx, handed) = mpsc::unbounded_channel();
        Ok(Self {
            sender: Arc::new(Sender::new(
                config.delivery_timeout,
                config.allow_private_targets,
                lookup,
            )?),
            secrets,
            handoff: EngineHandoff {
                lanes: lanes.clone(),
                lease_ms: settings.lease.as_millis() as i64,
                handed: handed_tx,
            },
            handed: Mutex::new(Some(handed)),
            lanes,
            db,
            settings,
        })
    }

    /// The publisher's way to hand this engine fresh deliveries.
    pub fn handoff(&self) -> Arc<dyn Handoff> {
        Arc::new(self.handoff.clone())
    }

    /// Runs until `stop` turns true, then finishes or gives back what is in flight.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let (outcomes, recorder) = self.start_recorder();
        let pruner = tokio::spawn(prune::run(
            self.db.clone(),
            self.settings.retention,
            self.lanes.metrics.clone(),
            stop.clone(),
        ));
        let listener = tokio::spawn(listen::run(
            self.db.clone(),
            self.lanes.wake.clone(),
            stop.clone(),
        ));
        let handed = self.handed.lock().unwrap().take();
        let mut sending = Sending {
            outcomes,
            tasks: JoinSet::new(),
            handed: handed.expect("an engine runs once"),
            sender: self.sender.clone(),
            secrets: self.secrets.clone(),
        };
        while !*stop.borrow() {
            while sending.tasks.try_join_next().is_some() {}
            while let Ok(handed) = sending.handed.try_recv() {
                self.send_handed(handed, &mut sending);
            }
            let free = self.lanes.slots.available_permits().min(CLAIM_BATCH);
            if free == 0 {
                self.lanes.want_room();
            }
            let mut claimed_all = false;
            if free > 0 {
                match self.meanwhile(self.claim(free), &mut sending).await {
                    Ok(claimed) => {
                        claimed_all = claimed.deliveries.len() == free || claimed.more;
                        if claimed.left_behind {
                            // They wait for room: a slot given back wakes the loop for them.
                            self.lanes.want_room();
                        }
                        self.dispatch(claimed.deliveries, claimed.targets, &mut sending)
                            .await;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "claiming deliveries failed; retrying shortly");
                        self.pause(Duration::from_secs(1), &mut stop, &mut sending)
                            .await;
                        continue;
                    }
                }
            }
            if claimed_all {
                continue;
            }
            let wait = self
                .meanwhile(self.until_next_due(free == 0), &mut sending)
                .await;
            self.pause(wait, &mut stop, &mut sending).await;
        }
        let Sending {
            outcomes,
            tasks,
            mut handed,
            ..
        } = sending;
        let mut unfinished = sending::stop(&self.lanes, tasks).await;
        // Handed over but never sent: given back with the rest.
        handed.close();
        while let Ok(batch) = handed.try_recv() {
            unfinished.extend(batch.into_iter().map(|h| h.delivery.id));
        }
        drop(outcomes);
        // Outcomes already in hand are written before anything is given back.
        let _ = recorder.await;
        if !unfinished.is_empty() {
            tracing::info!(
                deliveries = unfinished.len(),
                "giving back deliveries still in flight"
            );
            if let Err(err) = release(&self.db, &unfinished).await {
                tracing::warn!(error = %err, "could not give deliveries back; their lease will expire");
            }
        }
        let _ = pruner.await;
        let _ = listener.await;
    }

    async fn claim(&self, limit: usize) -> Result<Claimed, sea_orm::DbErr> {
        let per_org = self.lanes.per_org;
        let in_flight = self.lanes.in_flight.clone();
        let full = in_flight.lock().unwrap().full(per_org);
        if !full.is_empty() {
            self.lanes.want_room();
        }
        let ask = Ask {
            now_ms: time::now().timestamp_millis(),
            lease_ms: self.settings.lease.as_millis() as i64,
            limit,
            full: &full,
        };
        let lanes = &self.lanes;
        lanes.metrics.claims.fetch_add(1, Relaxed);
        claim_due(&self.db, ask, move |webhook| {
            let in_flight = in_flight.lock().unwrap();
            Room {
                webhook: in_flight.room(webhook.webhook_id, lanes.hold_at_rate(webhook.rate_limit)),
                org: per_org.saturating_sub(in_flight.org_count(&webhook.org_id)),
            }
        })
        .await
    }

    /// How long to sleep: until the next webhook's turn, at most the poll interval.
    async fn until_next_due(&self, slots_full: bool) -> Duration {
        if slots_full {
            return self.settings.poll_interval;
        }
        let full = self
            .lanes
            .in_flight
            .lock()
            .unwrap()
            .full(self.lanes.per_org);
        let now = time::now().timestamp_millis();
        match next_due(&self.db, &full).await {
            // Never sooner than MIN_WAIT, so a webhook whose turn is now but whose deliveries
            // another instance holds locked is looked at again shortly rather than spun on.
            Ok(Some(due)) => Duration::from_millis(due.saturating_sub(now).max(0) as u64)
                .clamp(MIN_WAIT, self.settings.poll_interval),
            _ => self.settings.poll_interval,
        }
    }

    /// Awaits `work` (a claim, or the read of when the next turn comes), sending whatever the
    /// publisher hands over meanwhile: a hand-over never waits for the claim's round trips.
    /// Waiting did, beside a backlog worked by claims: another organization's live traffic
    /// then saw its p99 grow with every claim that happened to run as it arrived.
    async fn meanwhile<T>(&self, work: impl Future<Output = T>, sending: &mut Sending) -> T {
        tokio::pin!(work);
        loop {
            tokio::select! {
                biased;
                out = &mut work => return out,
                Some(handed) = sending.handed.recv() => self.send_handed(handed, sending),
            }
        }
    }

    /// Waits until woken, until `wait` is over or until told to stop — sending whatever the
    /// publisher hands over meanwhile, without going back to claim.
    async fn pause(&self, wait: Duration, stop: &mut watch::Receiver<bool>, sending: &mut Sending) {
        if wait.is_zero() {
            tokio::task::yield_now().await;
            return;
        }
        let until = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                () = self.lanes.wake.notified() => return,
                () = tokio::time::sleep_until(until) => return,
                _ = stop.changed() => return,
                Some(handed) = sending.handed.recv() => self.send_handed(handed, sending),
            }
        }
    }

    async fn dispatch(
        &self,
        claimed: Vec<delivery::Model>,
        targets: Targets,
        sending: &mut Sending,
    ) {
        if claimed.is_empty() {
            return;
        }
        tracing::debug!(deliveries = claimed.len(), "claimed");
        let mut over_limit = Vec::new();
        // Rate-limited webhooks' deliveries, sent once their turns are reserved.
        let mut paced: HashMap<Uuid, (i32, Vec<Paced>)> = HashMap::new();
        for delivery in claimed {
            let (Some(payload), Some(webhook)) = (
                targets.payload(&delivery),
                targets.webhooks.get(&delivery.webhook_id),
            ) else {
                // Its event or webhook was deleted since: nothing to send; the lease runs out.
                continue;
            };
            let hold = self.lanes.hold_for(webhook);
            let Some(reserved) = self.lanes.reserve(Place::from(&delivery), hold) else {
                over_limit.push(delivery.id);
                continue;
            };
            let (payload, webhook) = (payload.clone(), webhook.clone());
            self.lanes.metrics.taken_claimed.fetch_add(1, Relaxed);
            let target = Target { payload, webhook };
            if let Some(per_second) = target.webhook.rate_limit {
                let lane = paced.entry(delivery.webhook_id);
                lane.or_insert_with(|| (per_second, Vec::new()))
                    .1
                    .push((delivery, reserved, target));
            } else {
                sending.spawn(delivery, reserved, target);
            }
        }
        for (webhook_id, (per_second, deliveries)) in paced {
            sending.spawn_paced(&self.db, webhook_id, per_second, deliveries);
        }
        if !over_limit.is_empty() {
            self.lanes.want_room();
            if let Err(err) = release(&self.db, &over_limit).await {
                tracing::warn!(error = %err, "releasing deliveries over the limit failed; their lease will expire");
            }
        }
    }

    /// Deliveries the publisher wrote leased to this instance: sent without a claim.
    fn send_handed(&self, handed: Vec<Handed>, sending: &mut Sending) {
        tracing::debug!(deliveries = handed.len(), "handed over");
        let count = handed.len() as u64;
        self.lanes.metrics.taken_handed.fetch_add(count, Relaxed);
        for one in handed {
            let Some(reserved) = one.reservation.into_inner::<Reserved>() else {
                continue;
            };
            let target = Target {
                payload: one.payload,
                webhook: one.webhook,
            };
            sending.spawn(one.delivery, reserved, target);
        }
    }

    /// Starts the recorder, which writes this engine's outcomes and wakes its loop.
    fn start_recorder(&self) -> (mpsc::Sender<Outcome>, tokio::task::JoinHandle<()>) {
        recorder::start(Recorder {
            db: self.db.clone(),
            policy: Policy {
                schedule: self.settings.schedule.clone(),
                health: self.settings.health,
            },
            wake: self.lanes.wake.clone(),
            metrics: self.lanes.metrics.clone(),
            slots: self.lanes.slots.clone(),
            concurrency: self.settings.concurrency,
        })
    }
}

//! Group commit for publishes: requests that arrive while a transaction is being written wait
//! for the next one and share it, so a thousand single publishes a second cost tens of commits,
//! not a thousand. Each request is still answered only after its events and deliveries are
//! committed.
//!
//! Measured with `kaanha-bench` on SQLite: at a steady 1,000 single publishes/s, one
//! transaction each kept the database's one connection so busy that publish → receipt took over
//! a second at the median.

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr, SqlErr};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::{
    domain::{
        handoff::Handoff,
        org::OrgId,
        publish::{self, Batch, NewEvent, Published},
    },
    infra::wake::Wake,
};

/// Most requests written in one transaction.
const MAX_GROUP: usize = 64;

type Reply = oneshot::Sender<Result<Vec<Published>, DbErr>>;

struct Job {
    org: OrgId,
    events: Vec<NewEvent>,
    reply: Reply,
}

#[derive(Clone)]
pub struct Publisher {
    jobs: mpsc::Sender<Job>,
}

/// The delivery workers as the writers see them: woken, or handed deliveries directly.
#[derive(Clone)]
pub struct Workers {
    /// Wakes the workers (here and elsewhere) when deliveries wait for a claim.
    pub wake: Wake,
    /// Takes deliveries it has room for straight from a publish: `None` on an `api` instance,
    /// which never sends.
    pub handoff: Option<Arc<dyn Handoff>>,
}

impl Publisher {
    /// Starts `writers` writer tasks, each writing one group at a time; they end when the last
    /// `Publisher` is dropped.
    ///
    /// SQLite has one connection, so one writer. PostgreSQL needs several: a commit there waits
    /// for its WAL flush (10–20 ms on this machine), and one writer held every publish behind
    /// the previous group's (p50 of 2 s at 1,000 publishes/s in the benchmark); without groups,
    /// a transaction per publish starved the pool (p50 of 8 s).
    pub fn start(db: DatabaseConnection, writers: usize, workers: Workers) -> Self {
        let (jobs, queue) = mpsc::channel(MAX_GROUP * 4);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..writers.max(1) {
            tokio::spawn(write_groups(db.clone(), queue.clone(), workers.clone()));
        }
        Self { jobs }
    }

    /// Stores the events with their deliveries; returns once they are committed.
    pub async fn publish(
        &self,
        org: &OrgId,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Published>, DbErr> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            org: org.clone(),
            events,
            reply,
        };
        let stopped = || DbErr::Custom("the publisher stopped".into());
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn write_groups(
    db: DatabaseConnection,
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
    workers: Workers,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    // The queue is held only while taking a group, so other writers take the next ones.
    while queue.lock().await.recv_many(&mut group, MAX_GROUP).await > 0 {
        if group.len() > 1 {
            match write_together(&db, &group, &workers).await {
                Ok(results) => {
                    for (job, published) in group.drain(..).zip(results) {
                        let _ = job.reply.send(Ok(published));
                    }
                    continue;
                }
                Err(err) => {
                    tracing::debug!(error = %err, requests = group.len(), "group publish failed; writing one by one");
                }
            }
        }
        if let [job] = group.as_slice() {
            // Most groups at a moderate rate: a lone request, written in one round trip.
            let batch = Batch::new(workers.handoff.as_deref());
            let events = job.events.clone();
            match batch
                .publish_in_one_trip(&db, &workers.wake, &job.org, events)
                .await
            {
                Ok(Some(published)) => {
                    if let Some(job) = group.pop() {
                        let _ = job.reply.send(Ok(published));
                    }
                    continue;
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::debug!(error = %err, "one-trip publish failed; writing in a transaction");
                }
            }
        }
        for job in group.drain(..) {
            let result = write_alone(&db, &job.org, job.events, &workers).await;
            let _ = job.reply.send(result);
        }
    }
}

/// One transaction for the whole group; any database error rolls back the whole group, to be
/// written one by one. Deliveries reserved in the engine are handed over once the group is
/// committed.
async fn write_together(
    db: &DatabaseConnection,
    group: &[Job],
    workers: &Workers,
) -> Result<Vec<Vec<Published>>, DbErr> {
    let txn = crate::infra::db::begin_write(db).await?;
    let mut batch = Batch::new(workers.handoff.as_deref());
    let mut results = Vec::with_capacity(group.len());
    for job in group {
        results.push(batch.publish(&txn, &job.org, job.events.clone()).await?);
    }
    batch.commit(txn, &workers.wake).await?;
    Ok(results)
}

/// One request in its own transaction, tried again once if a concurrent publish of the same id
/// (from another instance) won the race.
async fn write_alone(
    db: &DatabaseConnection,
    org: &OrgId,
    events: Vec<NewEvent>,
    workers: &Workers,
) -> Result<Vec<Published>, DbErr> {
    let handoff = workers.handoff.as_deref();
    let result = publish::publish(db, &workers.wake, handoff, org, events.clone()).await;
    match result {
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            publish::publish(db, &workers.wake, handoff, org, events).await
        }
        other => other,
    }
}

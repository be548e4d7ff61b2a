//! Group commit for publishes: requests that arrive while a transaction is being written wait
//! for the next one and share it, so a thousand single publishes a second cost tens of commits,
//! not a thousand. Each request is still answered only after its events and deliveries are
//! committed.
//!
//! Measured with `kaanha-bench` on SQLite: at a steady 1,000 single publishes/s, one
//! transaction each kept the database's one connection so busy that publish → receipt took over
//! a second at the median.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    sync::Arc,
};

use sea_orm::{DatabaseConnection, DbBackend, DbErr, SqlErr};
use tokio::sync::{mpsc, oneshot};

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

/// Each writer's queue of requests. An organization's requests always go to the same writer.
///
/// A group's transaction locks its organizations' turn rows (`org_queues`, see
/// `infra::queues`) until its commit is flushed. Two writers holding requests of the same
/// organization would take that lock one after the other, each waiting out the other's flush,
/// and a publish would wait for as many flushes as writers were ahead of it: a flush that
/// pruning or any other write lengthened was paid several times over. In one writer's queue the
/// same requests join its next group instead and wait for at most the flush in progress.
#[derive(Clone)]
pub struct Publisher {
    writers: Arc<[mpsc::Sender<Job>]>,
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
    /// for its WAL flush, and one writer held every organization's publishes behind the
    /// previous group's; without groups, a transaction per publish starved the pool.
    pub fn start(db: DatabaseConnection, writers: usize, workers: Workers) -> Self {
        let writers = (0..writers.max(1))
            .map(|_| {
                let (jobs, queue) = mpsc::channel(MAX_GROUP * 4);
                tokio::spawn(write_groups(db.clone(), queue, workers.clone()));
                jobs
            })
            .collect();
        Self { writers }
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
        let writer = &self.writers[writer_of(org, self.writers.len())];
        writer.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// How many publish groups are written at once: one on SQLite (one connection), a quarter of
/// the `pool` elsewhere, leaving the rest to the engine and to reads.
pub fn writers(backend: DbBackend, pool: u32) -> usize {
    match backend {
        DbBackend::Sqlite => 1,
        _ => (pool as usize / 4).max(1),
    }
}

/// The writer of `org`'s requests, among `writers`: the same for as long as the gateway runs.
pub fn writer_of(org: &OrgId, writers: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    org.as_str().hash(&mut hasher);
    (hasher.finish() % writers as u64) as usize
}

async fn write_groups(db: DatabaseConnection, mut queue: mpsc::Receiver<Job>, workers: Workers) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut group, MAX_GROUP).await > 0 {
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

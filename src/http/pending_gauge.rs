//! The backlog gauges of `/metrics` (deliveries pending, and how long the longest-waiting due
//! one has waited), read across all instances at most once per [`EVERY`], in the background. A
//! scrape never waits for the database nor adds a statement of its own, so however many come
//! (the route needs no credential unless `KAANHA_METRICS_TOKEN` is set), they cost the shared
//! database one small statement per period.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sea_orm::{DatabaseConnection, DbErr};

use crate::{domain::logs, infra::metrics::Backlog};

/// Longest the gauges may lag behind the database.
pub const EVERY: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct PendingGauge {
    /// The last reading; none before the first has finished.
    value: Mutex<Option<Backlog>>,
    /// When the last reading started.
    counted_at: Mutex<Option<Instant>>,
}

impl PendingGauge {
    /// The last reading; starts a new one if it is older than [`EVERY`].
    pub fn read(self: &Arc<Self>, db: &DatabaseConnection) -> Option<Backlog> {
        let stale = {
            let mut counted_at = self.counted_at.lock().unwrap();
            let stale = counted_at.is_none_or(|at| at.elapsed() >= EVERY);
            if stale {
                *counted_at = Some(Instant::now());
            }
            stale
        };
        if stale {
            let (gauge, db) = (self.clone(), db.clone());
            tokio::spawn(async move {
                match backlog(&db).await {
                    Ok(backlog) => *gauge.value.lock().unwrap() = Some(backlog),
                    Err(err) => tracing::warn!(error = %err, "reading the delivery backlog failed"),
                }
            });
        }
        *self.value.lock().unwrap()
    }
}

async fn backlog(db: &DatabaseConnection) -> Result<Backlog, DbErr> {
    let now = crate::infra::time::now().timestamp_millis();
    let (pending, oldest) = logs::backlog(db, now).await?;
    let oldest_due = oldest.map_or(Duration::ZERO, |due| {
        Duration::from_millis(u64::try_from(now - due).unwrap_or_default())
    });
    Ok(Backlog {
        pending,
        oldest_due,
    })
}

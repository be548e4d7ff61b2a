//! The pending-deliveries gauge of `/metrics`: counted across all instances at most once per
//! [`EVERY`], in the background. A scrape never waits for the database nor adds a statement of
//! its own, so however many come (the route needs no credential unless
//! `KAANHA_METRICS_TOKEN` is set), they cost the shared database one count per period.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use sea_orm::DatabaseConnection;

/// Longest the gauge may lag behind the database.
pub const EVERY: Duration = Duration::from_secs(5);

/// No count has finished yet.
const UNKNOWN: u64 = u64::MAX;

pub struct PendingGauge {
    value: AtomicU64,
    /// When the last count started.
    counted_at: Mutex<Option<Instant>>,
}

impl Default for PendingGauge {
    fn default() -> Self {
        Self {
            value: AtomicU64::new(UNKNOWN),
            counted_at: Mutex::new(None),
        }
    }
}

impl PendingGauge {
    /// The last count (none before the first has finished); starts a new one if it is older
    /// than [`EVERY`].
    pub fn read(self: &Arc<Self>, db: &DatabaseConnection) -> Option<u64> {
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
                match crate::domain::logs::count_pending(&db).await {
                    Ok(count) => gauge.value.store(count, Relaxed),
                    Err(err) => tracing::warn!(error = %err, "counting pending deliveries failed"),
                }
            });
        }
        let value = self.value.load(Relaxed);
        (value != UNKNOWN).then_some(value)
    }
}

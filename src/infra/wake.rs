//! Waking delivery workers when deliveries become due: this instance's in memory, other
//! instances' through PostgreSQL `NOTIFY`. Both happen here, so whatever writes due
//! deliveries wakes every worker by committing through [`Wake::commit`], and no caller wakes
//! anything by hand.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr};
use tokio::sync::Notify;

/// The channel other instances' workers `LISTEN` on.
pub const DELIVERIES_CHANNEL: &str = "kaanha_deliveries";

/// Cheap to clone; every clone wakes the same workers.
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn new() -> Self {
        Self::default()
    }

    /// Commits a transaction that made deliveries due, then wakes the workers that send them.
    /// The `NOTIFY` is sent inside the transaction, so other instances hear it only if it
    /// commits.
    pub async fn commit(&self, txn: DatabaseTransaction) -> Result<(), DbErr> {
        notify_other_instances(&txn).await?;
        super::db::commit(txn).await?;
        self.here();
        Ok(())
    }

    /// Wakes the workers after a write that was not in a transaction (it has committed).
    pub async fn committed(&self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        notify_other_instances(db).await?;
        self.here();
        Ok(())
    }

    /// Wakes this instance's workers only: for the engine itself, and for what it hears on
    /// [`DELIVERIES_CHANNEL`].
    pub fn here(&self) {
        self.0.notify_one();
    }

    /// Resolves at the next wake (or at once, if one came since the last wait).
    pub async fn notified(&self) {
        self.0.notified().await;
    }
}

/// PostgreSQL `NOTIFY` (delivered on commit when inside a transaction). Elsewhere a no-op:
/// SQLite has one process, woken in memory.
pub async fn notify_other_instances(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("NOTIFY {DELIVERIES_CHANNEL}"))
            .await?;
    }
    Ok(())
}

//! Wake-ups across instances: on PostgreSQL every instance `LISTEN`s on the channel a publish
//! `NOTIFY`s, so a delivery written through one instance is picked up at once by any. Polling
//! stays as the fallback while the listening connection is down.

use std::time::Duration;

use sea_orm::{DatabaseConnection, DbBackend, sqlx::postgres::PgListener};
use tokio::sync::watch;

use crate::infra::wake::{DELIVERIES_CHANNEL, Wake};

pub async fn run(db: DatabaseConnection, wake: Wake, mut stop: watch::Receiver<bool>) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let pool = db.get_postgres_connection_pool().clone();
    while !*stop.borrow() {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, "cannot LISTEN for new deliveries; polling meanwhile");
                pause(&mut stop).await;
                continue;
            }
        };
        if let Err(err) = listener.listen(DELIVERIES_CHANNEL).await {
            tracing::warn!(error = %err, "cannot LISTEN for new deliveries; polling meanwhile");
            pause(&mut stop).await;
            continue;
        }
        // Anything written while we were not listening is found by the wake-up itself.
        wake.here();
        loop {
            tokio::select! {
                received = listener.recv() => match received {
                    Ok(_) => wake.here(),
                    Err(err) => {
                        tracing::warn!(error = %err, "LISTEN connection lost; reconnecting");
                        break;
                    }
                },
                _ = stop.changed() => return,
            }
        }
        pause(&mut stop).await;
    }
}

async fn pause(stop: &mut watch::Receiver<bool>) {
    tokio::select! {
        () = tokio::time::sleep(Duration::from_secs(1)) => {}
        _ = stop.changed() => {}
    }
}

//! What every PostgreSQL connection of the gateway sets for its session before it is used.
//!
//! Without statistics (autovacuum off or behind, a table just loaded), PostgreSQL estimates an
//! equality on a column of a large table at a fixed share of its rows: on a log of 20 million,
//! a lookup of one delivery's attempts was planned as 75,000 rows. A plan that costly is given
//! parallel workers and JIT-compiled, and a lookup that reads one row took 40–60 ms instead of
//! 0.03 (`kaanha-bench --db postgres --profile year`, bench/README.md). Every statement the
//! gateway sends is bounded by an index, so neither ever pays here; and parallel workers would
//! give one organization's request the CPU of several backends the others share.

use sea_orm::sqlx::{self, PgConnection};

/// Session settings, sent as one message (the simple protocol runs both).
const SETTINGS: &str = "SET jit = off; SET max_parallel_workers_per_gather = 0";

/// Applies [`SETTINGS`] to a new connection.
pub async fn settle(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(SETTINGS).execute(conn).await?;
    Ok(())
}

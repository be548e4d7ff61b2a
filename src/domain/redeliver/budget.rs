//! Redelivery metered by the deliveries it queues, not by calls: each organization may have
//! recover and replay queue at most so many deliveries per clock hour. The count lives in the
//! database (`redelivery_counts`), so every instance draws on the same budget.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use super::RedeliverError;
use crate::{domain::org::OrgId, infra::time};

/// Deliveries taken from this hour's budget before they are queued; what a call does not queue
/// is given back.
#[must_use = "give back what was not queued"]
pub struct Reserved {
    org: String,
    hour: i64,
    count: u64,
}

const SECONDS_PER_HOUR: i64 = 3600;

/// Takes `count` deliveries from the organization's budget for this hour, or refuses them all
/// (with how long until the next hour's budget) if they do not fit.
pub async fn reserve(
    db: &impl ConnectionTrait,
    org: &OrgId,
    count: u64,
    per_hour: u64,
) -> Result<Reserved, RedeliverError> {
    let now = time::now().timestamp();
    let hour = now.div_euclid(SECONDS_PER_HOUR);
    let reserved = Reserved {
        org: org.to_string(),
        hour,
        count,
    };
    if count == 0 {
        return Ok(reserved);
    }
    let over = || RedeliverError::OverBudget {
        per_hour,
        retry_after_secs: (SECONDS_PER_HOUR - now.rem_euclid(SECONDS_PER_HOUR)) as u64,
    };
    if count > per_hour {
        return Err(over());
    }
    let backend = db.get_database_backend();
    // Counts older than a day are of no use: each call tidies its organization's.
    let tidy = statement(
        backend,
        "DELETE FROM redelivery_counts WHERE org_id = $1 AND hour < $2",
        vec![org.as_str().into(), (hour - 24).into()],
    );
    db.execute_raw(tidy).await?;
    // Only if the sum still fits: the row is locked while the sum is checked, so instances
    // reserving at once never pass the budget together.
    let take = statement(
        backend,
        "INSERT INTO redelivery_counts (org_id, hour, queued) VALUES ($1, $2, $3) \
         ON CONFLICT (org_id, hour) DO UPDATE \
         SET queued = redelivery_counts.queued + excluded.queued \
         WHERE redelivery_counts.queued + excluded.queued <= $4 \
         RETURNING queued",
        vec![
            org.as_str().into(),
            hour.into(),
            (count as i64).into(),
            (per_hour as i64).into(),
        ],
    );
    match db.query_one_raw(take).await? {
        Some(_) => Ok(reserved),
        None => Err(over()),
    }
}

impl Reserved {
    /// Gives back what was reserved and not queued.
    pub async fn settle(self, db: &impl ConnectionTrait, queued: u64) -> Result<(), DbErr> {
        let unused = self.count.saturating_sub(queued);
        if unused == 0 {
            return Ok(());
        }
        let backend = db.get_database_backend();
        let give_back = statement(
            backend,
            "UPDATE redelivery_counts SET queued = queued - $1 WHERE org_id = $2 AND hour = $3",
            vec![(unused as i64).into(), self.org.into(), self.hour.into()],
        );
        db.execute_raw(give_back).await?;
        Ok(())
    }
}

/// `$n` placeholders, numbered in the order they first appear: PostgreSQL's form, which SQLite
/// reads as parameters named in that same order.
fn statement(backend: DbBackend, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(backend, sql, values)
}

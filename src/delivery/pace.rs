//! Per-webhook rate limits, shared by every instance on one database. Before sending a
//! rate-limited webhook's deliveries, an instance reserves their send times in the webhook's
//! row: `rate_next_us` moves on by one interval per delivery in a single `UPDATE … RETURNING`,
//! so instances taking turns on the same row never hand out the same time. Each delivery then
//! waits for its time: the receiver sees requests spaced evenly, never more than the limit in
//! any second, however many instances send.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, prelude::Uuid};

/// The spacing of a webhook's requests: a second shared evenly, 5 % wider and rounded up.
/// Timers fire late, a busy machine wakes one sender later than the next, and requests take
/// different times to arrive; two requests can then land closer than their spacing. The
/// slack absorbs up to 50 ms of such drift per second before a second at the receiver could
/// see one more than the limit (2 % was measured too little on a loaded two-core machine with
/// two instances on PostgreSQL: 21 requests in one second).
pub fn interval_us(per_second: i32) -> i64 {
    let per_second = i64::from(per_second.max(1));
    (1_050_000 + per_second - 1) / per_second
}

/// Send times reserved for `count` deliveries: the first, and the spacing after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Turns {
    pub first_us: i64,
    pub interval_us: i64,
}

impl Turns {
    /// When the `index`-th delivery goes (Unix microseconds, the database's clock).
    pub fn at_us(&self, index: usize) -> i64 {
        self.first_us + self.interval_us * index as i64
    }

    /// How long the `index`-th delivery waits from `now_us`.
    pub fn wait(&self, index: usize, now_us: i64) -> Duration {
        Duration::from_micros(self.at_us(index).saturating_sub(now_us).max(0) as u64)
    }
}

/// Reserves `count` consecutive send times for the webhook, from the database's present at
/// the earliest. Times are the database's clock, read when the row is locked and again as it is
/// returned: a reservation that waited for the row (another instance's, or a write of the
/// webhook's health) still starts after the wait, and every instance measures its waits on the
/// same clock.
pub async fn reserve(
    db: &impl ConnectionTrait,
    webhook_id: Uuid,
    per_second: i32,
    count: usize,
) -> Result<Option<Booked>, DbErr> {
    let interval = interval_us(per_second);
    let span = interval * count as i64;
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            r#"UPDATE "webhooks" SET "rate_next_us" = GREATEST(COALESCE("rate_next_us", 0),
                   (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::bigint) + $1
               WHERE "id" = $2
               RETURNING "rate_next_us", (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::bigint AS "now_us""#
        }
        _ => {
            r#"UPDATE "webhooks" SET "rate_next_us" = MAX(COALESCE("rate_next_us", 0),
                   CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)) + ?
               WHERE "id" = ?
               RETURNING "rate_next_us", CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER) AS "now_us""#
        }
    };
    let statement = Statement::from_sql_and_values(backend, sql, [span.into(), webhook_id.into()]);
    let Some(row) = db.query_one_raw(statement).await? else {
        // The webhook was deleted meanwhile: nothing to send.
        return Ok(None);
    };
    let next: i64 = row.try_get("", "rate_next_us")?;
    let now_us: i64 = row.try_get("", "now_us")?;
    let turns = Turns {
        first_us: next - span,
        interval_us: interval,
    };
    Ok(Some(Booked { turns, now_us }))
}

/// Send times reserved, and the database's time when they were.
pub struct Booked {
    pub turns: Turns,
    pub now_us: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_round_up_so_the_limit_is_never_exceeded() {
        assert_eq!(interval_us(1), 1_050_000);
        assert_eq!(interval_us(3), 350_000);
        assert_eq!(interval_us(7), 150_000);
        assert_eq!(interval_us(10_000), 105);
        let turns = Turns {
            first_us: 1_000,
            interval_us: interval_us(20),
        };
        assert_eq!(turns.wait(0, 0), Duration::from_micros(1_000));
        assert_eq!(turns.wait(2, 0), Duration::from_micros(106_000));
        assert_eq!(turns.wait(0, 5_000), Duration::ZERO);
    }
}

//! A webhook's last 24 hours for the console's chart: attempts per hour by the state they left
//! their delivery in, and the median and 99th-percentile duration.
//!
//! The recorder counts each attempt into its webhook's hour as it writes it ([`HourCounts`],
//! one upsert per batch), so the chart reads 24 rows however busy the webhook is. Durations are
//! kept as a histogram; a percentile is the bound of the bucket it falls in (the hour's longest
//! attempt for the last bucket).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, Utc};
use entity::webhook_hour::{self, Column};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, OnConflict, Query},
};

use uuid::Uuid;

use crate::domain::{delivery_status::DeliveryStatus, org::OrgId};

/// The histogram's buckets: each counts attempts shorter than its bound (ms); the last, the
/// rest. The columns of `webhook_hours`, in order.
const BUCKETS: [(Column, Option<i64>); 12] = [
    (Column::Under5ms, Some(5)),
    (Column::Under10ms, Some(10)),
    (Column::Under25ms, Some(25)),
    (Column::Under50ms, Some(50)),
    (Column::Under100ms, Some(100)),
    (Column::Under250ms, Some(250)),
    (Column::Under500ms, Some(500)),
    (Column::Under1s, Some(1000)),
    (Column::Under2500ms, Some(2500)),
    (Column::Under5s, Some(5000)),
    (Column::Under10s, Some(10_000)),
    (Column::Over10s, None),
];

/// Attempts that started in one hour, by the state they left their delivery in.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Hour {
    pub start: DateTime<Utc>,
    pub delivered: u64,
    pub pending: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastDay {
    /// 24 hours, oldest first; the last is the current hour.
    pub hours: Vec<Hour>,
    pub attempts: u64,
    pub duration_p50_ms: Option<i64>,
    pub duration_p99_ms: Option<i64>,
}

fn hour_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(3600)
}

/// One webhook-hour's counts, as a batch of attempts adds them.
#[derive(Debug, Default, Clone)]
struct Counts {
    org_id: String,
    delivered: i64,
    pending: i64,
    failed: i64,
    buckets: [i64; BUCKETS.len()],
    max_ms: i64,
}

/// Attempts of one batch, counted per webhook and hour: written in one statement.
#[derive(Debug, Default)]
pub struct HourCounts(BTreeMap<(Uuid, i64), Counts>);

impl HourCounts {
    pub fn add(
        &mut self,
        webhook_id: Uuid,
        org_id: &str,
        at: DateTime<Utc>,
        status: DeliveryStatus,
        duration_ms: i64,
    ) {
        let counts = self
            .0
            .entry((webhook_id, hour_of(at)))
            .or_insert_with(|| Counts {
                org_id: org_id.to_owned(),
                ..Counts::default()
            });
        match status {
            DeliveryStatus::Delivered => counts.delivered += 1,
            DeliveryStatus::Pending => counts.pending += 1,
            DeliveryStatus::Failed => counts.failed += 1,
        }
        let bucket = BUCKETS
            .iter()
            .position(|(_, bound)| bound.is_none_or(|bound| duration_ms < bound))
            .unwrap_or(BUCKETS.len() - 1);
        counts.buckets[bucket] += 1;
        counts.max_ms = counts.max_ms.max(duration_ms);
    }

    /// Adds the counts to the stored ones.
    pub async fn write(self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        if self.0.is_empty() {
            return Ok(());
        }
        let backend = db.get_database_backend();
        let rows: Vec<_> = self.0.into_iter().collect();
        for chunk in rows.chunks(100) {
            let mut insert = Query::insert();
            let mut columns = vec![
                Column::WebhookId,
                Column::Hour,
                Column::OrgId,
                Column::Delivered,
                Column::Pending,
                Column::Failed,
            ];
            columns.extend(BUCKETS.iter().map(|(column, _)| *column));
            columns.push(Column::MaxMs);
            insert
                .into_table(webhook_hour::Entity)
                .columns(columns.clone());
            for ((webhook_id, hour), counts) in chunk {
                let mut values: Vec<sea_orm::Value> = vec![
                    (*webhook_id).into(),
                    (*hour).into(),
                    counts.org_id.as_str().into(),
                    counts.delivered.into(),
                    counts.pending.into(),
                    counts.failed.into(),
                ];
                values.extend(counts.buckets.iter().map(|n| (*n).into()));
                values.push(counts.max_ms.into());
                insert.values_panic(values.into_iter().map(Into::into));
            }
            let mut on_conflict = OnConflict::columns([Column::WebhookId, Column::Hour]);
            for column in &columns[3..columns.len() - 1] {
                on_conflict.value(*column, added(column));
            }
            on_conflict.value(Column::MaxMs, longer(backend));
            insert.on_conflict(on_conflict.to_owned());
            db.execute(&insert).await?;
        }
        Ok(())
    }
}

/// The stored count plus the batch's.
fn added(column: &Column) -> Expr {
    let name = sea_orm::Iden::to_string(column);
    Expr::cust(format!(r#""webhook_hours"."{name}" + "excluded"."{name}""#))
}

fn longer(backend: DbBackend) -> Expr {
    let greatest = match backend {
        DbBackend::Postgres => "GREATEST",
        _ => "MAX",
    };
    Expr::cust(format!(
        r#"{greatest}("webhook_hours"."max_ms", "excluded"."max_ms")"#
    ))
}

pub async fn last_day(
    db: &impl ConnectionTrait,
    org: &OrgId,
    webhook_id: Uuid,
    now: DateTime<Utc>,
) -> Result<LastDay, DbErr> {
    let this_hour = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let first = this_hour - Duration::hours(23);
    let rows = webhook_hour::Entity::find()
        .filter(Column::WebhookId.eq(webhook_id))
        .filter(Column::OrgId.eq(org.as_str()))
        .filter(Column::Hour.gte(hour_of(first)))
        .filter(Column::Hour.lte(hour_of(this_hour)))
        .order_by_asc(Column::Hour)
        .all(db)
        .await?;
    let mut hours: Vec<Hour> = (0..24)
        .map(|n| Hour {
            start: first + Duration::hours(n),
            ..Hour::default()
        })
        .collect();
    let mut buckets = [0u64; BUCKETS.len()];
    let mut max_ms = 0;
    for row in &rows {
        let Some(hour) = usize::try_from(row.hour - hour_of(first))
            .ok()
            .and_then(|at| hours.get_mut(at))
        else {
            continue;
        };
        hour.delivered = row.delivered.max(0) as u64;
        hour.pending = row.pending.max(0) as u64;
        hour.failed = row.failed.max(0) as u64;
        let counts = [
            row.under_5ms,
            row.under_10ms,
            row.under_25ms,
            row.under_50ms,
            row.under_100ms,
            row.under_250ms,
            row.under_500ms,
            row.under_1s,
            row.under_2500ms,
            row.under_5s,
            row.under_10s,
            row.over_10s,
        ];
        for (total, n) in buckets.iter_mut().zip(counts) {
            *total += n.max(0) as u64;
        }
        max_ms = max_ms.max(row.max_ms);
    }
    let attempts: u64 = buckets.iter().sum();
    let percentile = |p: f64| {
        let rank = (attempts.saturating_sub(1) as f64 * p).floor() as u64;
        let mut seen = 0;
        for (index, n) in buckets.iter().enumerate() {
            seen += n;
            if seen > rank {
                return Some(BUCKETS[index].1.map_or(max_ms, |bound| bound.min(max_ms)));
            }
        }
        None
    };
    Ok(LastDay {
        hours,
        attempts,
        duration_p50_ms: percentile(0.5),
        duration_p99_ms: percentile(0.99),
    })
}

/// Drops counts older than the chart shows.
pub async fn forget_old_hours(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(), DbErr> {
    webhook_hour::Entity::delete_many()
        .filter(Column::Hour.lt(hour_of(now) - 48))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_fall_in_the_bucket_below_their_bound() {
        let mut counts = HourCounts::default();
        let at = crate::infra::time::now();
        for ms in [0, 4, 5, 99, 10_000, 70_000] {
            counts.add(Uuid::nil(), "org", at, DeliveryStatus::Delivered, ms);
        }
        let hour = &counts.0[&(Uuid::nil(), hour_of(at))];
        assert_eq!(hour.buckets[0], 2, "0 and 4 ms are under 5 ms");
        assert_eq!(hour.buckets[1], 1, "5 ms is under 10 ms");
        assert_eq!(hour.buckets[4], 1, "99 ms is under 100 ms");
        assert_eq!(hour.buckets[11], 2, "10 s and more");
        assert_eq!((hour.delivered, hour.max_ms), (6, 70_000));
    }
}

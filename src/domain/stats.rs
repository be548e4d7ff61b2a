//! A webhook's last 24 hours for the console's chart: attempts per hour by the state they left
//! their delivery in, and the median and 99th-percentile duration. Hours are id ranges (ids are
//! time-ordered), so every query walks the `(webhook_id, id)` index, never the whole log.

use chrono::{DateTime, Duration, DurationRound, Utc};
use entity::delivery_attempt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::{
    domain::{delivery_status::DeliveryStatus, named::Named, org::OrgId},
    infra::ids::first_id_at,
};

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

fn attempts_between(
    org: &OrgId,
    webhook_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Select<delivery_attempt::Entity> {
    delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::OrgId.eq(org.as_str()))
        .filter(delivery_attempt::Column::WebhookId.eq(webhook_id))
        .filter(delivery_attempt::Column::Id.gte(first_id_at("att", from)))
        .filter(delivery_attempt::Column::Id.lt(first_id_at("att", to)))
}

pub async fn last_day(
    db: &impl ConnectionTrait,
    org: &OrgId,
    webhook_id: &str,
    now: DateTime<Utc>,
) -> Result<LastDay, DbErr> {
    let this_hour = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let end = this_hour + Duration::hours(1);
    let mut hours = Vec::with_capacity(24);
    for back in (0..24).rev() {
        let start = this_hour - Duration::hours(back);
        let counts: Vec<(String, i64)> =
            attempts_between(org, webhook_id, start, start + Duration::hours(1))
                .select_only()
                .column(delivery_attempt::Column::Status)
                .column_as(delivery_attempt::Column::Id.count(), "n")
                .group_by(delivery_attempt::Column::Status)
                .into_tuple()
                .all(db)
                .await?;
        let mut hour = Hour {
            start,
            ..Hour::default()
        };
        for (status, n) in counts {
            let n = n.max(0) as u64;
            match DeliveryStatus::parse(&status) {
                Some(DeliveryStatus::Delivered) => hour.delivered += n,
                Some(DeliveryStatus::Pending) => hour.pending += n,
                Some(DeliveryStatus::Failed) => hour.failed += n,
                None => {}
            }
        }
        hours.push(hour);
    }
    let start = this_hour - Duration::hours(23);
    let attempts = attempts_between(org, webhook_id, start, end)
        .count(db)
        .await?;
    let percentile = |p: f64| (attempts.saturating_sub(1) as f64 * p).floor() as u64;
    let duration_at = |offset: u64| {
        attempts_between(org, webhook_id, start, end)
            .select_only()
            .column(delivery_attempt::Column::DurationMs)
            .order_by_asc(delivery_attempt::Column::DurationMs)
            .offset(offset)
            .limit(1)
            .into_tuple::<i64>()
            .one(db)
    };
    let (duration_p50_ms, duration_p99_ms) = if attempts == 0 {
        (None, None)
    } else {
        (
            duration_at(percentile(0.5)).await?,
            duration_at(percentile(0.99)).await?,
        )
    };
    Ok(LastDay {
        hours,
        attempts,
        duration_p50_ms,
        duration_p99_ms,
    })
}

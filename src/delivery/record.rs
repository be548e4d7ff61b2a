//! Recording: each attempt becomes a log row and moves its delivery to `delivered`, to
//! `pending` with the next due time, or to `failed` — many outcomes per transaction, because
//! cost per delivery, not per round trip, sets throughput.

use std::collections::{BTreeSet, HashMap, HashSet};

use entity::{delivery, delivery_attempt, webhook};
use sea_orm::prelude::Uuid;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryTrait,
    TransactionTrait, sea_query::Expr,
};

pub use super::outcome::Outcome;

use super::outcome::{Transition, attempt_row, record_unwritable};
use crate::{
    config::RetrySchedule,
    domain::{
        auto_disable::{HealthPolicy, Streaks},
        delivery_status::DeliveryStatus,
        named::Named,
        stats::HourCounts,
        webhooks::WebhookSource,
    },
    infra::{ids, queues::Queued},
};

/// What one grouped `UPDATE` writes: status, due time (pending only), answer code, attempts.
type NewState = (DeliveryStatus, Option<i64>, Option<i32>, i32);

fn transition(outcome: &Outcome, schedule: &RetrySchedule) -> Transition {
    // Its place in the schedule: attempts since the schedule last began (a recover restarts it).
    let d = &outcome.delivery;
    let attempt = (d.attempts - d.schedule_from).max(0) as u32 + 1;
    // Retry delays count from the failure, i.e. the end of the attempt.
    let now_ms = outcome.at.timestamp_millis() + outcome.result.duration_ms;
    if outcome.result.succeeded() {
        return Transition {
            status: DeliveryStatus::Delivered,
            due_at: now_ms,
            unsubscribe: false,
        };
    }
    if outcome.result.status == Some(410) && outcome.source != WebhookSource::Api {
        return Transition {
            status: DeliveryStatus::Failed,
            due_at: now_ms,
            unsubscribe: true,
        };
    }
    match schedule
        .next_delay(attempt, outcome.result.retry_after)
        .filter(|_| !outcome.terminal)
    {
        Some(delay) => Transition {
            status: DeliveryStatus::Pending,
            due_at: now_ms + delay.as_millis() as i64,
            unsubscribe: false,
        },
        None => Transition {
            status: DeliveryStatus::Failed,
            due_at: now_ms,
            unsubscribe: false,
        },
    }
}

/// How many recorded attempts left their delivery in each state, the subscriptions a 410
/// removed (to purge), and how many webhooks were disabled for failing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub delivered: u64,
    pub pending: u64,
    pub failed: u64,
    pub removed: Vec<Uuid>,
    pub disabled: u64,
}

impl Recorded {
    fn count(&mut self, status: DeliveryStatus) {
        match status {
            DeliveryStatus::Delivered => self.delivered += 1,
            DeliveryStatus::Pending => self.pending += 1,
            DeliveryStatus::Failed => self.failed += 1,
        }
    }

    fn add(&mut self, other: Recorded) {
        self.delivered += other.delivered;
        self.pending += other.pending;
        self.failed += other.failed;
        self.removed.extend(other.removed);
        self.disabled += other.disabled;
    }
}

/// What decides a delivery's next state: when to retry, and when a webhook is disabled.
pub struct Policy {
    pub schedule: RetrySchedule,
    pub health: HealthPolicy,
}

/// Writes a batch of outcomes. If the batch fails (say a webhook was deleted mid-flight, so
/// its delivery is gone), each outcome is written on its own so one cannot sink the others.
pub async fn record(
    db: &impl TransactionTrait,
    policy: &Policy,
    outcomes: &[Outcome],
) -> Result<Recorded, DbErr> {
    if outcomes.is_empty() {
        return Ok(Recorded::default());
    }
    match record_batch(db, policy, outcomes).await {
        Ok(recorded) => Ok(recorded),
        Err(err) if outcomes.len() == 1 => Err(err),
        Err(err) => {
            tracing::warn!(error = %err, "batch of outcomes failed; recording one by one");
            let mut recorded = Recorded::default();
            for outcome in outcomes {
                match record_batch(db, policy, std::slice::from_ref(outcome)).await {
                    Ok(one) => recorded.add(one),
                    Err(err) => {
                        tracing::warn!(delivery = %ids::show(ids::DELIVERY, &outcome.delivery.id), error = %err, "outcome not recorded; the delivery is failed instead");
                        match record_unwritable(db, outcome).await {
                            Ok(()) => recorded.failed += 1,
                            Err(err) => {
                                tracing::error!(delivery = %ids::show(ids::DELIVERY, &outcome.delivery.id), error = %err, "the delivery could not be failed either; it is leased until its lease ends");
                            }
                        }
                    }
                }
            }
            Ok(recorded)
        }
    }
}

async fn record_batch(
    db: &impl TransactionTrait,
    policy: &Policy,
    outcomes: &[Outcome],
) -> Result<Recorded, DbErr> {
    let transitions: Vec<Transition> = outcomes
        .iter()
        .map(|o| transition(o, &policy.schedule))
        .collect();
    // Outcomes that leave their deliveries in the same state are written by one UPDATE (in
    // steady state: every delivered one with the same answer code).
    let mut groups: HashMap<NewState, Vec<Uuid>> = HashMap::new();
    for (outcome, next) in outcomes.iter().zip(&transitions) {
        let key = (
            next.status,
            next.due_at_if_pending(),
            outcome.result.status.map(i32::from),
            outcome.delivery.attempts + 1,
        );
        groups.entry(key).or_default().push(outcome.delivery.id);
    }
    let txn = crate::infra::db::begin_write(db).await?;
    let now = crate::infra::time::now();
    // The UPDATEs return the deliveries they found: one whose webhook was deleted mid-flight
    // is gone, and gets no log row (which would point at nothing).
    let mut updated: HashSet<Uuid> = HashSet::with_capacity(outcomes.len());
    for ((status, due_at, code, attempt), ids) in groups {
        for chunk in ids.chunks(500) {
            let mut update = delivery::Entity::update_many()
                .col_expr(delivery::Column::Status, Expr::value(status.as_str()))
                .col_expr(delivery::Column::Attempts, Expr::value(attempt))
                .col_expr(
                    delivery::Column::LeaseUntil,
                    Expr::value(Option::<i64>::None),
                )
                .col_expr(delivery::Column::LastResponseCode, Expr::value(code))
                .col_expr(
                    delivery::Column::UpdatedAt,
                    Expr::value(now.timestamp_millis()),
                );
            if let Some(due_at) = due_at {
                update = update.col_expr(delivery::Column::DueAt, Expr::value(due_at));
            }
            let mut statement = update
                .filter(delivery::Column::Id.is_in(chunk.iter().copied()))
                .into_query();
            statement.returning_col(delivery::Column::Id);
            for row in txn.query_all(&statement).await? {
                updated.insert(row.try_get_by_index(0)?);
            }
        }
    }
    let mut recorded = Recorded::default();
    let mut attempts = Vec::with_capacity(outcomes.len());
    let mut unsubscribed = Vec::new();
    let mut streaks = Streaks::default();
    let mut lines_moving = BTreeSet::new();
    // Deliveries waiting for a retry: their webhooks' turns come with it.
    let mut queued = Queued::default();
    let mut hours = HourCounts::default();
    for (outcome, next) in outcomes.iter().zip(&transitions) {
        if !updated.contains(&outcome.delivery.id) {
            continue;
        }
        recorded.count(next.status);
        let d = &outcome.delivery;
        if next.status == DeliveryStatus::Failed {
            tracing::warn!(
                org = %d.org_id,
                webhook = %ids::show(ids::WEBHOOK, &d.webhook_id),
                delivery = %ids::show(ids::DELIVERY, &d.id),
                event = %d.event_id,
                attempts = d.attempts + 1,
                code = outcome.result.status,
                error = outcome.result.error.as_deref().unwrap_or_default(),
                "delivery failed"
            );
        }
        let duration = outcome.result.duration_ms;
        hours.add(d.webhook_id, &d.org_id, outcome.at, next.status, duration);
        if next.status == DeliveryStatus::Pending {
            let d = &outcome.delivery;
            queued.add(d.webhook_id, &d.org_id, next.due_at);
        }
        let ends_in_line = outcome.ordered && next.status != DeliveryStatus::Pending;
        if ends_in_line {
            lines_moving.insert(outcome.delivery.webhook_id);
        }
        attempts.push(attempt_row(outcome, next, ends_in_line));
        let webhook_id = outcome.delivery.webhook_id;
        if next.unsubscribe {
            unsubscribed.push(webhook_id);
        } else if next.status == DeliveryStatus::Delivered {
            streaks.delivered(webhook_id);
        } else if next.status == DeliveryStatus::Failed && !outcome.terminal {
            // Not sent because the webhook was already disabled: not the endpoint's failure.
            streaks.failed(webhook_id, outcome.at);
        }
    }
    for chunk in attempts.chunks(500) {
        delivery_attempt::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    hours.write(&txn).await?;
    let disabled = streaks.write(&txn, &policy.health, &mut queued).await?;
    for webhook_id in lines_moving {
        let now_ms = now.timestamp_millis();
        crate::domain::ordered::release_next(&txn, webhook_id, now_ms, &mut queued).await?;
    }
    let mut removed = Vec::new();
    if !unsubscribed.is_empty() {
        // REST Hooks: 410 means the subscriber is gone. Deleting the webhook ends its pending
        // deliveries (no claim sends them; they are purged) so nothing more is sent to a dead
        // hook URL.
        let which = Condition::all()
            .add(webhook::Column::Id.is_in(unsubscribed))
            .add(webhook::Column::Source.ne(WebhookSource::Api.as_str()));
        removed = crate::domain::webhooks::mark_deleted(&txn, which).await?;
        let shown: Vec<String> = removed
            .iter()
            .map(|id| ids::show(ids::WEBHOOK, id))
            .collect();
        tracing::info!(webhooks = ?shown, "410 Gone: REST-hook subscriptions removed");
    }
    // Last: a claim locks organizations' turns, then webhooks'; so does this, after the rest.
    queued.write(&txn).await?;
    crate::infra::db::commit(txn).await?;
    Ok(Recorded {
        removed,
        disabled: disabled.len() as u64,
        ..recorded
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::client::AttemptResult;

    fn outcome(attempts: i32, status: Option<u16>, source: WebhookSource) -> Outcome {
        let at = crate::infra::time::now();
        Outcome {
            delivery: delivery::Model {
                id: crate::infra::ids::new_uuid(),
                org_id: "o".into(),
                event_id: "evt_1".into(),
                webhook_id: crate::infra::ids::new_uuid(),
                event_type: "message.received".into(),
                status: DeliveryStatus::Pending.as_str().into(),
                attempts,
                due_at: 0,
                lease_until: None,
                last_response_code: None,
                replay: false,
                leases: 1,
                schedule_from: 0,
                created_at: at.timestamp_millis(),
                updated_at: at.timestamp_millis(),
            },
            source,
            ordered: false,
            result: AttemptResult {
                status,
                error: status
                    .filter(|s| !(200..300).contains(s))
                    .map(|s| format!("receiver answered {s}")),
                response_excerpt: None,
                retry_after: None,
                duration_ms: 3,
            },
            at,
            terminal: false,
            slot: None,
        }
    }

    #[test]
    fn failures_follow_the_schedule_until_it_runs_out() {
        let schedule: RetrySchedule = "5s,25s,2m".parse().unwrap();
        let failed = outcome(0, Some(500), WebhookSource::Api);
        let first = transition(&failed, &schedule);
        assert_eq!(first.status, DeliveryStatus::Pending);
        let ended = failed.at.timestamp_millis() + failed.result.duration_ms;
        assert_eq!(
            first.due_at - ended,
            5_000,
            "the delay counts from the failure"
        );
        assert_eq!(
            transition(&outcome(3, Some(500), WebhookSource::Api), &schedule).status,
            DeliveryStatus::Failed
        );
        assert_eq!(
            transition(&outcome(3, Some(204), WebhookSource::Api), &schedule).status,
            DeliveryStatus::Delivered
        );
        assert_eq!(
            transition(&outcome(0, None, WebhookSource::Api), &schedule).status,
            DeliveryStatus::Pending
        );
    }

    #[test]
    fn gone_ends_a_rest_hook_but_is_an_ordinary_failure_for_a_webhook() {
        let schedule: RetrySchedule = "5s".parse().unwrap();
        let hook = transition(
            &outcome(
                0,
                Some(410),
                WebhookSource::Platform(crate::domain::platform::Platform::Zapier),
            ),
            &schedule,
        );
        assert!(hook.unsubscribe && hook.status == DeliveryStatus::Failed);
        let webhook = transition(&outcome(0, Some(410), WebhookSource::Api), &schedule);
        assert!(!webhook.unsubscribe && webhook.status == DeliveryStatus::Pending);
    }
}

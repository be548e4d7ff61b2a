//! One finished attempt (`Outcome`) and the state it leaves its delivery in (`Transition`); its
//! log row, with the answer's text fit to store; and the way out for an outcome that cannot be
//! written at all. `record` writes them in batches.

use chrono::{DateTime, Utc};
use entity::{delivery, delivery_attempt};
use sea_orm::{
    ColumnTrait, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait, sea_query::Expr,
};

use super::{client::AttemptResult, lanes::InFlightSlot};
use crate::{
    domain::{delivery_status::DeliveryStatus, named::Named, webhooks::WebhookSource},
    infra::{ids::new_uuid, queues::Queued},
};

/// One finished attempt, waiting to be written.
#[derive(Debug)]
pub struct Outcome {
    /// The delivery as it was claimed (`attempts` counts the attempts before this one).
    pub delivery: delivery::Model,
    /// The webhook's source: a REST-hook subscription (not `api`) that answers 410 is removed.
    pub source: WebhookSource,
    /// The webhook is ordered: when this delivery ends, the next in its line goes.
    pub ordered: bool,
    pub result: AttemptResult,
    pub at: DateTime<Utc>,
    /// No retry whatever the schedule says (the webhook was disabled or is gone).
    pub terminal: bool,
    /// The worker's slot for this delivery, given back only once the outcome is written: a
    /// request sent but not yet recorded still counts as in flight.
    pub slot: Option<InFlightSlot>,
}

/// The delivery's state after an outcome, and when it is next due.
pub(super) struct Transition {
    pub status: DeliveryStatus,
    pub due_at: i64,
    pub unsubscribe: bool,
}

impl Transition {
    pub(super) fn failed(now_ms: i64) -> Self {
        Self {
            status: DeliveryStatus::Failed,
            due_at: now_ms,
            unsubscribe: false,
        }
    }

    /// Only a delivery that waits for a retry needs its due time written.
    pub(super) fn due_at_if_pending(&self) -> Option<i64> {
        (self.status == DeliveryStatus::Pending).then_some(self.due_at)
    }
}

/// What the log says of an attempt whose outcome could not be written.
const UNWRITABLE: &str = "the outcome of this attempt could not be recorded; the delivery was failed instead of sent again";

/// Ends a delivery whose outcome could not be written (say the receiver's answer broke the
/// insert): `failed`, with a log row saying so and none of the answer, so it is neither sent
/// forever nor left pending with no trace. An ordered webhook's next delivery goes.
pub(super) async fn record_unwritable(
    db: &impl TransactionTrait,
    outcome: &Outcome,
) -> Result<(), DbErr> {
    let d = &outcome.delivery;
    let txn = crate::infra::db::begin_write(db).await?;
    let now = crate::infra::time::now();
    let ended = delivery::Entity::update_many()
        .col_expr(
            delivery::Column::Status,
            Expr::value(DeliveryStatus::Failed.as_str()),
        )
        .col_expr(delivery::Column::Attempts, Expr::value(d.attempts + 1))
        .col_expr(
            delivery::Column::LeaseUntil,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            delivery::Column::UpdatedAt,
            Expr::value(now.timestamp_millis()),
        )
        .filter(delivery::Column::Id.eq(d.id))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
        .exec(&txn)
        .await?;
    if ended.rows_affected == 0 {
        return crate::infra::db::commit(txn).await;
    }
    let mut row = attempt_row(outcome, &Transition::failed(now.timestamp_millis()), false);
    row.response_code = Set(outcome.result.status.map(i32::from));
    row.error = Set(Some(UNWRITABLE.to_owned()));
    row.response_body = Set(None);
    delivery_attempt::Entity::insert(row)
        .exec_without_returning(&txn)
        .await?;
    let mut queued = Queued::default();
    if outcome.ordered {
        let now_ms = now.timestamp_millis();
        crate::domain::ordered::release_next(&txn, d.webhook_id, now_ms, &mut queued).await?;
    }
    queued.write(&txn).await?;
    crate::infra::db::commit(txn).await
}

/// The log row of one attempt. The last attempt of an ordered webhook's delivery that failed
/// says that the next one in line goes now.
pub(super) fn attempt_row(
    outcome: &Outcome,
    next: &Transition,
    ends_in_line: bool,
) -> delivery_attempt::ActiveModel {
    let d = &outcome.delivery;
    let r = &outcome.result;
    let error = match &r.error {
        Some(error) if ends_in_line && next.status == DeliveryStatus::Failed => Some(format!(
            "{error}; failed for good: the next delivery in order was released"
        )),
        other => other.clone(),
    };
    delivery_attempt::ActiveModel {
        id: Set(new_uuid()),
        org_id: Set(d.org_id.clone()),
        delivery_id: Set(d.id),
        webhook_id: Set(d.webhook_id),
        event_type: Set(d.event_type.clone()),
        attempt: Set(d.attempts + 1),
        status: Set(next.status.as_str().to_owned()),
        response_code: Set(r.status.map(i32::from)),
        duration_ms: Set(r.duration_ms),
        error: Set(error.as_deref().map(storable)),
        response_body: Set(r.response_excerpt.as_deref().map(storable)),
        created_at: Set(outcome.at.timestamp_millis()),
    }
}

/// Text a receiver chose, fit to store and show: without NUL (PostgreSQL refuses it in text,
/// which left such a delivery unrecordable) and the other ASCII controls, which no log reader wants
/// either. Tabs and line breaks stay.
fn storable(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_ascii_control() || matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_answers_lose_nul_and_other_controls_but_keep_line_breaks() {
        assert_eq!(storable("a\0b\u{1b}[31mc\td\r\ne\u{7f}"), "ab[31mc\td\r\ne");
    }
}

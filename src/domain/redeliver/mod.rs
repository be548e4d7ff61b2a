//! Sending to a webhook again what it missed: **recover** puts its failed deliveries of a time
//! range back in the queue with a fresh schedule; **replay** sends the organization's stored
//! events of a range again, as new deliveries marked as replays. Both are bounded (a range, a
//! count) and written in batches, so one organization's call keeps the database responsive for
//! the others.

pub mod budget;
mod range;
pub mod recover;
pub mod replay;

pub use range::TimeRange;
use sea_orm::DbErr;

use crate::domain::{
    field_error::FieldError,
    webhooks::{Webhook, WebhookStatus},
};

/// Why nothing was sent again.
#[derive(Debug, thiserror::Error)]
pub enum RedeliverError {
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// Its deliveries would fail at once, without a request.
    #[error("the webhook is disabled")]
    Disabled,
    /// The deliveries would pass the organization's budget for this hour.
    #[error("over the redelivery budget")]
    OverBudget {
        per_hour: u64,
        retry_after_secs: u64,
    },
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<FieldError> for RedeliverError {
    fn from(error: FieldError) -> Self {
        Self::Invalid(vec![error])
    }
}

fn require_active(webhook: &Webhook) -> Result<(), RedeliverError> {
    if WebhookStatus::from_db(&webhook.row.status) == WebhookStatus::Active {
        Ok(())
    } else {
        Err(RedeliverError::Disabled)
    }
}

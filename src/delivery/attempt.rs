//! One attempt of one delivery: its request signed and sent, or the reason it was not, as
//! the outcome the recorder writes.

use entity::{delivery, webhook};

use super::{
    client::{AttemptResult, Sender},
    record::Outcome,
    request,
};
use crate::{
    domain::webhooks::{WebhookSource, WebhookStatus},
    infra::{cipher::SecretBox, time},
};

/// An attempt that sent nothing, with the reason.
fn not_sent(why: String) -> AttemptResult {
    AttemptResult {
        status: None,
        error: Some(why),
        response_excerpt: None,
        retry_after: None,
        duration_ms: 0,
    }
}

/// One HTTP attempt of one delivery.
pub(super) async fn attempt(
    sender: &Sender,
    secrets: &SecretBox,
    delivery: delivery::Model,
    webhook: &webhook::Model,
    payload: &str,
) -> Outcome {
    let at = time::now();
    let (result, terminal) = if WebhookStatus::from_db(&webhook.status) != WebhookStatus::Active {
        (
            not_sent("not sent: the webhook is disabled".to_owned()),
            true,
        )
    } else {
        match request::headers(&delivery, webhook, payload, at, secrets) {
            Ok(headers) => (
                sender.post(&webhook.url, headers, payload.to_owned()).await,
                false,
            ),
            // A missing key is the operator's to fix: retried, so a corrected restart sends it.
            Err(err) => (
                not_sent(format!("not sent: the webhook's secret {err}")),
                false,
            ),
        }
    };
    Outcome {
        source: WebhookSource::from_db(&webhook.source),
        ordered: webhook.ordered,
        delivery,
        result,
        at,
        terminal,
        slot: None,
    }
}

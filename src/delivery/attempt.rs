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
    infra::{cipher::SecretBox, ids, time},
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

/// Leases without a recorded outcome after which a delivery is failed rather than sent again:
/// its outcomes cannot be written (each lease ran out with nothing recorded), and sending it
/// at every lease's end would never stop.
const UNRECORDED_LEASES: i32 = 3;

/// One HTTP attempt of one delivery.
pub(super) async fn attempt(
    sender: &Sender,
    secrets: &SecretBox,
    delivery: delivery::Model,
    webhook: &webhook::Model,
    payload: &str,
) -> Outcome {
    let at = time::now();
    // This lease is one of `leases`; each earlier one ended without an outcome written.
    let unrecorded = delivery.leases - 1 - delivery.attempts;
    let (result, terminal) = if unrecorded >= UNRECORDED_LEASES {
        let why = format!(
            "not sent again: its last {unrecorded} attempts were made but their outcomes could not be recorded"
        );
        (not_sent(why), true)
    } else if WebhookStatus::from_db(&webhook.status) != WebhookStatus::Active {
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
    if result.status.is_none()
        && let Some(why) = result
            .error
            .as_deref()
            .filter(|e| e.starts_with("refused:"))
    {
        // The reason names the host and address, never the URL (its query may hold a token).
        tracing::warn!(
            org = %delivery.org_id,
            webhook = %ids::show(ids::WEBHOOK, &delivery.webhook_id),
            delivery = %ids::show(ids::DELIVERY, &delivery.id),
            event = %delivery.event_id,
            reason = why,
            "delivery target refused"
        );
    }
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

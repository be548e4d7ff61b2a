//! The one prompt: `debug_delivery`, which walks an agent from "it did not fire" to the attempt
//! that explains why, with the delivery tools.

use rmcp::model::{Prompt, PromptArgument, PromptMessage, Role};

pub const DEBUG_DELIVERY: &str = "debug_delivery";

pub fn list() -> Vec<Prompt> {
    vec![
        Prompt::new(
            DEBUG_DELIVERY,
            Some(
                "Find a delivery and explain why it did or did not reach its receiver (a webhook, \
             a Zap, a Make scenario or an n8n workflow).",
            ),
            Some(vec![
                PromptArgument::new("reference")
                    .with_title("Event or delivery id")
                    .with_description(
                        "The event's id (e.g. wamid.123) or a delivery id (X-Kaanha-Delivery).",
                    )
                    .with_required(true),
                PromptArgument::new("webhook")
                    .with_title("Webhook")
                    .with_description("The webhook's id or name, when known.")
                    .with_required(false),
            ]),
        )
        .with_title("Debug a delivery"),
    ]
}

/// The walk-through, for one reference (and a webhook, if the user named one).
pub fn debug_delivery(reference: &str, webhook: Option<&str>) -> Vec<PromptMessage> {
    let webhook = webhook.map_or_else(String::new, |w| {
        format!(" The user means the webhook `{w}`.")
    });
    let text = format!(
        "Find out what happened to the delivery of `{reference}` and explain it plainly.{webhook}\n\n\
         1. Call `find_delivery` with `id` = `{reference}`. Each row is one attempt: its webhook \
         (`webhookId`), attempt number, the delivery's status after it, the receiver's \
         `responseCode`, the `error`, `durationMs` and the start of the receiver's answer \
         (`responseBody`).\n\
         2. No rows: the gateway never delivered this event. Call `list_webhooks` and check \
         that a webhook is active and subscribes to the event's type (a disabled webhook says \
         why in its status). If the reference is not an event id, look in `webhook_logs` of \
         the likely webhook around the time the user expected it, with `status` = failed.\n\
         3. Rows found: read the newest attempt of each webhook. `delivered` means the receiver \
         answered 2xx: the problem is after it (the Zap's filter, the workflow). `pending` \
         means a retry is due (after 5 s, 25 s, then 2 min). `failed` means every retry \
         failed: explain by the code (401/403: the receiver refused the signature or \
         credentials; 404/410: the URL is wrong or the Zap was turned off; 5xx: the receiver \
         failed; no code: timeout, refused connection or a refused address, as `error` says).\n\
         4. Quote the attempt's time, code and error. Offer `retry_delivery` for one delivery, \
         or `recover_failed` for an outage, only once the cause is fixed, and ask before \
         calling either."
    );
    vec![PromptMessage::new_text(Role::User, text)]
}

//! What a delivery's request carries: the document's headers, the Standard Webhooks trio when
//! the webhook has a secret, and during a rotation the previous secret's signatures too. The
//! worker sends exactly this; the log shows it again for any attempt (the secret never).

use entity::{delivery, webhook};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

use super::{headers as names, sign};
use crate::infra::{
    cipher::{OpenError, SecretBox, SecretField},
    ids,
};

/// The headers of a delivery: the document's, plus the Standard Webhooks trio when signed.
///
/// During a secret rotation's overlap the previous secret signs too: `X-Kaanha-Signature`
/// always carries the current secret's signature (what the document's `verifyWebhook` checks
/// with the secret the dashboard shows), `X-Kaanha-Signature-Previous` the old one's, and
/// `webhook-signature` lists both, as Standard Webhooks does.
///
/// Secrets are stored sealed when encryption is on; `secrets` opens them here, just before
/// signing, so they are in memory only while a request is made.
pub fn headers(
    delivery: &delivery::Model,
    webhook: &webhook::Model,
    payload: &str,
    at: chrono::DateTime<chrono::Utc>,
    secrets: &SecretBox,
) -> Result<HeaderMap, OpenError> {
    let unix_seconds = at.timestamp();
    let mut map = HeaderMap::new();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            map.insert(name, value);
        }
    };
    put(CONTENT_TYPE.as_str(), "application/json");
    put(names::EVENT, &delivery.event_type);
    put(names::DELIVERY, &ids::show(ids::DELIVERY, &delivery.id));
    if delivery.replay {
        put(names::REPLAY, "true");
    }
    if let Some(stored) = &webhook.secret {
        let secret = &secrets.open(&webhook.id, SecretField::Secret, stored)?;
        let body = payload.as_bytes();
        put(names::SIGNATURE, &sign::kaanha_signature(secret, body));
        put(names::WEBHOOK_ID, &delivery.event_id);
        put(names::WEBHOOK_TIMESTAMP, &unix_seconds.to_string());
        let mut standard = sign::standard_signature(secret, &delivery.event_id, unix_seconds, body);
        if let Some(stored) = previous_secret(webhook, at) {
            let previous = &secrets.open(&webhook.id, SecretField::PreviousSecret, stored)?;
            put(
                names::PREVIOUS_SIGNATURE,
                &sign::kaanha_signature(previous, body),
            );
            standard.push(' ');
            standard.push_str(&sign::standard_signature(
                previous,
                &delivery.event_id,
                unix_seconds,
                body,
            ));
        }
        put(names::WEBHOOK_SIGNATURE, &standard);
    }
    Ok(map)
}

/// The secret a rotation replaced, while its overlap lasts.
fn previous_secret(webhook: &webhook::Model, at: chrono::DateTime<chrono::Utc>) -> Option<&str> {
    match (&webhook.previous_secret, webhook.previous_secret_until) {
        (Some(previous), Some(until)) if at < until => Some(previous),
        _ => None,
    }
}

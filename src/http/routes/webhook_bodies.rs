//! The bodies of the webhook routes: what a client sends (`WebhookIn`, `WebhookPatch`), read
//! into the domain's requests and parsed there, and what it gets back (`WebhookOut`).

use poem_openapi::{
    Object,
    types::{Example, MaybeUndefined},
};
use serde::Deserialize;

use crate::{
    domain::{
        delivery_status::DeliveryStatus,
        webhooks::{
            NewWebhook, Webhook, WebhookChanges, WebhookPatchRequest, WebhookRequest,
            WebhookSource, WebhookStatus,
        },
    },
    http::{
        body::BodyLimit,
        error::{ApiError, ApiResult},
        schema_types::*,
        state::AppState,
        timestamp::Timestamp,
    },
    infra::ids,
};

/// A new webhook: where to send which events.
#[derive(Debug, Object, Deserialize)]
#[oai(rename_all = "camelCase", example, deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct WebhookIn {
    /// Descriptive label, e.g. "CRM Sync" (1–100 characters).
    #[oai(validator(min_length = 1, max_length = 100))]
    name: String,
    /// Your endpoint. Must be `https` and publicly accessible.
    #[oai(validator(max_length = 2048))]
    url: String,
    /// Event types to receive, e.g. `["message.received", "contact.created"]`.
    #[oai(validator(min_items = 1, max_items = 64))]
    events: Vec<EventName>,
    /// Optional shared secret (8–256 characters): every delivery is then signed with
    /// HMAC-SHA256 in `X-Kaanha-Signature`. Write-only: never returned.
    #[oai(write_only, nullable, validator(min_length = 8, max_length = 256))]
    #[serde(default)]
    secret: Option<String>,
    /// `active` (default) or `disabled`.
    #[oai(nullable)]
    #[serde(default)]
    status: Option<WebhookStatus>,
    /// Most deliveries per second your endpoint takes (1–10,000), across every instance of
    /// the gateway; deliveries beyond it wait their turn (they are not failures). No limit when
    /// absent.
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "10000")))]
    #[serde(default)]
    rate_limit: Option<i64>,
    /// `true`: deliveries go out one at a time, in the order the events were published; a
    /// retrying one holds back the rest (throughput: one request in flight). Default `false`.
    #[oai(nullable)]
    #[serde(default)]
    ordered: Option<bool>,
}

impl BodyLimit for WebhookIn {}

impl Example for WebhookIn {
    fn example() -> Self {
        Self {
            name: "CRM Sync".into(),
            url: "https://crm.example.com/kaanha/webhook".into(),
            events: vec![
                EventName("message.received".into()),
                EventName("contact.created".into()),
            ],
            secret: Some("a-long-random-secret".into()),
            status: None,
            rate_limit: None,
            ordered: None,
        }
    }
}

/// Changes to a webhook; fields left out (or `null`, except `secret`) stay as they are.
#[derive(Debug, Object, Deserialize)]
#[oai(rename_all = "camelCase", example, deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct WebhookPatch {
    /// New label.
    #[oai(nullable, validator(min_length = 1, max_length = 100))]
    #[serde(default)]
    name: Option<String>,
    /// New endpoint (`https`, publicly accessible).
    #[oai(nullable, validator(max_length = 2048))]
    #[serde(default)]
    url: Option<String>,
    /// New set of event types (replaces the old set).
    #[oai(nullable, validator(min_items = 1, max_items = 64))]
    #[serde(default)]
    events: Option<Vec<EventName>>,
    /// New secret; `null` removes it, so deliveries are no longer signed.
    #[oai(write_only, nullable, validator(min_length = 8, max_length = 256))]
    #[serde(default)]
    secret: MaybeUndefined<String>,
    /// `active` or `disabled`.
    #[oai(nullable)]
    #[serde(default)]
    status: Option<WebhookStatus>,
    /// New rate limit in deliveries per second (1–10,000); `null` removes it.
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "10000")))]
    #[serde(default)]
    rate_limit: MaybeUndefined<i64>,
    /// Turn ordered delivery on or off; turned off, deliveries waiting in line go at once.
    #[oai(nullable)]
    #[serde(default)]
    ordered: Option<bool>,
}

impl BodyLimit for WebhookPatch {}

impl Example for WebhookPatch {
    fn example() -> Self {
        Self {
            name: None,
            url: None,
            events: None,
            secret: MaybeUndefined::Undefined,
            status: Some(WebhookStatus::Disabled),
            rate_limit: MaybeUndefined::Undefined,
            ordered: None,
        }
    }
}

/// A webhook as the API shows it (never with its secret).
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase", example)]
pub(super) struct WebhookOut {
    /// Webhook id.
    id: String,
    name: String,
    url: String,
    /// Event types it receives.
    events: Vec<EventName>,
    /// Whether deliveries are signed (the secret itself is never shown).
    has_secret: bool,
    status: WebhookStatus,
    /// `api` for webhooks made here; `zapier`, `make` or `n8n` for REST-hook subscriptions.
    source: WebhookSource,
    /// Why it is disabled (by the gateway after failing deliveries, or by hand), and since when.
    #[oai(skip_serializing_if_is_none)]
    disabled_reason: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    disabled_at: Option<Timestamp>,
    /// Deliveries that failed in a row (every retry spent); a delivered one resets it.
    consecutive_failures: i32,
    /// When the first of those failures happened.
    #[oai(skip_serializing_if_is_none)]
    failing_since: Option<Timestamp>,
    /// Until when the secret replaced by the last rotation still signs deliveries too.
    #[oai(skip_serializing_if_is_none)]
    previous_secret_expires_at: Option<Timestamp>,
    /// Most deliveries per second it is sent; absent: no limit.
    #[oai(skip_serializing_if_is_none)]
    rate_limit: Option<i32>,
    /// Deliveries go out one at a time, in publish order.
    ordered: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
    /// Its newest attempt (in lists only; absent before the first).
    #[oai(skip_serializing_if_is_none)]
    last_attempt: Option<LastAttempt>,
}

/// When a webhook was last tried, and how it went.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct LastAttempt {
    timestamp: Timestamp,
    /// The delivery's state after that attempt.
    status: DeliveryStatus,
    #[oai(skip_serializing_if_is_none)]
    response_code: Option<i32>,
}

impl WebhookOut {
    /// This webhook as a list shows it, with its newest attempt.
    pub(super) fn listed(webhook: Webhook, last: Option<entity::delivery_attempt::Model>) -> Self {
        Self {
            last_attempt: last.map(Into::into),
            ..webhook.into()
        }
    }
}

impl From<entity::delivery_attempt::Model> for LastAttempt {
    fn from(row: entity::delivery_attempt::Model) -> Self {
        Self {
            timestamp: Timestamp::from_millis(row.created_at),
            status: DeliveryStatus::from_db(&row.status),
            response_code: row.response_code,
        }
    }
}

impl Example for WebhookOut {
    fn example() -> Self {
        let at = Timestamp(
            chrono::DateTime::from_timestamp_millis(1_774_348_200_000).unwrap_or_default(),
        );
        Self {
            id: "wh_0195c8a4e1b27c3d8e9fa0b1c2d3e4f5".into(),
            name: "CRM Sync".into(),
            url: "https://crm.example.com/kaanha/webhook".into(),
            events: vec![
                EventName("message.received".into()),
                EventName("contact.created".into()),
            ],
            has_secret: true,
            status: WebhookStatus::Active,
            source: WebhookSource::Api,
            disabled_reason: None,
            disabled_at: None,
            consecutive_failures: 0,
            failing_since: None,
            previous_secret_expires_at: None,
            rate_limit: Some(20),
            ordered: false,
            created_at: at,
            updated_at: at,
            last_attempt: None,
        }
    }
}

impl From<Webhook> for WebhookOut {
    fn from(webhook: Webhook) -> Self {
        let row = webhook.row;
        Self {
            id: ids::show(ids::WEBHOOK, &row.id),
            name: row.name,
            url: row.url,
            events: webhook.events.into_iter().map(EventName).collect(),
            has_secret: row.secret.is_some(),
            status: WebhookStatus::from_db(&row.status),
            source: WebhookSource::from_db(&row.source),
            disabled_reason: row.disabled_reason,
            disabled_at: row.disabled_at.map(Into::into),
            consecutive_failures: row.consecutive_failures,
            failing_since: row.failing_since.map(Into::into),
            previous_secret_expires_at: row
                .previous_secret_until
                .filter(|until| *until > crate::infra::time::now())
                .map(Into::into),
            rate_limit: row.rate_limit,
            ordered: row.ordered,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
            last_attempt: None,
        }
    }
}

/// One page of webhooks, newest first.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct WebhookPage {
    pub(super) data: Vec<WebhookOut>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub(super) next_cursor: Option<String>,
}

pub(super) async fn parse_new(state: &AppState, input: WebhookIn) -> ApiResult<NewWebhook> {
    let request = WebhookRequest {
        name: input.name,
        url: input.url,
        events: input.events.into_iter().map(|e| e.0).collect(),
        secret: input.secret,
        status: input.status,
        rate_limit: input.rate_limit,
        ordered: input.ordered,
    };
    NewWebhook::parse(request, &state.targets)
        .await
        .map_err(ApiError::validation)
}

pub(super) async fn parse_changes(
    state: &AppState,
    patch: WebhookPatch,
) -> ApiResult<WebhookChanges> {
    let request = WebhookPatchRequest {
        name: patch.name,
        url: patch.url,
        events: patch
            .events
            .map(|events| events.into_iter().map(|e| e.0).collect()),
        secret: match patch.secret {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(secret) => Some(Some(secret)),
        },
        status: patch.status,
        rate_limit: match patch.rate_limit {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(limit) => Some(Some(limit)),
        },
        ordered: patch.ordered,
    };
    WebhookChanges::parse(request, &state.targets, state.config.secret_overlap)
        .await
        .map_err(ApiError::validation)
}

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::{Example, MaybeUndefined},
};
use serde::Deserialize;

use super::{ApiTags, DEFAULT_PAGE_SIZE, next_cursor};
use crate::{
    domain::{
        scope::Scope,
        webhooks::{
            self, NewWebhook, Webhook, WebhookChanges, WebhookPatchRequest, WebhookRequest,
            WebhookSource, WebhookStatus,
        },
    },
    http::{
        auth::BearerAuth,
        body::{BodyLimit, JsonBody},
        error::{ApiError, ApiResult},
        schema_types::*,
        state::AppState,
        timestamp::Timestamp,
    },
};

pub struct WebhooksApi;

/// A new webhook: where to send which events.
#[derive(Debug, Object, Deserialize)]
#[oai(rename_all = "camelCase", example, deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WebhookIn {
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
        }
    }
}

/// Changes to a webhook; fields left out (or `null`, except `secret`) stay as they are.
#[derive(Debug, Object, Deserialize)]
#[oai(rename_all = "camelCase", example, deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WebhookPatch {
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
        }
    }
}

/// A webhook as the API shows it (never with its secret).
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase", example)]
struct WebhookOut {
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
    created_at: Timestamp,
    updated_at: Timestamp,
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
            created_at: at,
            updated_at: at,
        }
    }
}

impl From<Webhook> for WebhookOut {
    fn from(webhook: Webhook) -> Self {
        let row = webhook.row;
        Self {
            id: row.id,
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
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        }
    }
}

/// One page of webhooks, newest first.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct WebhookPage {
    data: Vec<WebhookOut>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    next_cursor: Option<String>,
}

#[derive(ApiResponse)]
enum CreatedWebhook {
    /// The webhook was created.
    #[oai(status = 201)]
    Created(Json<WebhookOut>, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
enum OneWebhook {
    /// The webhook.
    #[oai(status = 200)]
    Ok(Json<WebhookOut>),
}

#[derive(ApiResponse)]
enum WebhookList {
    /// A page of webhooks.
    #[oai(status = 200)]
    Ok(Json<WebhookPage>),
}

#[derive(ApiResponse)]
enum Deleted {
    /// The webhook, its subscriptions and its delivery log are gone.
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(tag = "ApiTags::Webhooks")]
impl WebhooksApi {
    /// Create a webhook
    ///
    /// Validates every field at once: an unknown event type, a URL that is not `https` or
    /// not public, a too-short secret each get a 422 naming the field. An active webhook is
    /// sent a `webhook.test` event at once; its outcome appears in the webhook's log.
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks",
        method = "post",
        operation_id = "createWebhook"
    )]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<WebhookIn>,
    ) -> ApiResult<CreatedWebhook> {
        auth.0.require(Scope::Webhooks)?;
        let new = parse_new(&state, body.0).await?;
        if new.gets_test_event() {
            state.manual_sends(&auth.0.org)?;
        }
        let webhook = webhooks::insert(&state.store, &auth.0.org, new).await?;
        let location = format!("/api/webhooks/{}", webhook.row.id);
        Ok(CreatedWebhook::Created(Json(webhook.into()), location))
    }

    /// List webhooks
    ///
    /// Newest first, `limit` per page (1–100, default 20); follow `nextCursor` for more.
    ///
    /// Needs the `webhooks` scope.
    #[oai(path = "/api/webhooks", method = "get", operation_id = "listWebhooks")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<WebhookList> {
        auth.0.require(Scope::Webhooks)?;
        let limit = limit.0.unwrap_or(DEFAULT_PAGE_SIZE);
        let mut page = webhooks::list(
            &state.db,
            &auth.0.org,
            cursor.0.as_deref(),
            u64::from(limit) + 1,
        )
        .await?;
        let next_cursor = next_cursor(&mut page, limit, |w| w.row.id.clone());
        Ok(WebhookList::Ok(Json(WebhookPage {
            data: page.into_iter().map(Into::into).collect(),
            next_cursor,
        })))
    }

    /// Get a webhook
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks/:id",
        method = "get",
        operation_id = "getWebhook"
    )]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Webhook id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
    ) -> ApiResult<OneWebhook> {
        auth.0.require(Scope::Webhooks)?;
        let webhook = webhooks::find(&state.db, &auth.0.org, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("webhook", &id))?;
        Ok(OneWebhook::Ok(Json(webhook.into())))
    }

    /// Update a webhook
    ///
    /// Only the fields sent change. `"secret": null` removes the secret; `"status":
    /// "disabled"` pauses deliveries without losing the webhook.
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks/:id",
        method = "patch",
        operation_id = "updateWebhook"
    )]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Webhook id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
        body: JsonBody<WebhookPatch>,
    ) -> ApiResult<OneWebhook> {
        auth.0.require(Scope::Webhooks)?;
        let changes = parse_changes(&state, body.0).await?;
        let webhook = webhooks::update(&state.store, &auth.0.org, &id, changes)
            .await?
            .ok_or_else(|| ApiError::not_found("webhook", &id))?;
        Ok(OneWebhook::Ok(Json(webhook.into())))
    }

    /// Delete a webhook
    ///
    /// Removes the webhook with its pending deliveries and its log.
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks/:id",
        method = "delete",
        operation_id = "deleteWebhook"
    )]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Webhook id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
    ) -> ApiResult<Deleted> {
        auth.0.require(Scope::Webhooks)?;
        if webhooks::delete(&state.db, &auth.0.org, &id).await? {
            Ok(Deleted::NoContent)
        } else {
            Err(ApiError::not_found("webhook", &id))
        }
    }
}

async fn parse_new(state: &AppState, input: WebhookIn) -> ApiResult<NewWebhook> {
    let request = WebhookRequest {
        name: input.name,
        url: input.url,
        events: input.events.into_iter().map(|e| e.0).collect(),
        secret: input.secret,
        status: input.status,
    };
    NewWebhook::parse(request, &state.targets)
        .await
        .map_err(ApiError::validation)
}

async fn parse_changes(state: &AppState, patch: WebhookPatch) -> ApiResult<WebhookChanges> {
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
    };
    WebhookChanges::parse(request, &state.targets, state.config.secret_overlap)
        .await
        .map_err(ApiError::validation)
}

//! REST hooks: Zapier's performSubscribe/performUnsubscribe, Make's attach/detach and n8n's
//! checkExists/create/delete all call these routes.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::Example,
};
use serde::Deserialize;
use serde_json::Value;

use super::ApiTags;
use crate::{
    domain::{
        org::OrgId,
        platform::Platform,
        publish::samples,
        scope::Scope,
        subscriptions::{self, Subscription, SubscriptionRequest},
        webhooks::{Webhook, WebhookSource},
    },
    http::{
        auth::BearerAuth,
        body::{BodyLimit, JsonBody},
        error::{ApiError, ApiResult},
        state::AppState,
        timestamp::Timestamp,
    },
    infra::ids,
};

pub struct SubscriptionsApi;

/// A subscribe request. The URL may come under any of the names platforms use; extra fields
/// (such as Zapier's `platform`) are ignored.
#[derive(Debug, Object, Deserialize)]
#[oai(example)]
struct HookIn {
    /// Where to deliver (Zapier's `bundle.targetUrl`, Make's `webhook.url`, n8n's webhook URL).
    #[oai(rename = "target_url")]
    #[serde(default, rename = "target_url")]
    target_url: Option<String>,
    /// Same as `target_url`.
    #[oai(rename = "targetUrl")]
    #[serde(default, rename = "targetUrl")]
    target_url_camel: Option<String>,
    /// Same as `target_url`.
    #[oai(rename = "hookUrl")]
    #[serde(default, rename = "hookUrl")]
    hook_url: Option<String>,
    /// Same as `target_url`.
    #[serde(default)]
    url: Option<String>,
    /// The trigger's event (`message.received`) or key (`message_received`).
    #[serde(default)]
    event: Option<String>,
    /// Several events for one subscription, instead of `event` (at most 64).
    #[oai(validator(max_items = 64))]
    #[serde(default)]
    events: Option<Vec<String>>,
    /// The trigger's filters, e.g. `{"message_type": "text"}`; blank values are ignored.
    #[serde(default)]
    filters: Option<Value>,
    /// If set, deliveries are signed with it (`X-Kaanha-Signature`). Write-only. Subscribing
    /// again with a new secret replaces the old one.
    #[oai(write_only)]
    #[serde(default)]
    secret: Option<String>,
    /// Deliver one realistic event at once (the newest real one of the type that passes the
    /// filters, else the catalog sample), for a platform's test step: n8n's "Listen for test
    /// event". Counts toward the organization's test events and retries per minute.
    #[oai(rename = "sendSample")]
    #[serde(default, rename = "sendSample")]
    send_sample: Option<bool>,
}

impl BodyLimit for HookIn {}

impl Example for HookIn {
    fn example() -> Self {
        Self {
            target_url: Some("https://hooks.zapier.com/hooks/standard/123/abc/".into()),
            target_url_camel: None,
            hook_url: None,
            url: None,
            event: Some("message.received".into()),
            events: None,
            filters: None,
            secret: None,
            send_sample: None,
        }
    }
}

/// A subscription, as platforms store it (Zapier keeps all of it as `subscribeData`).
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct HookOut {
    /// Unsubscribe with it.
    id: String,
    /// The (first) event subscribed to.
    event: String,
    events: Vec<String>,
    target_url: String,
    platform: Platform,
    #[oai(skip_serializing_if_is_none)]
    filters: Option<Value>,
    created_at: Timestamp,
    /// Only when `sendSample` was asked: whether a sample was delivered (`false` when the
    /// organization's rate of test events and retries was spent).
    #[oai(skip_serializing_if_is_none)]
    sample_sent: Option<bool>,
}

/// Delivers one realistic event to a new subscription, within the organization's rate of
/// sends by hand; over it, nothing is sent (the subscription itself stands) and `false` says so.
async fn send_sample_to(state: &AppState, org: &OrgId, hook: &Webhook) -> ApiResult<bool> {
    let Some((event_type, filters)) = subscriptions::sample_of(hook) else {
        return Ok(false);
    };
    if state.manual_sends(org).is_err() {
        return Ok(false);
    }
    let store = &state.store;
    samples::deliver_sample(store, org, hook.row.id, event_type, filters).await?;
    Ok(true)
}

fn hook_out(hook: Webhook, platform: Platform) -> HookOut {
    HookOut {
        id: ids::show(ids::WEBHOOK, &hook.row.id),
        event: hook.events.first().cloned().unwrap_or_default(),
        events: hook.events,
        target_url: hook.row.url,
        platform,
        filters: hook.row.filters,
        created_at: hook.row.created_at.into(),
        sample_sent: None,
    }
}

#[derive(ApiResponse)]
enum SubscribeResponse {
    /// Subscribed.
    #[oai(status = 201)]
    Created(Json<HookOut>),
    /// This exact subscription already existed; here it is (nothing is delivered twice).
    #[oai(status = 200)]
    Existing(Json<HookOut>),
}

#[derive(ApiResponse)]
enum HookList {
    /// The platform's subscriptions, newest first (at most 100).
    #[oai(status = 200)]
    Ok(Json<Vec<HookOut>>),
}

#[derive(ApiResponse)]
enum OneHook {
    /// The subscription exists.
    #[oai(status = 200)]
    Ok(Json<HookOut>),
}

#[derive(ApiResponse)]
enum Unsubscribed {
    /// The subscription is gone (or already was): safe to repeat.
    #[oai(status = 204)]
    NoContent,
}

async fn parse_subscription(state: &AppState, input: HookIn) -> ApiResult<Subscription> {
    let target_urls = [
        input.target_url,
        input.target_url_camel,
        input.hook_url,
        input.url,
    ];
    let request = SubscriptionRequest {
        target_urls: target_urls.into_iter().flatten().collect(),
        event: input.event,
        events: input.events,
        filters: input.filters,
        secret: input.secret,
    };
    Subscription::parse(request, &state.targets)
        .await
        .map_err(ApiError::validation)
}

#[OpenApi(tag = "ApiTags::Integrations")]
impl SubscriptionsApi {
    /// Subscribe (REST hook)
    ///
    /// Zapier's `performSubscribe`, Make's attach, n8n's `create`. Deliveries to the target
    /// URL are the same signed envelope as any webhook's; a 410 from it ends the subscription.
    /// Subscribing the same URL to the same events again returns the existing subscription.
    ///
    /// Needs the `integrations` scope.
    #[oai(
        path = "/api/integrations/:platform/hooks",
        method = "post",
        operation_id = "subscribeHook"
    )]
    async fn subscribe(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// `zapier`, `make` or `n8n`.
        platform: Path<Platform>,
        body: JsonBody<HookIn>,
    ) -> ApiResult<SubscribeResponse> {
        auth.0.require(Scope::Integrations)?;
        let body = body.read().await?;
        let send_sample = body.send_sample == Some(true);
        let wanted = parse_subscription(&state, body).await?;
        let org = &auth.0.org;
        let (hook, created) =
            subscriptions::subscribe(&state.store, org, platform.0, wanted).await?;
        let sample_sent = match send_sample {
            true => Some(send_sample_to(&state, org, &hook).await?),
            false => None,
        };
        let out = HookOut {
            sample_sent,
            ..hook_out(hook, platform.0)
        };
        Ok(if created {
            SubscribeResponse::Created(Json(out))
        } else {
            SubscribeResponse::Existing(Json(out))
        })
    }

    /// List subscriptions
    ///
    /// The platform's subscriptions in the organization, optionally only those delivering to
    /// `target_url`.
    ///
    /// Needs the `integrations` scope.
    #[oai(
        path = "/api/integrations/:platform/hooks",
        method = "get",
        operation_id = "listHooks"
    )]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// `zapier`, `make` or `n8n`.
        platform: Path<Platform>,
        /// Only subscriptions delivering here.
        #[oai(validator(max_length = 2048))]
        target_url: Query<Option<String>>,
    ) -> ApiResult<HookList> {
        auth.0.require(Scope::Integrations)?;
        let hooks = crate::domain::webhooks::list_by_source(
            &state.db,
            &auth.0.org,
            WebhookSource::Platform(platform.0),
            target_url.0.as_deref(),
            subscriptions::LIST_LIMIT,
        )
        .await?;
        Ok(HookList::Ok(Json(
            hooks.into_iter().map(|h| hook_out(h, platform.0)).collect(),
        )))
    }

    /// Check a subscription exists
    ///
    /// n8n's `checkExists`: 200 while the subscription exists, 404 once it is gone.
    ///
    /// Needs the `integrations` scope.
    #[oai(
        path = "/api/integrations/:platform/hooks/:id",
        method = "get",
        operation_id = "getHook"
    )]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// `zapier`, `make` or `n8n`.
        platform: Path<Platform>,
        /// Subscription id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
    ) -> ApiResult<OneHook> {
        auth.0.require(Scope::Integrations)?;
        let not_found = || ApiError::not_found("subscription", &id);
        let webhook_id = ids::parse(ids::WEBHOOK, &id).ok_or_else(not_found)?;
        let hook = subscriptions::find(&state.db, &auth.0.org, platform.0, webhook_id)
            .await?
            .ok_or_else(not_found)?;
        Ok(OneHook::Ok(Json(hook_out(hook, platform.0))))
    }

    /// Unsubscribe
    ///
    /// Zapier's `performUnsubscribe` (also when a Zap is only paused), Make's detach, n8n's
    /// `delete`. Answers 204 whether or not the subscription still existed, so it may be
    /// repeated; another organization's subscription is never touched.
    ///
    /// Needs the `integrations` scope.
    #[oai(
        path = "/api/integrations/:platform/hooks/:id",
        method = "delete",
        operation_id = "unsubscribeHook"
    )]
    async fn unsubscribe(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// `zapier`, `make` or `n8n`.
        platform: Path<Platform>,
        /// Subscription id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
    ) -> ApiResult<Unsubscribed> {
        auth.0.require(Scope::Integrations)?;
        // Text that is no subscription's id names nothing to remove.
        if let Some(webhook_id) = ids::parse(ids::WEBHOOK, &id) {
            subscriptions::unsubscribe(&state.db, &auth.0.org, platform.0, webhook_id).await?;
        }
        Ok(Unsubscribed::NoContent)
    }
}

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
use serde_json::{Map, Value};

use super::ApiTags;
use crate::{
    catalog::{self, EventType},
    domain::{
        platform::Platform,
        scope::Scope,
        subscriptions::{self, Subscription},
        webhooks::{Webhook, WebhookSource, validate_secret},
    },
    http::{
        auth::BearerAuth,
        body::{BodyLimit, JsonBody},
        error::{ApiError, ApiResult, FieldError},
        state::AppState,
        timestamp::Timestamp,
    },
};

pub struct HooksApi;

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
    /// Several events for one subscription, instead of `event`.
    #[serde(default)]
    events: Option<Vec<String>>,
    /// The trigger's filters, e.g. `{"message_type": "text"}`; blank values are ignored.
    #[serde(default)]
    filters: Option<Value>,
    /// If set, deliveries are signed with it (`X-Kaanha-Signature`). Write-only.
    #[oai(write_only)]
    #[serde(default)]
    secret: Option<String>,
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
}

fn hook_out(hook: Webhook, platform: Platform) -> HookOut {
    HookOut {
        id: hook.row.id,
        event: hook.events.first().cloned().unwrap_or_default(),
        events: hook.events,
        target_url: hook.row.url,
        platform,
        filters: hook.row.filters,
        created_at: hook.row.created_at.into(),
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

/// An event named by its wire name or its trigger key.
fn trigger_event(name: &str) -> Result<&'static EventType, String> {
    catalog::subscribable_type(name)
        .or_else(|why| catalog::subscribable().find(|e| e.key() == name).ok_or(why))
}

async fn parse_subscription(state: &AppState, input: HookIn) -> ApiResult<Subscription> {
    let mut errors = Vec::new();
    let urls: Vec<&String> = [
        &input.target_url,
        &input.target_url_camel,
        &input.hook_url,
        &input.url,
    ]
    .into_iter()
    .flatten()
    .collect();
    let target_url = match urls.as_slice() {
        [] => {
            errors.push(FieldError::new(
                "target_url",
                "is required (or targetUrl, hookUrl, url)",
            ));
            None
        }
        [first, rest @ ..] if rest.iter().all(|u| u == first) => {
            match state.targets.check(first).await {
                Ok(url) => Some(String::from(url)),
                Err(why) => {
                    errors.push(FieldError::new("target_url", why));
                    None
                }
            }
        }
        _ => {
            errors.push(FieldError::new(
                "target_url",
                "was given twice with different values",
            ));
            None
        }
    };
    let names: Vec<String> = match (&input.event, &input.events) {
        (Some(one), None) => vec![one.clone()],
        (None, Some(many)) => many.clone(),
        (Some(one), Some(many)) => std::iter::once(one.clone())
            .chain(many.iter().cloned())
            .collect(),
        (None, None) => Vec::new(),
    };
    if names.is_empty() {
        errors.push(FieldError::new("event", "is required (or events)"));
    }
    let mut events: Vec<&'static EventType> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match trigger_event(name) {
            Ok(event) => events.push(event),
            Err(why) => errors.push(FieldError::new(
                if input.event.is_some() && i == 0 {
                    "event".to_owned()
                } else {
                    format!("events[{i}]")
                },
                why,
            )),
        }
    }
    events.sort_by_key(|e| catalog::EVENT_TYPES.iter().position(|t| t.name == e.name));
    events.dedup_by_key(|e| e.name);
    let filters = parse_filters(input.filters.as_ref(), &events, &mut errors);
    let secret = match input
        .secret
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(validate_secret)
    {
        Some(Ok(secret)) => Some(secret),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
        None => None,
    };
    match target_url {
        Some(target_url) if errors.is_empty() => Ok(Subscription {
            target_url,
            events: events.iter().map(|e| e.name).collect(),
            filters,
            secret,
        }),
        _ => Err(ApiError::validation(errors)),
    }
}

/// Keeps non-blank string filters that one of the chosen events defines.
fn parse_filters(
    given: Option<&Value>,
    events: &[&EventType],
    errors: &mut Vec<FieldError>,
) -> Option<Value> {
    let given = match given {
        None | Some(Value::Null) => return None,
        Some(Value::Object(map)) => map,
        Some(_) => {
            errors.push(FieldError::new(
                "filters",
                "must be an object of the trigger's input fields",
            ));
            return None;
        }
    };
    let mut kept = Map::new();
    for (key, value) in given {
        let field = format!("filters.{key}");
        let Some(filter) = events
            .iter()
            .flat_map(|e| e.filters)
            .find(|f| f.field.key == key)
        else {
            errors.push(FieldError::new(
                field,
                "is not a filter of the events subscribed to",
            ));
            continue;
        };
        match value {
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            Value::String(_) => match filter.field.check(value) {
                Ok(()) => {
                    kept.insert(key.clone(), value.clone());
                }
                Err(why) => errors.push(FieldError::new(field, why)),
            },
            _ => errors.push(FieldError::new(field, "must be a string")),
        }
    }
    (!kept.is_empty()).then_some(Value::Object(kept))
}

#[OpenApi(tag = "ApiTags::Integrations")]
impl HooksApi {
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
        let wanted = parse_subscription(&state, body.0).await?;
        let (hook, created) =
            subscriptions::subscribe(&state.store, &auth.0.org, platform.0, wanted).await?;
        let out = hook_out(hook, platform.0);
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
        let hook = subscriptions::find(&state.db, &auth.0.org, platform.0, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("subscription", &id))?;
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
        subscriptions::unsubscribe(&state.db, &auth.0.org, platform.0, &id).await?;
        Ok(Unsubscribed::NoContent)
    }
}

//! `GET /api/integrations/describe`: everything a generic client needs to build a Zapier app,
//! a Make app or an n8n node — auth, subscriptions, the delivery contract, triggers and
//! actions — generated from the catalog. Cached per base URL, with an ETag.

use std::{sync::Arc, time::Duration};

use moka::future::Cache;
use poem::{Request, web::Data};
use poem_openapi::{ApiResponse, Object, OpenApi, param::Header, payload::Json};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::ApiTags;
use crate::{
    auth::BearerAuth,
    catalog::{
        self, EventType, OutputField,
        actions::{ACTIONS, Action},
        fields::{FieldKind, InputField},
    },
    config::Config,
    error::ApiResult,
    scope::Scope,
    startup::AppState,
    webhooks::WebhookSource,
};

/// Discovery documents by base URL; they change only with the gateway's version and settings.
pub type DescribeCache = Cache<String, Arc<(Describe, String)>>;

pub fn new_cache() -> DescribeCache {
    Cache::builder()
        .max_capacity(64)
        .time_to_live(Duration::from_secs(300))
        .build()
}

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct Describe {
    /// Version of this document's shape.
    schema_version: String,
    platform: PlatformInfo,
    auth: AuthInfo,
    subscriptions: SubscriptionInfo,
    delivery: DeliveryInfo,
    /// One per event type.
    triggers: Vec<Trigger>,
    /// Whether actions can run here (`KAANHA_UPSTREAM_URL` is set); if not, running one
    /// answers 503.
    actions_available: bool,
    actions: Vec<ActionOut>,
}

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
struct PlatformInfo {
    key: String,
    name: String,
    /// Prefix every `path` in this document with it.
    base_url: String,
    version: String,
}

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
struct Route {
    method: String,
    path: String,
}

/// The method and path of one of the API's operations, as the OpenAPI document states them, so
/// discovery can never name a route the gateway does not serve.
fn route(operation_id: &str) -> Route {
    static SPEC: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
        serde_json::from_str(&crate::api::spec_json()).expect("the spec is JSON")
    });
    let found = SPEC["paths"].as_object().and_then(|paths| {
        paths.iter().find_map(|(path, operations)| {
            operations
                .as_object()?
                .iter()
                .find_map(|(method, operation)| {
                    (operation["operationId"] == operation_id).then(|| Route {
                        method: method.to_uppercase(),
                        path: path.clone(),
                    })
                })
        })
    });
    found.unwrap_or_else(|| panic!("no operation `{operation_id}` in the spec"))
}

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
struct AuthInfo {
    /// `bearer`: send `Authorization: Bearer <API key>`.
    #[oai(rename = "type")]
    kind: String,
    header: String,
    scheme: String,
    /// What the user is asked for when connecting.
    fields: Vec<FieldOut>,
    /// Call it to test a connection; it answers who the key is.
    test: Route,
    /// Field of the test answer to show as the connection's name.
    connection_label: String,
}

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
struct SubscriptionInfo {
    /// Values of `{platform}` in the paths below.
    platforms: Vec<String>,
    subscribe: Route,
    /// Fields of the subscribe body.
    body: Vec<FieldOut>,
    /// Fields of the subscribe answer (201, or 200 when the same subscription already exists).
    /// Store `id`: it unsubscribes.
    response: Vec<String>,
    get: Route,
    list: Route,
    unsubscribe: Route,
}

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
struct DeliveryInfo {
    method: String,
    content_type: String,
    /// Fields of every delivered body; `id` is stable across retries: de-duplicate on it.
    envelope: Vec<String>,
    idempotency_key: String,
    signature_header: String,
    /// How `signatureHeader` is computed (only when the subscription has a secret).
    signature: String,
    /// Standard Webhooks headers sent alongside (`webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`).
    standard_webhooks: bool,
    /// Delays before each retry after a failed attempt, in milliseconds.
    retry_delays_ms: Vec<u64>,
    /// Answer this status to end a subscription from the receiving side.
    gone_status: u16,
    rules: String,
}

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
struct FieldOut {
    key: String,
    label: String,
    /// `string`, `text`, `integer`, `number`, `boolean`, `datetime`, `enum`, `array` (of
    /// strings), `json` or `password`.
    #[oai(rename = "type")]
    kind: String,
    required: bool,
    /// Every field has one (n8n needs it).
    default: Value,
    help: String,
    /// For `enum`: the values allowed (empty for other types).
    choices: Vec<Choice>,
}

#[derive(Debug, Clone, Object)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
struct OutputFieldOut {
    /// Dotted path in the delivered body, e.g. `data.contact.phone`.
    key: String,
    label: String,
    /// `string`, `number`, `integer`, `boolean`, `datetime` or `array`.
    #[oai(rename = "type")]
    kind: String,
    /// The field platforms de-duplicate on.
    primary: bool,
}

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
struct Trigger {
    /// Zapier-safe key, e.g. `message_received`; subscribe accepts it as well as `event`.
    key: String,
    event: String,
    noun: String,
    label: String,
    description: String,
    group: String,
    /// Optional filters, sent as `filters` when subscribing.
    input_fields: Vec<FieldOut>,
    output_fields: Vec<OutputFieldOut>,
    /// A delivered body, as an example.
    sample: Value,
    /// Recent real deliveries of this type (an array), for a platform's test step.
    samples: Route,
}

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
struct ActionOut {
    key: String,
    /// `create`, `update` or `search`.
    kind: String,
    noun: String,
    label: String,
    description: String,
    method: String,
    path: String,
    input_fields: Vec<FieldOut>,
    output_fields: Vec<OutputFieldOut>,
    sample: Value,
}

/// `contact.phone` → `Contact Phone`; `messageId` → `Message Id`.
fn label_for(key: &str) -> String {
    let mut words = Vec::new();
    for part in key.split('.') {
        let mut word = String::new();
        for c in part.chars() {
            if c.is_uppercase() && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            if word.is_empty() {
                word.extend(c.to_uppercase());
            } else {
                word.push(c);
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words.join(" ")
}

fn field_out(field: &InputField) -> FieldOut {
    let mut choices: Vec<Choice> = field
        .choices
        .iter()
        .map(|c| Choice {
            value: (*c).into(),
            label: (*c).into(),
        })
        .collect();
    if field.kind == FieldKind::Enum && !field.required && field.default == "\"\"" {
        // An optional filter's default, "any", must be one of the choices for n8n.
        choices.insert(
            0,
            Choice {
                value: String::new(),
                label: "Any".into(),
            },
        );
    }
    FieldOut {
        key: field.key.into(),
        label: field.label.into(),
        kind: field.kind.as_str().into(),
        required: field.required,
        default: field.default_value(),
        help: field.help.into(),
        choices,
    }
}

fn outputs(prefix: &str, fields: Vec<OutputField>) -> impl Iterator<Item = OutputFieldOut> + '_ {
    fields.into_iter().map(move |f| OutputFieldOut {
        label: label_for(&f.key),
        key: format!("{prefix}{}", f.key),
        kind: f.kind.into(),
        primary: false,
    })
}

fn noun(event: &EventType) -> String {
    label_for(event.name.split('.').next().unwrap_or(event.name))
}

fn trigger(event: &EventType, org_example: &str) -> Trigger {
    let sample = json!({
        "id": format!("evt_sample_{}", event.key()),
        "event": event.name,
        "organizationId": org_example,
        "timestamp": "2026-03-24T10:30:00.000Z",
        "data": event.sample(),
    });
    let [id, event_type, organization, timestamp, _data] = crate::events::ENVELOPE_FIELDS;
    let envelope = [
        (id, "Event ID", "string", true),
        (event_type, "Event Type", "string", false),
        (organization, "Organization ID", "string", false),
        (timestamp, "Timestamp", "datetime", false),
    ];
    let mut output_fields: Vec<OutputFieldOut> = envelope
        .iter()
        .map(|(key, label, kind, primary)| OutputFieldOut {
            key: (*key).into(),
            label: (*label).into(),
            kind: (*kind).into(),
            primary: *primary,
        })
        .collect();
    output_fields.extend(outputs("data.", event.output_fields()));
    Trigger {
        key: event.key(),
        event: event.name.into(),
        noun: noun(event),
        label: event.label.into(),
        description: format!("Triggers when: {}.", event.description.to_lowercase()),
        group: event.group.into(),
        input_fields: event.filters.iter().map(|f| field_out(&f.field)).collect(),
        output_fields,
        sample,
        samples: {
            let mut samples = route("triggerSamples");
            samples.path = samples.path.replace("{event}", event.name);
            samples
        },
    }
}

fn action_out(action: &Action) -> ActionOut {
    ActionOut {
        key: action.key.into(),
        kind: action.kind.as_str().into(),
        noun: action.noun.into(),
        label: action.label.into(),
        description: action.description.into(),
        method: route("runAction").method,
        path: route("runAction").path.replace("{key}", action.key),
        input_fields: action.input_fields.iter().map(field_out).collect(),
        output_fields: outputs("", action.output_fields()).collect(),
        sample: action.sample(),
    }
}

fn build(state: &AppState, base_url: &str) -> Describe {
    document(&state.config, state.upstream.is_some(), base_url)
}

/// The discovery document for a gateway with this configuration at `base_url`; the app
/// generator (`kaanha-gateway integrations export`) reads the same one.
pub fn document(config: &Config, actions_available: bool, base_url: &str) -> Describe {
    let text = |key: &str, label: &str, help: &str| FieldOut {
        key: key.into(),
        label: label.into(),
        kind: "string".into(),
        required: false,
        default: json!(""),
        help: help.into(),
        choices: Vec::new(),
    };
    let required = |mut field: FieldOut| {
        field.required = true;
        field
    };
    Describe {
        schema_version: "1.0".into(),
        platform: PlatformInfo {
            key: "kaanha".into(),
            name: "Kaanha AI".into(),
            base_url: base_url.into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        auth: AuthInfo {
            kind: "bearer".into(),
            header: "Authorization".into(),
            scheme: "Bearer".into(),
            fields: vec![FieldOut {
                kind: "password".into(),
                ..required(text(
                    "apiKey",
                    "API Key",
                    "An organization API key (kgw_...) with the integrations scope.",
                ))
            }],
            test: route("me"),
            connection_label: "label".into(),
        },
        subscriptions: SubscriptionInfo {
            platforms: WebhookSource::PLATFORMS
                .map(|platform| platform.as_str().to_owned())
                .to_vec(),
            subscribe: route("subscribeHook"),
            body: vec![
                required(text(
                    "targetUrl",
                    "Target URL",
                    "Where deliveries go. Also accepted as target_url, hookUrl or url.",
                )),
                required(text(
                    "event",
                    "Event",
                    "A trigger's event or key. Or `events`: a list of them.",
                )),
                FieldOut {
                    kind: "json".into(),
                    default: json!({}),
                    ..text(
                        "filters",
                        "Filters",
                        "The trigger's input fields, e.g. {\"message_type\": \"text\"}.",
                    )
                },
                text(
                    "secret",
                    "Secret",
                    "If set, deliveries carry X-Kaanha-Signature made with it.",
                ),
            ],
            response: [
                "id",
                "event",
                "events",
                "targetUrl",
                "platform",
                "createdAt",
            ]
            .map(String::from)
            .to_vec(),
            get: route("getHook"),
            list: {
                let mut list = route("listHooks");
                list.path.push_str("?target_url={targetUrl}");
                list
            },
            unsubscribe: route("unsubscribeHook"),
        },
        delivery: DeliveryInfo {
            method: "POST".into(),
            content_type: "application/json".into(),
            envelope: crate::events::ENVELOPE_FIELDS.map(String::from).to_vec(),
            idempotency_key: crate::events::ENVELOPE_FIELDS[0].into(),
            signature_header: crate::delivery::headers::display(
                crate::delivery::headers::SIGNATURE,
            ),
            signature: "sha256=<lowercase hex HMAC-SHA256(secret, raw body)>".into(),
            standard_webhooks: true,
            retry_delays_ms: config
                .retry_schedule
                .delays()
                .iter()
                .map(|d| d.as_millis() as u64)
                .collect(),
            gone_status: 410,
            rules:
                "Any 2xx is delivered. Anything else, a timeout or a connection error is retried \
                    after each delay in retryDelaysMs, then the delivery fails. A 429/503 \
                    Retry-After replaces the next delay (1 s to 1 h). A 410 from a subscription's \
                    URL removes the subscription; nothing more is sent to it."
                    .into(),
        },
        triggers: catalog::subscribable()
            .map(|e| trigger(e, "clx..."))
            .collect(),
        actions_available,
        actions: ACTIONS.iter().map(action_out).collect(),
    }
}

/// The base URL clients use: the configured one, else the request's own.
fn base_url(state: &AppState, req: &Request) -> String {
    if let Some(url) = &state.config.public_url {
        return url.as_str().trim_end_matches('/').to_owned();
    }
    let host = req
        .header("host")
        .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("127.0.0.1");
    let scheme = match req.header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

pub struct DescribeApi;

#[derive(ApiResponse)]
enum DescribeResponse {
    /// The discovery document.
    #[oai(status = 200)]
    Ok(
        Json<Box<Describe>>,
        /// Send it back as `If-None-Match` to get a 304 while nothing changed.
        #[oai(header = "ETag")]
        String,
        #[oai(header = "Cache-Control")] String,
    ),
    /// Unchanged since the ETag given in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[OpenApi(tag = "ApiTags::Integrations")]
impl DescribeApi {
    /// Discover triggers and actions
    ///
    /// Everything a Zapier app, a Make app or an n8n node needs: auth, subscriptions, the
    /// delivery contract, one trigger per event type and the actions.
    ///
    /// Needs the `integrations` scope.
    #[oai(
        path = "/api/integrations/describe",
        method = "get",
        operation_id = "describe"
    )]
    async fn describe(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: BearerAuth,
        /// The `ETag` of a copy already held.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<DescribeResponse> {
        auth.0.require(Scope::Integrations)?;
        let base = base_url(&state, req);
        let cached = state
            .describe_cache
            .get_with(base.clone(), async {
                let document = build(&state, &base);
                let bytes = serde_json::to_vec(&poem_openapi::types::ToJSON::to_json(&document))
                    .unwrap_or_default();
                let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
                Arc::new((document, etag))
            })
            .await;
        let (document, etag) = (&cached.0, &cached.1);
        let matches = if_none_match.0.as_deref().is_some_and(|given| {
            given
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
        });
        Ok(if matches {
            DescribeResponse::NotModified(etag.clone())
        } else {
            DescribeResponse::Ok(
                Json(Box::new(document.clone())),
                etag.clone(),
                "private, max-age=60".into(),
            )
        })
    }
}

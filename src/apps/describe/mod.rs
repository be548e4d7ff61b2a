//! The discovery document (`GET /api/integrations/describe`): everything a generic client
//! needs to build a Zapier app, a Make app or an n8n node — auth, subscriptions, the delivery
//! contract, triggers and actions. Built from the catalog and from the same constants the
//! routes, the delivery headers and the envelope use; the app generator reads the same one.
//!
//! Its types derive poem-openapi's `Object` because they are also the response schema of the
//! describe route: the document and its schema cannot drift apart.

mod routes;
mod triggers;

use poem_openapi::Object;
pub use routes::{Route, Routes};
use serde_json::json;
use triggers::{ActionOut, FieldOut, ListOut, Trigger, action_out, list_out, trigger};

use crate::{
    catalog::{self, lists::LISTS},
    config::RetrySchedule,
    delivery::headers,
    domain::{named::Named, platform::Platform, publish::ENVELOPE_FIELDS},
};

/// What the document says of one gateway.
pub struct Gateway<'a> {
    /// The URL clients call, without a trailing `/`.
    pub base_url: &'a str,
    pub retry_schedule: &'a RetrySchedule,
    /// Whether this gateway forwards actions (`KAANHA_UPSTREAM_URL`).
    pub actions_available: bool,
    /// The API's operations, read from its OpenAPI document.
    pub routes: &'a Routes,
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
    /// Creates, updates and searches (`kind`), forwarded to the platform's API.
    actions: Vec<ActionOut>,
    /// Lists that fill the dropdowns of input fields naming them (`list`).
    lists: Vec<ListOut>,
    /// The generic API call ("Make an API call"): `{"method", "path", "query"?, "body"?}`,
    /// forwarded to the platform's API below the prefixes the gateway allows.
    api_call: Route,
    /// The Model Context Protocol server, for AI agents.
    mcp: McpInfo,
}

/// Where AI agents connect: the same credential, another protocol.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct McpInfo {
    /// Below `baseUrl`.
    path: String,
    /// `streamable-http`: MCP's HTTP transport.
    transport: String,
    /// What an agent finds there.
    tools: String,
}

/// Where the MCP server is served.
pub const MCP_PATH: &str = "/mcp";

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct PlatformInfo {
    key: String,
    name: String,
    /// Prefix every `path` in this document with it.
    base_url: String,
    version: String,
}

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct AuthInfo {
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
pub struct SubscriptionInfo {
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
pub struct DeliveryInfo {
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

/// The discovery document for a gateway with this configuration at `base_url`; the app
/// generator (`kaanha-gateway integrations export`) reads the same one.
pub fn document(gateway: &Gateway) -> Describe {
    let text = |key: &str, label: &str, help: &str| FieldOut {
        key: key.into(),
        label: label.into(),
        kind: "string".into(),
        required: false,
        default: json!(""),
        help: help.into(),
        choices: Vec::new(),
        list: None,
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
            base_url: gateway.base_url.into(),
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
            test: gateway.routes.get("me"),
            connection_label: "label".into(),
        },
        subscriptions: SubscriptionInfo {
            platforms: Platform::ALL
                .iter()
                .map(|platform| platform.as_str().to_owned())
                .collect(),
            subscribe: gateway.routes.get("subscribeHook"),
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
                    "If set, deliveries carry X-Kaanha-Signature made with it. Subscribing again \
                     with a new secret replaces it.",
                ),
                FieldOut {
                    kind: "boolean".into(),
                    default: json!(false),
                    ..text(
                        "sendSample",
                        "Send a sample",
                        "Deliver one realistic event at once (the newest real one that passes the \
                         filters, else the catalog sample), for a platform's test step.",
                    )
                },
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
            get: gateway.routes.get("getHook"),
            list: {
                let mut list = gateway.routes.get("listHooks");
                list.path.push_str("?target_url={targetUrl}");
                list
            },
            unsubscribe: gateway.routes.get("unsubscribeHook"),
        },
        delivery: DeliveryInfo {
            method: "POST".into(),
            content_type: "application/json".into(),
            envelope: ENVELOPE_FIELDS.map(String::from).to_vec(),
            idempotency_key: ENVELOPE_FIELDS[0].into(),
            signature_header: headers::display(headers::SIGNATURE),
            signature: "sha256=<lowercase hex HMAC-SHA256(secret, raw body)>".into(),
            standard_webhooks: true,
            retry_delays_ms: gateway
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
            .map(|e| trigger(e, "clx...", gateway.routes))
            .collect(),
        actions_available: gateway.actions_available,
        actions: catalog::all_actions()
            .map(|action| action_out(action, gateway.routes))
            .collect(),
        lists: LISTS
            .iter()
            .map(|list| list_out(list, gateway.routes))
            .collect(),
        api_call: gateway.routes.get("callApi"),
        mcp: McpInfo {
            path: MCP_PATH.into(),
            transport: "streamable-http".into(),
            tools: "Send `Authorization: Bearer <API key>` as here. With the `integrations` \
                    scope: one tool per action and search (named by its key), `list_<list>` per \
                    list and `api_call`; resources `kaanha://catalog` and \
                    `kaanha://samples/<event>`. With the `webhooks` scope: `list_webhooks`, \
                    `find_delivery`, `webhook_logs`, `retry_delivery`, `send_test_event`, \
                    `recover_failed` and the `debug_delivery` prompt."
                .into(),
        },
    }
}

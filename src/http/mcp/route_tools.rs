//! Tools that are one REST route each, declared with their arguments and where each goes:
//! the delivery tools (what an agent needs to answer "why didn't my Zap fire for wamid.123?"),
//! the dropdown lists and the generic API call.

use poem::http::Method;

use crate::domain::scope::Scope;

/// Where an argument travels in the REST request.
#[derive(Debug, Clone, Copy)]
pub enum Place {
    /// Replaces `{name}` in the path.
    Path,
    /// A query parameter, under this name.
    Query(&'static str),
    /// A member of the JSON body, under the argument's own name.
    Body,
}

#[derive(Debug, Clone, Copy)]
pub enum ArgKind {
    String,
    Integer {
        min: i64,
        max: i64,
    },
    Time,
    OneOf(&'static [&'static str]),
    /// A JSON object.
    Object,
}

#[derive(Debug)]
pub struct Arg {
    pub name: &'static str,
    pub kind: ArgKind,
    pub required: bool,
    pub place: Place,
    pub description: &'static str,
}

/// A tool that is one REST route.
#[derive(Debug)]
pub struct RouteTool {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub scope: Scope,
    pub method: Method,
    /// The route, with `{name}` where a `Path` argument goes.
    pub path: &'static str,
    pub args: &'static [Arg],
    pub read_only: bool,
    /// Whether calling it twice has no further effect.
    pub idempotent: bool,
}

const WEBHOOK_ID: Arg = Arg {
    name: "webhookId",
    kind: ArgKind::String,
    required: true,
    place: Place::Path,
    description: "The webhook's id, from `list_webhooks` or a log row's `webhookId`.",
};
const CURSOR: Arg = Arg {
    name: "cursor",
    kind: ArgKind::String,
    required: false,
    place: Place::Query("cursor"),
    description: "`nextCursor` of the previous page, to read the next one.",
};
const LIMIT: Arg = Arg {
    name: "limit",
    kind: ArgKind::Integer { min: 1, max: 100 },
    required: false,
    place: Place::Query("limit"),
    description: "Rows per page, 1–100 (default 20).",
};

/// The arguments of every list tool (`list_contacts`, ...): a page of a dropdown's choices.
pub static LIST_ARGS: &[Arg] = &[
    Arg {
        name: "query",
        kind: ArgKind::String,
        required: false,
        place: Place::Query("q"),
        description: "What to look for, e.g. part of a name.",
    },
    Arg {
        name: "cursor",
        kind: ArgKind::String,
        required: false,
        place: Place::Query("cursor"),
        description: "`nextCursor` of the previous page, to read the next one.",
    },
    Arg {
        name: "limit",
        kind: ArgKind::Integer { min: 1, max: 100 },
        required: false,
        place: Place::Query("limit"),
        description: "Items per page, 1–100 (default 50).",
    },
];

/// The generic API call: anything below the allowed prefixes of the platform's API.
pub static API_CALL: RouteTool = RouteTool {
    name: "api_call",
    title: "Call the Kaanha API",
    description: "Sends one request to the Kaanha platform's API, for what no other tool \
        covers, as this organization. Answers the platform's status and body.",
    scope: Scope::Integrations,
    method: Method::POST,
    path: "/api/integrations/call",
    args: &[
        Arg {
            name: "method",
            kind: ArgKind::OneOf(&["GET", "POST", "PUT", "PATCH", "DELETE"]),
            required: true,
            place: Place::Body,
            description: "The HTTP method.",
        },
        Arg {
            name: "path",
            kind: ArgKind::String,
            required: true,
            place: Place::Body,
            description: "The path, e.g. `/api/contacts/clx123`; it must lie below an allowed prefix.",
        },
        Arg {
            name: "query",
            kind: ArgKind::Object,
            required: false,
            place: Place::Body,
            description: "Query parameters: strings, numbers, booleans or lists.",
        },
        Arg {
            name: "body",
            kind: ArgKind::Object,
            required: false,
            place: Place::Body,
            description: "A JSON object to send as the body (not with GET).",
        },
    ],
    read_only: false,
    idempotent: false,
};

pub static DELIVERY_TOOLS: &[RouteTool] = &[
    RouteTool {
        name: "list_webhooks",
        title: "List webhooks",
        description: "Lists the organization's webhooks, newest first: id, name, URL, the \
            events each subscribes to, whether it is active or disabled (and why), and where it \
            came from (dashboard, zapier, make, n8n). Start here to find the webhook a Zap, \
            scenario or workflow uses.",
        scope: Scope::Webhooks,
        method: Method::GET,
        path: "/api/webhooks",
        args: &[CURSOR, LIMIT],
        read_only: true,
        idempotent: true,
    },
    RouteTool {
        name: "find_delivery",
        title: "Find a delivery",
        description: "Finds every attempt to deliver one event, across all the organization's \
            webhooks, newest first, by the event's id (the `id` a receiver logs, e.g. \
            `wamid.123`) or a delivery id (`X-Kaanha-Delivery`). Each row has the webhook, the \
            attempt number, the delivery's status after it (delivered, pending, failed), the \
            receiver's response code, the error (timeout, refused connection, ...), the duration \
            and the start of the receiver's answer. No rows: the event never reached the gateway, \
            or no webhook subscribed to its type.",
        scope: Scope::Webhooks,
        method: Method::GET,
        path: "/api/logs",
        args: &[
            Arg {
                name: "id",
                kind: ArgKind::String,
                required: true,
                place: Place::Query("search"),
                description: "The event id or delivery id.",
            },
            CURSOR,
            LIMIT,
        ],
        read_only: true,
        idempotent: true,
    },
    RouteTool {
        name: "webhook_logs",
        title: "A webhook's delivery log",
        description: "One webhook's delivery log, newest first: one row per attempt, with the \
            event, status, response code, error, duration and the start of the answer. Narrow it \
            by status, event type and a time range.",
        scope: Scope::Webhooks,
        method: Method::GET,
        path: "/api/webhooks/{webhookId}/logs",
        args: &[
            WEBHOOK_ID,
            Arg {
                name: "status",
                kind: ArgKind::OneOf(&["delivered", "pending", "failed"]),
                required: false,
                place: Place::Query("status"),
                description: "Only rows whose delivery was in this state after the attempt.",
            },
            Arg {
                name: "event",
                kind: ArgKind::String,
                required: false,
                place: Place::Query("event"),
                description: "Only this event type, e.g. `message.received`.",
            },
            Arg {
                name: "since",
                kind: ArgKind::Time,
                required: false,
                place: Place::Query("since"),
                description: "Only attempts at or after this time (RFC 3339).",
            },
            Arg {
                name: "until",
                kind: ArgKind::Time,
                required: false,
                place: Place::Query("until"),
                description: "Only attempts before this time (RFC 3339).",
            },
            CURSOR,
            LIMIT,
        ],
        read_only: true,
        idempotent: true,
    },
    RouteTool {
        name: "retry_delivery",
        title: "Retry a delivery",
        description: "Sends one failed delivery again now, as its next attempt (a delivery \
            pending or delivered is refused: it needs none). Counts against the organization's \
            sends by hand per minute (an error says when to try again).",
        scope: Scope::Webhooks,
        method: Method::POST,
        path: "/api/webhooks/{webhookId}/deliveries/{deliveryId}/retry",
        args: &[
            WEBHOOK_ID,
            Arg {
                name: "deliveryId",
                kind: ArgKind::String,
                required: true,
                place: Place::Path,
                description: "The delivery's id, from a log row's `deliveryId`.",
            },
        ],
        read_only: false,
        idempotent: false,
    },
    RouteTool {
        name: "send_test_event",
        title: "Send a test event",
        description: "Sends a `webhook.test` event to one webhook, to check that its receiver \
            answers. Counts against the organization's sends by hand per minute.",
        scope: Scope::Webhooks,
        method: Method::POST,
        path: "/api/webhooks/{webhookId}/test",
        args: &[WEBHOOK_ID],
        read_only: false,
        idempotent: false,
    },
    RouteTool {
        name: "recover_failed",
        title: "Recover failed deliveries",
        description: "Puts every delivery of one webhook that ended failed in a time range back \
            in the queue, with the whole retry schedule again: after a receiver's outage, this \
            sends what it missed. Deliveries pending or delivered are left alone. The range \
            spans at most 14 days. Limited per organization (an error says how to narrow it or \
            when to try again).",
        scope: Scope::Webhooks,
        method: Method::POST,
        path: "/api/webhooks/{webhookId}/recover",
        args: &[
            WEBHOOK_ID,
            Arg {
                name: "since",
                kind: ArgKind::Time,
                required: true,
                place: Place::Body,
                description: "Start of the range (RFC 3339).",
            },
            Arg {
                name: "until",
                kind: ArgKind::Time,
                required: false,
                place: Place::Body,
                description: "End of the range (RFC 3339); default: now.",
            },
        ],
        read_only: false,
        idempotent: false,
    },
];

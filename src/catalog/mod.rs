//! The event catalog: the one list of event types in the code. Validation, discovery and sample
//! data all read it. The types and the first two samples are the user's document, verbatim.

pub mod actions;
pub mod fields;

use fields::{FieldKind, InputField};
use serde_json::Value;

/// One kind of event the platform publishes.
#[derive(Debug)]
pub struct EventType {
    /// Wire name, as in `X-Kaanha-Event` and the envelope's `event`.
    pub name: &'static str,
    /// Short human label (no-code platforms show it; at most 64 characters).
    pub label: &'static str,
    /// When it fires, in the document's words.
    pub description: &'static str,
    /// Section of the document's table it belongs to, for grouping in pickers.
    pub group: &'static str,
    /// Whether a webhook can subscribe to it (`webhook.test` is sent, never subscribed to).
    pub subscribable: bool,
    /// Whether the platform may publish it; the `webhook.*` types are the gateway's own.
    pub publishable: bool,
    /// Filters a subscription may set (a trigger's input fields).
    pub filters: &'static [Filter],
    sample_json: &'static str,
}

impl EventType {
    /// Sample `data` for this type, as discovery and sample routes serve it.
    pub fn sample(&self) -> Value {
        serde_json::from_str(self.sample_json).expect("catalog samples are valid JSON")
    }

    /// Key usable as a Zapier trigger key or an n8n option value: `message.received` →
    /// `message_received`.
    pub fn key(&self) -> String {
        self.name.replace('.', "_")
    }

    /// Whether `data` passes a subscription's filters (`{"message_type": "text"}`). Filters
    /// this type does not define, and blank values, let everything through.
    pub fn passes(&self, filters: &Value, data: &Value) -> bool {
        let Some(filters) = filters.as_object() else {
            return true;
        };
        filters.iter().all(|(key, wanted)| {
            let filter = self.filters.iter().find(|f| f.field.key == key);
            match (filter, wanted.as_str()) {
                (Some(filter), Some(wanted)) if !wanted.is_empty() => filter.matches(data, wanted),
                _ => true,
            }
        })
    }

    /// The fields of `data`, flattened to dotted paths, typed from the sample.
    pub fn output_fields(&self) -> Vec<OutputField> {
        let mut fields = Vec::new();
        flatten_fields("", &self.sample(), &mut fields);
        fields
    }
}

/// A trigger's optional filter: only events whose `data` at `path` equals the value given (or,
/// for a list such as `contact.tags`, contains it) are delivered.
#[derive(Debug)]
pub struct Filter {
    pub field: InputField,
    pub path: &'static str,
}

impl Filter {
    /// Whether `data` passes this filter for `wanted`.
    pub fn matches(&self, data: &Value, wanted: &str) -> bool {
        let found = self
            .path
            .split('.')
            .try_fold(data, |value, key| value.get(key));
        match found {
            Some(Value::String(s)) => s == wanted,
            Some(Value::Array(items)) => items.iter().any(|item| item.as_str() == Some(wanted)),
            Some(Value::Number(n)) => n.to_string() == wanted,
            Some(Value::Bool(b)) => b.to_string() == wanted,
            _ => false,
        }
    }
}

const fn text_filter(
    key: &'static str,
    path: &'static str,
    label: &'static str,
    help: &'static str,
) -> Filter {
    Filter {
        field: InputField {
            key,
            label,
            kind: FieldKind::String,
            required: false,
            default: "\"\"",
            help,
            choices: &[],
        },
        path,
    }
}

const fn choice_filter(
    key: &'static str,
    path: &'static str,
    label: &'static str,
    help: &'static str,
    choices: &'static [&'static str],
) -> Filter {
    Filter {
        field: InputField {
            key,
            label,
            kind: FieldKind::Enum,
            required: false,
            default: "\"\"",
            help,
            choices,
        },
        path,
    }
}

const MESSAGE_TYPES: &[&str] = &[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "location",
    "interactive",
    "template",
];
const CONTACT_TAG: Filter = text_filter(
    "contact_tag",
    "contact.tags",
    "Contact tag",
    "Only contacts with this tag.",
);
const MESSAGE_TYPE: Filter = choice_filter(
    "message_type",
    "message.type",
    "Message type",
    "Only messages of this type.",
    MESSAGE_TYPES,
);
const CONVERSATION: Filter = text_filter(
    "conversation_id",
    "conversationId",
    "Conversation ID",
    "Only this conversation.",
);
const CHANNEL: Filter = choice_filter(
    "channel",
    "channel",
    "Channel",
    "Only conversations on this channel.",
    &["whatsapp", "instagram", "messenger", "sms"],
);
const CURRENCY: Filter = choice_filter(
    "currency",
    "currency",
    "Currency",
    "Only payments in this currency.",
    &["INR", "USD", "EUR", "GBP", "AED", "SGD"],
);

/// One field of an event's `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputField {
    /// Dotted path inside `data`, e.g. `contact.phone`.
    pub key: String,
    /// `string`, `number`, `integer`, `boolean`, `datetime` or `array`.
    pub kind: &'static str,
}

fn flatten_fields(prefix: &str, value: &Value, out: &mut Vec<OutputField>) {
    let Value::Object(map) = value else { return };
    for (name, child) in map {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let kind = match child {
            Value::Object(_) => {
                flatten_fields(&key, child, out);
                continue;
            }
            Value::Array(_) => "array",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => "datetime",
            Value::String(_) | Value::Null => "string",
        };
        out.push(OutputField { key, kind });
    }
}

/// The test event sent when a webhook is created and by its "send test" route.
pub const TEST_EVENT: &str = "webhook.test";
/// Sent by the gateway when a webhook is disabled (automatically or by hand) and enabled again.
pub const WEBHOOK_DISABLED: &str = "webhook.disabled";
pub const WEBHOOK_ENABLED: &str = "webhook.enabled";

/// Every event type, in the order of the document's table, then the test event.
pub static EVENT_TYPES: &[EventType] = &[
    EventType {
        name: "message.received",
        label: "Message Received",
        description: "Contact sends you a message",
        group: "Messages",
        subscribable: true,
        publishable: true,
        filters: &[MESSAGE_TYPE, CONTACT_TAG],
        sample_json: r#"{
    "messageId": "wamid.xxx",
    "conversationId": "clx...",
    "contact": {
      "id": "clx...",
      "phone": "+919876543210",
      "name": "John Doe",
      "tags": ["vip"]
    },
    "message": {
      "type": "text",
      "text": "Hi, I need help with my order",
      "timestamp": "2026-03-24T10:29:58.000Z"
    }
  }"#,
    },
    EventType {
        name: "message.sent",
        label: "Message Sent",
        description: "You send a message",
        group: "Messages",
        subscribable: true,
        publishable: true,
        filters: &[MESSAGE_TYPE],
        sample_json: r#"{
    "messageId": "wamid.yyy",
    "conversationId": "clx...",
    "contact": {
      "id": "clx...",
      "phone": "+919876543210",
      "name": "John Doe"
    },
    "message": {
      "type": "text",
      "text": "Your order #1042 has shipped",
      "timestamp": "2026-03-24T10:31:12.000Z"
    },
    "sentBy": {
      "id": "clx...",
      "name": "Priya (Support)"
    }
  }"#,
    },
    EventType {
        name: "message.delivered",
        label: "Message Delivered",
        description: "Message delivered to device",
        group: "Messages",
        subscribable: true,
        publishable: true,
        filters: &[CONVERSATION],
        sample_json: r#"{
    "messageId": "wamid.yyy",
    "conversationId": "clx...",
    "contact": {
      "id": "clx...",
      "phone": "+919876543210"
    },
    "deliveredAt": "2026-03-24T10:31:14.000Z"
  }"#,
    },
    EventType {
        name: "message.read",
        label: "Message Read",
        description: "Message read by contact",
        group: "Messages",
        subscribable: true,
        publishable: true,
        filters: &[CONVERSATION],
        sample_json: r#"{
    "messageId": "wamid.yyy",
    "conversationId": "clx...",
    "contact": {
      "id": "clx...",
      "phone": "+919876543210"
    },
    "readAt": "2026-03-24T10:32:40.000Z"
  }"#,
    },
    EventType {
        name: "conversation.opened",
        label: "Conversation Opened",
        description: "New conversation created",
        group: "Conversations",
        subscribable: true,
        publishable: true,
        filters: &[CHANNEL],
        sample_json: r#"{
    "conversationId": "clx...",
    "channel": "whatsapp",
    "contact": {
      "id": "clx...",
      "phone": "+919876543210",
      "name": "John Doe"
    },
    "openedAt": "2026-03-24T10:29:58.000Z"
  }"#,
    },
    EventType {
        name: "conversation.resolved",
        label: "Conversation Resolved",
        description: "Conversation marked resolved",
        group: "Conversations",
        subscribable: true,
        publishable: true,
        filters: &[CHANNEL],
        sample_json: r#"{
    "conversationId": "clx...",
    "channel": "whatsapp",
    "contact": {
      "id": "clx...",
      "phone": "+919876543210",
      "name": "John Doe"
    },
    "resolvedBy": {
      "id": "clx...",
      "name": "Priya (Support)"
    },
    "resolvedAt": "2026-03-24T11:05:00.000Z"
  }"#,
    },
    EventType {
        name: "contact.created",
        label: "Contact Created",
        description: "New contact added",
        group: "Contacts",
        subscribable: true,
        publishable: true,
        filters: &[CONTACT_TAG],
        sample_json: r#"{
    "contact": {
      "id": "clx...",
      "phone": "+919876543210",
      "name": "Jane Smith",
      "email": "jane@example.com",
      "tags": [],
      "optedIn": true,
      "createdAt": "2026-03-24T10:30:00.000Z"
    }
  }"#,
    },
    EventType {
        name: "contact.updated",
        label: "Contact Updated",
        description: "Contact profile updated",
        group: "Contacts",
        subscribable: true,
        publishable: true,
        filters: &[CONTACT_TAG],
        sample_json: r#"{
    "contact": {
      "id": "clx...",
      "phone": "+919876543210",
      "name": "Jane Smith",
      "email": "jane.smith@example.com",
      "tags": ["vip"],
      "optedIn": true,
      "updatedAt": "2026-03-25T09:12:00.000Z"
    },
    "changedFields": ["email", "tags"]
  }"#,
    },
    EventType {
        name: "contact.opted_out",
        label: "Contact Opted Out",
        description: "Contact sent STOP / unsubscribed",
        group: "Contacts",
        subscribable: true,
        publishable: true,
        filters: &[],
        sample_json: r#"{
    "contact": {
      "id": "clx...",
      "phone": "+919876543210",
      "name": "Jane Smith"
    },
    "keyword": "STOP",
    "optedOutAt": "2026-03-26T18:45:00.000Z"
  }"#,
    },
    EventType {
        name: "broadcast.completed",
        label: "Broadcast Completed",
        description: "Broadcast finishes sending",
        group: "Broadcasts",
        subscribable: true,
        publishable: true,
        filters: &[text_filter(
            "broadcast_id",
            "broadcastId",
            "Broadcast ID",
            "Only this broadcast.",
        )],
        sample_json: r#"{
    "broadcastId": "clx...",
    "name": "Diwali Sale",
    "totalRecipients": 1200,
    "sent": 1187,
    "delivered": 1150,
    "read": 904,
    "failed": 13,
    "completedAt": "2026-03-24T12:00:00.000Z"
  }"#,
    },
    EventType {
        name: "payment.completed",
        label: "Payment Completed",
        description: "Payment link paid",
        group: "Payments",
        subscribable: true,
        publishable: true,
        filters: &[CURRENCY],
        sample_json: r#"{
    "paymentId": "pay_xxx",
    "paymentLinkId": "plink_xxx",
    "conversationId": "clx...",
    "contact": {
      "id": "clx...",
      "phone": "+919876543210",
      "name": "John Doe"
    },
    "amount": 1499.5,
    "currency": "INR",
    "description": "Order #1042",
    "paidAt": "2026-03-24T10:45:00.000Z"
  }"#,
    },
    EventType {
        name: WEBHOOK_DISABLED,
        label: "Webhook Disabled",
        description: "A webhook was disabled: by the gateway after its deliveries kept failing, or by hand",
        group: "Webhooks",
        subscribable: true,
        publishable: false,
        filters: &[],
        sample_json: r#"{
    "webhookId": "wh_xxx",
    "source": "api",
    "reason": "disabled by the gateway: 20 deliveries in a row failed, the first 24h ago or more",
    "consecutiveFailures": 20,
    "failingSince": "2026-03-23T10:30:00.000Z",
    "disabledAt": "2026-03-24T10:30:00.000Z"
  }"#,
    },
    EventType {
        name: WEBHOOK_ENABLED,
        label: "Webhook Enabled",
        description: "A disabled webhook was enabled again",
        group: "Webhooks",
        subscribable: true,
        publishable: false,
        filters: &[],
        sample_json: r#"{
    "webhookId": "wh_xxx",
    "source": "api",
    "enabledAt": "2026-03-24T11:00:00.000Z"
  }"#,
    },
    EventType {
        name: TEST_EVENT,
        label: "Webhook Test",
        description: "Sent when a webhook is saved, and on demand, to check the endpoint",
        group: "Webhooks",
        subscribable: false,
        publishable: false,
        filters: &[],
        sample_json: r#"{
    "webhookId": "wh_xxx",
    "message": "This is a test event from Kaanha AI. Your webhook is set up correctly."
  }"#,
    },
];

/// Looks an event type up by its wire name.
pub fn find(name: &str) -> Option<&'static EventType> {
    EVENT_TYPES.iter().find(|t| t.name == name)
}

/// The type the platform may publish under this name, or a sentence saying why not.
pub fn publishable_type(name: &str) -> Result<&'static EventType, String> {
    let event = subscribable_type(name)?;
    if event.publishable {
        Ok(event)
    } else {
        Err(format!(
            "`{}` is sent by the gateway itself; it cannot be published",
            event.name
        ))
    }
}

/// The subscribable type of this name, or a sentence saying why not.
pub fn subscribable_type(name: &str) -> Result<&'static EventType, String> {
    match find(name) {
        Some(event) if event.subscribable => Ok(event),
        Some(event) => Err(format!(
            "`{}` is sent by the gateway itself; it cannot be subscribed to or published",
            event.name
        )),
        None => Err(format!(
            "`{}` is not an event type; known types: {}",
            name.chars().take(64).collect::<String>(),
            subscribable()
                .map(|e| e.name)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Event types a webhook can subscribe to.
pub fn subscribable() -> impl Iterator<Item = &'static EventType> {
    EVENT_TYPES.iter().filter(|t| t.subscribable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_eleven_publishable_types_plus_the_gateways_own() {
        assert_eq!(EVENT_TYPES.iter().filter(|t| t.publishable).count(), 11);
        assert_eq!(subscribable().count(), 13);
        assert_eq!(EVENT_TYPES.len(), 14);
        assert!(find(TEST_EVENT).is_some_and(|t| !t.subscribable));
        assert!(publishable_type(WEBHOOK_DISABLED).is_err());
        assert!(subscribable_type(WEBHOOK_ENABLED).is_ok());
    }

    #[test]
    fn every_sample_is_an_object_and_every_key_and_label_suits_no_code_platforms() {
        for event in EVENT_TYPES {
            assert!(event.sample().is_object(), "{}", event.name);
            let key = event.key();
            assert!(key.starts_with(|c: char| c.is_ascii_alphabetic()), "{key}");
            assert!(
                key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{key}"
            );
            assert!((2..=64).contains(&event.label.len()), "{}", event.label);
            assert!(!event.output_fields().is_empty(), "{}", event.name);
        }
    }

    #[test]
    fn filters_match_values_and_list_members_and_ignore_blanks() {
        let received = find("message.received").unwrap();
        let data = received.sample();
        let pass = |filters: serde_json::Value| received.passes(&filters, &data);
        assert!(pass(
            serde_json::json!({"message_type": "text", "contact_tag": "vip"})
        ));
        assert!(!pass(serde_json::json!({"message_type": "image"})));
        assert!(!pass(serde_json::json!({"contact_tag": "wholesale"})));
        assert!(pass(
            serde_json::json!({"message_type": "", "currency": "USD"})
        ));
        assert!(pass(serde_json::Value::Null));
    }

    #[test]
    fn output_fields_are_flattened_and_typed_from_the_sample() {
        let fields = find("message.received").unwrap().output_fields();
        let kind = |key: &str| fields.iter().find(|f| f.key == key).map(|f| f.kind);
        assert_eq!(kind("contact.phone"), Some("string"));
        assert_eq!(kind("contact.tags"), Some("array"));
        assert_eq!(kind("message.timestamp"), Some("datetime"));
        assert_eq!(kind("contact"), None);
        let payment = find("payment.completed").unwrap().output_fields();
        assert!(
            payment
                .iter()
                .any(|f| f.key == "amount" && f.kind == "number")
        );
    }
}

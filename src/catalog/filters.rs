//! A trigger's filters: the optional input fields that narrow which events a subscription
//! gets.

use serde_json::Value;

use super::fields::{FieldKind, InputField};

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

pub(super) const fn text_filter(
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
            list: None,
        },
        path,
    }
}

pub(super) const fn choice_filter(
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
            list: None,
        },
        path,
    }
}

pub(super) const MESSAGE_TYPES: &[&str] = &[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "location",
    "interactive",
    "template",
];
pub(super) const CONTACT_TAG: Filter = text_filter(
    "contact_tag",
    "contact.tags",
    "Contact tag",
    "Only contacts with this tag.",
);
pub(super) const MESSAGE_TYPE: Filter = choice_filter(
    "message_type",
    "message.type",
    "Message type",
    "Only messages of this type.",
    MESSAGE_TYPES,
);
pub(super) const CONVERSATION: Filter = text_filter(
    "conversation_id",
    "conversationId",
    "Conversation ID",
    "Only this conversation.",
);
pub(super) const CHANNEL: Filter = choice_filter(
    "channel",
    "channel",
    "Channel",
    "Only conversations on this channel.",
    &["whatsapp", "instagram", "messenger", "sms"],
);
pub(super) const CURRENCY: Filter = choice_filter(
    "currency",
    "currency",
    "Currency",
    "Only payments in this currency.",
    &["INR", "USD", "EUR", "GBP", "AED", "SGD"],
);

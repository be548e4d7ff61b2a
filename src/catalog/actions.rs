//! Actions: what a Zap, a Make scenario or an n8n workflow can ask the platform to do. Each is
//! validated here and forwarded to the platform's API (`KAANHA_UPSTREAM_URL`).

use serde_json::Value;

use super::{
    OutputField,
    fields::{FieldKind, InputField},
    flatten_fields,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Create,
    Update,
    Search,
}

impl ActionKind {
    /// Whether its inputs travel in the query string of a `GET` (searches) or as a JSON body.
    pub fn reads(self) -> bool {
        self == Self::Search
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Search => "search",
        }
    }
}

#[derive(Debug)]
pub struct Action {
    /// Zapier-safe key, also the last segment of `POST /api/integrations/actions/{key}`.
    pub key: &'static str,
    pub kind: ActionKind,
    pub noun: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    /// How the gateway calls the platform: method and path below `KAANHA_UPSTREAM_URL`;
    /// `{name}` is replaced by the input of that name.
    pub upstream_method: &'static str,
    pub upstream_path: &'static str,
    pub input_fields: &'static [InputField],
    pub(super) sample_json: &'static str,
}

impl Action {
    /// What the platform answers, as an example.
    pub fn sample(&self) -> Value {
        serde_json::from_str(self.sample_json).expect("catalog samples are valid JSON")
    }

    pub fn output_fields(&self) -> Vec<OutputField> {
        let mut fields = Vec::new();
        flatten_fields("", &self.sample(), &mut fields);
        fields
    }

    /// The names inside `{...}` in the upstream path.
    pub fn path_params(&self) -> impl Iterator<Item = &'static str> {
        self.upstream_path
            .split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name))
    }
}

pub(super) const fn field(
    key: &'static str,
    label: &'static str,
    kind: FieldKind,
    required: bool,
    default: &'static str,
    help: &'static str,
) -> InputField {
    InputField {
        key,
        label,
        kind,
        required,
        default,
        help,
        choices: &[],
        list: None,
    }
}

const PHONE: InputField = field(
    "phone",
    "Phone",
    FieldKind::String,
    true,
    "\"\"",
    "In international format, e.g. +919876543210.",
);
const CONTACT_ID: InputField = field(
    "contactId",
    "Contact ID",
    FieldKind::String,
    true,
    "\"\"",
    "The contact's id, e.g. from a Contact Created trigger.",
)
.choices_from("contacts");
const NAME: InputField = field(
    "name",
    "Name",
    FieldKind::String,
    false,
    "\"\"",
    "Full name.",
);
const EMAIL: InputField = field(
    "email",
    "Email",
    FieldKind::String,
    false,
    "\"\"",
    "Email address.",
);
const TAGS: InputField = field(
    "tags",
    "Tags",
    FieldKind::Array,
    false,
    "[]",
    "Tags, e.g. vip.",
)
.choices_from("tags");

pub static ACTIONS: &[Action] = &[
    Action {
        key: "send_message",
        kind: ActionKind::Create,
        noun: "Message",
        label: "Send Message",
        description: "Sends a WhatsApp text message to a contact.",
        upstream_method: "POST",
        upstream_path: "/api/messages",
        input_fields: &[
            PHONE,
            field(
                "text",
                "Text",
                FieldKind::Text,
                true,
                "\"\"",
                "The message to send.",
            ),
            field(
                "conversationId",
                "Conversation ID",
                FieldKind::String,
                false,
                "\"\"",
                "Reply inside this conversation.",
            )
            .choices_from("conversations"),
        ],
        sample_json: r#"{"messageId": "wamid.yyy", "conversationId": "clx...", "status": "queued", "createdAt": "2026-03-24T10:31:12.000Z"}"#,
    },
    Action {
        key: "create_contact",
        kind: ActionKind::Create,
        noun: "Contact",
        label: "Create Contact",
        description: "Adds a contact.",
        upstream_method: "POST",
        upstream_path: "/api/contacts",
        input_fields: &[
            PHONE,
            NAME,
            EMAIL,
            TAGS,
            field(
                "optedIn",
                "Opted In",
                FieldKind::Boolean,
                false,
                "true",
                "Whether the contact agreed to receive messages.",
            ),
        ],
        sample_json: r#"{"id": "clx...", "phone": "+919876543210", "name": "Jane Smith", "email": "jane@example.com", "tags": [], "optedIn": true, "createdAt": "2026-03-24T10:30:00.000Z"}"#,
    },
    Action {
        key: "update_contact",
        kind: ActionKind::Update,
        noun: "Contact",
        label: "Update Contact",
        description: "Changes a contact's name, email or tags.",
        upstream_method: "PATCH",
        upstream_path: "/api/contacts/{contactId}",
        input_fields: &[CONTACT_ID, NAME, EMAIL, TAGS],
        sample_json: r#"{"id": "clx...", "phone": "+919876543210", "name": "Jane Smith", "email": "jane.smith@example.com", "tags": ["vip"], "updatedAt": "2026-03-25T09:12:00.000Z"}"#,
    },
    Action {
        key: "tag_contact",
        kind: ActionKind::Update,
        noun: "Contact",
        label: "Tag Contact",
        description: "Adds tags to a contact, removes them, or replaces them.",
        upstream_method: "POST",
        upstream_path: "/api/contacts/{contactId}/tags",
        input_fields: &[
            CONTACT_ID,
            field("tags", "Tags", FieldKind::Array, true, "[]", "The tags.").choices_from("tags"),
            InputField {
                key: "mode",
                label: "Mode",
                kind: FieldKind::Enum,
                required: false,
                default: "\"add\"",
                help: "add, remove or replace.",
                choices: &["add", "remove", "replace"],
                list: None,
            },
        ],
        sample_json: r#"{"id": "clx...", "tags": ["vip", "returning"]}"#,
    },
    Action {
        key: "resolve_conversation",
        kind: ActionKind::Update,
        noun: "Conversation",
        label: "Resolve Conversation",
        description: "Marks a conversation resolved.",
        upstream_method: "POST",
        upstream_path: "/api/conversations/{conversationId}/resolve",
        input_fields: &[
            field(
                "conversationId",
                "Conversation ID",
                FieldKind::String,
                true,
                "\"\"",
                "The conversation to resolve.",
            ),
            field(
                "note",
                "Note",
                FieldKind::Text,
                false,
                "\"\"",
                "An internal note.",
            ),
        ],
        sample_json: r#"{"conversationId": "clx...", "status": "resolved", "resolvedAt": "2026-03-24T11:05:00.000Z"}"#,
    },
    Action {
        key: "create_payment_link",
        kind: ActionKind::Create,
        noun: "Payment Link",
        label: "Create Payment Link",
        description: "Creates a payment link to send to a contact.",
        upstream_method: "POST",
        upstream_path: "/api/payment-links",
        input_fields: &[
            field(
                "amount",
                "Amount",
                FieldKind::Number,
                true,
                "0",
                "In the currency's main unit, e.g. 1499.50.",
            ),
            InputField {
                key: "currency",
                label: "Currency",
                kind: FieldKind::Enum,
                required: false,
                default: "\"INR\"",
                help: "ISO 4217 code.",
                choices: &["INR", "USD", "EUR", "GBP", "AED", "SGD"],
                list: None,
            },
            field(
                "description",
                "Description",
                FieldKind::String,
                false,
                "\"\"",
                "What the payment is for.",
            ),
            field(
                "contactId",
                "Contact ID",
                FieldKind::String,
                false,
                "\"\"",
                "The contact the link is for.",
            ),
        ],
        sample_json: r#"{"paymentLinkId": "plink_xxx", "url": "https://pay.kaanha.ai/plink_xxx", "amount": 1499.5, "currency": "INR", "status": "created"}"#,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_and_field_suits_every_platform() {
        let key_ok = |k: &str| {
            k.starts_with(|c: char| c.is_ascii_alphabetic())
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        for action in ACTIONS {
            assert!(key_ok(action.key), "{}", action.key);
            assert!((2..=64).contains(&action.label.len()));
            assert!(action.sample().is_object());
            for field in action.input_fields {
                assert!(key_ok(field.key), "{}", field.key);
                assert!(
                    serde_json::from_str::<Value>(field.default).is_ok(),
                    "{} default",
                    field.key
                );
                assert!(
                    field.kind != FieldKind::Enum
                        || field.choices.contains(&field.default.trim_matches('"')),
                    "{}",
                    field.key
                );
            }
            for param in action.path_params() {
                assert!(
                    action
                        .input_fields
                        .iter()
                        .any(|f| f.key == param && f.required),
                    "{param}"
                );
            }
        }
    }
}

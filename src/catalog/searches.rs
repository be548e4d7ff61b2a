//! Searches: finding a contact or a conversation, so a Zap, a scenario or a workflow can look
//! one up before acting on it (Zapier's searches and find-or-create, Make's search modules).
//! Forwarded like actions, as a `GET` with the inputs in the query string; the platform
//! answers a list, and each sample here is one item of it.

use super::{
    actions::{Action, ActionKind, field},
    fields::FieldKind,
};

pub static SEARCHES: &[Action] = &[
    Action {
        key: "find_contact",
        kind: ActionKind::Search,
        noun: "Contact",
        label: "Find Contact",
        description: "Finds contacts by email or phone.",
        upstream_method: "GET",
        upstream_path: "/api/contacts",
        input_fields: &[
            field(
                "email",
                "Email",
                FieldKind::String,
                false,
                "\"\"",
                "The contact's email address.",
            ),
            field(
                "phone",
                "Phone",
                FieldKind::String,
                false,
                "\"\"",
                "In international format, e.g. +919876543210.",
            ),
        ],
        sample_json: r#"{"id": "clx...", "phone": "+919876543210", "name": "Jane Smith", "email": "jane@example.com", "tags": ["vip"], "createdAt": "2026-03-24T10:30:00.000Z"}"#,
    },
    Action {
        key: "find_conversation",
        kind: ActionKind::Search,
        noun: "Conversation",
        label: "Find Conversation",
        description: "Finds a contact's conversations, open or resolved.",
        upstream_method: "GET",
        upstream_path: "/api/conversations",
        input_fields: &[
            field(
                "contactId",
                "Contact ID",
                FieldKind::String,
                false,
                "\"\"",
                "The contact whose conversations to find.",
            )
            .choices_from("contacts"),
            field(
                "status",
                "Status",
                FieldKind::String,
                false,
                "\"\"",
                "open or resolved.",
            ),
        ],
        sample_json: r#"{"id": "clx...", "contactId": "clx...", "status": "open", "channel": "whatsapp", "openedAt": "2026-03-24T10:29:58.000Z"}"#,
    },
];

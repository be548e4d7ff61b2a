//! The event catalog: the one list of event types in the code. Validation, discovery and sample
//! data all read it. The types and the first two samples are the user's document, verbatim.

pub mod actions;
pub mod custom;
mod event_types;
pub mod fields;
mod filters;
pub mod lists;
mod searches;

use actions::Action;
pub use event_types::EVENT_TYPES;
pub use filters::Filter;
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
    /// Sample `data`, from `samples/<name>.json`.
    pub(super) sample_json: &'static str,
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

/// Names the MCP server gives its own tools: the delivery tools, the generic call, and
/// `list_<key>` for each list. An action's key is its tool's name, so no action may take one.
const OWN_TOOL_NAMES: &[&str] = &[
    "api_call",
    "list_webhooks",
    "find_delivery",
    "webhook_logs",
    "retry_delivery",
    "send_test_event",
    "recover_failed",
];

pub fn is_own_tool_name(key: &str) -> bool {
    OWN_TOOL_NAMES.contains(&key)
        || key
            .strip_prefix("list_")
            .is_some_and(|list| lists::find(list).is_some())
}

/// Every action, searches included, then those of `KAANHA_CATALOG`: what discovery lists and
/// `runAction` runs.
pub fn all_actions() -> impl Iterator<Item = &'static Action> {
    actions::ACTIONS
        .iter()
        .chain(searches::SEARCHES)
        .chain(custom::custom().actions.iter())
}

/// Every event type: the built-in ones in the document's order, then those of
/// `KAANHA_CATALOG`.
pub fn event_types() -> impl Iterator<Item = &'static EventType> {
    EVENT_TYPES
        .iter()
        .chain(custom::custom().event_types.iter())
}

/// Adds the event types and actions of `KAANHA_CATALOG`, if set, to the built-in ones.
pub fn install(config: &crate::config::Config) -> anyhow::Result<()> {
    if let Some(path) = &config.catalog {
        custom::install(path).map_err(anyhow::Error::msg)?;
    }
    Ok(())
}

/// Where a type stands in [`event_types`]: the order lists of types are shown in.
pub fn position(name: &str) -> Option<usize> {
    event_types().position(|t| t.name == name)
}

/// An action or search by its key.
pub fn find_action(key: &str) -> Option<&'static Action> {
    all_actions().find(|a| a.key == key)
}

/// Looks an event type up by its wire name.
pub fn find(name: &str) -> Option<&'static EventType> {
    event_types().find(|t| t.name == name)
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
            "`{}` is not an event type; GET /api/integrations/describe lists them",
            name.chars().take(64).collect::<String>(),
        )),
    }
}

/// Event types a webhook can subscribe to.
pub fn subscribable() -> impl Iterator<Item = &'static EventType> {
    event_types().filter(|t| t.subscribable)
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

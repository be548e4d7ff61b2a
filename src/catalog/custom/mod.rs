//! Event types and actions an operator adds without a rebuild: `KAANHA_CATALOG=<file.json>`
//! (format in `examples/catalog.json` and `docs/operations.md`). Read and checked once at
//! start, before anything serves; a bad entry stops the start with a sentence naming it.
//!
//! The entries join the built-in ones for the life of the process, so validation, discovery,
//! samples, the console and the generated apps all see them the way they see the built-in ones.
//! Their text is kept for as long as the process runs (it is read once, and the catalog hands
//! out `'static` references like the built-in tables).

use std::{collections::HashSet, path::Path, sync::OnceLock};

use serde::Deserialize;

use super::{EventType, actions::Action};

mod actions;
mod event_types;

use actions::ActionEntry;
use event_types::EventTypeEntry;

/// What the file added: empty until [`install`] runs, and when no file is configured.
#[derive(Default)]
pub struct Custom {
    pub event_types: Vec<EventType>,
    pub actions: Vec<Action>,
    /// The file it came from, so installing the same file again is a no-op.
    source: String,
}

static CUSTOM: OnceLock<Custom> = OnceLock::new();

/// The added entries (none before [`install`]).
pub fn custom() -> &'static Custom {
    static NONE: OnceLock<Custom> = OnceLock::new();
    CUSTOM
        .get()
        .unwrap_or_else(|| NONE.get_or_init(Custom::default))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    #[serde(default)]
    event_types: Vec<EventTypeEntry>,
    #[serde(default)]
    actions: Vec<ActionEntry>,
}

/// Reads, checks and installs the file. Installing the same file twice is a no-op; a second,
/// different file is refused (the catalog is fixed for the life of the process).
pub fn install(path: &Path) -> Result<(), String> {
    let source = path.display().to_string();
    if let Some(installed) = CUSTOM.get() {
        return if installed.source == source {
            Ok(())
        } else {
            Err(format!(
                "KAANHA_CATALOG: {source}: a catalog ({}) is already loaded",
                installed.source
            ))
        };
    }
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("KAANHA_CATALOG: cannot read {source}: {err}"))?;
    let custom = parse(&text, &source).map_err(|err| format!("KAANHA_CATALOG: {source}: {err}"))?;
    let _ = CUSTOM.set(custom);
    Ok(())
}

fn parse(text: &str, source: &str) -> Result<Custom, String> {
    let file: File = serde_json::from_str(text).map_err(|err| format!("not valid: {err}"))?;
    let mut names: HashSet<String> = super::EVENT_TYPES
        .iter()
        .map(|t| t.name.to_owned())
        .collect();
    let mut event_types = Vec::new();
    for (i, entry) in file.event_types.into_iter().enumerate() {
        let at = format!("eventTypes[{i}] ({})", entry.name);
        let event = event_types::event_type(entry, &names).map_err(|err| format!("{at}: {err}"))?;
        names.insert(event.name.to_owned());
        event_types.push(event);
    }
    let mut keys: HashSet<String> = super::all_actions().map(|a| a.key.to_owned()).collect();
    let mut actions = Vec::new();
    for (i, entry) in file.actions.into_iter().enumerate() {
        let at = format!("actions[{i}] ({})", entry.key);
        let action = actions::action(entry, &keys).map_err(|err| format!("{at}: {err}"))?;
        keys.insert(action.key.to_owned());
        actions.push(action);
    }
    Ok(Custom {
        event_types,
        actions,
        source: source.to_owned(),
    })
}

fn is_key(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && key.len() <= 64
}

/// Text kept for the life of the process (see the module's comment).
fn keep(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn label_check(label: &str) -> Result<(), String> {
    if label.trim().is_empty() || label.chars().count() > 64 {
        return Err("label must be 1 to 64 characters (Zapier's limit)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn refused(file: Value) -> String {
        match parse(&file.to_string(), "test.json") {
            Err(err) => err,
            Ok(_) => panic!("accepted: {file}"),
        }
    }

    fn shipped() -> Value {
        serde_json::json!({
            "type": "order.shipped", "group": "Orders", "label": "Order Shipped",
            "description": "An order left the warehouse",
            "fields": [{"key": "order.id", "type": "string"}],
            "filters": [{"key": "order_id", "path": "order.id", "label": "Order"}],
            "sample": {"order": {"id": "ord_1"}},
        })
    }

    #[test]
    fn a_good_file_adds_its_entries() {
        let file = serde_json::json!({"eventTypes": [shipped()], "actions": [{
            "key": "add_note", "noun": "Note", "label": "Add Note", "description": "Adds a note",
            "method": "post", "path": "/api/v1/contacts/{contactId}/notes",
            "fields": [{"key": "contactId", "label": "Contact", "type": "string", "required": true}],
            "sample": {"id": "note_1"},
        }]});
        let custom = parse(&file.to_string(), "test.json").unwrap();
        assert_eq!(custom.event_types[0].name, "order.shipped");
        let filter = &custom.event_types[0].filters[0];
        assert_eq!(filter.field.key, "order_id");
        let data = serde_json::json!({"order": {"id": "ord_1"}});
        assert!(filter.matches(&data, "ord_1") && !filter.matches(&data, "ord_2"));
        assert_eq!(custom.event_types[0].sample()["order"]["id"], "ord_1");
        assert_eq!(custom.actions[0].upstream_method, "POST");
    }

    #[test]
    fn each_bad_entry_is_named() {
        let mut bad = shipped();
        bad["label"] = Value::from("x".repeat(65));
        assert!(
            refused(serde_json::json!({"eventTypes": [shipped(), bad]}))
                .starts_with("eventTypes[1] (order.shipped)")
        );
        let mut builtin = shipped();
        builtin["type"] = Value::from("message.received");
        assert!(refused(serde_json::json!({"eventTypes": [builtin]})).contains("already exists"));
        let mut missing = shipped();
        missing["fields"] = serde_json::json!([{"key": "order.total", "type": "number"}]);
        assert!(
            refused(serde_json::json!({"eventTypes": [missing]}))
                .contains("`order.total` is not in the sample")
        );
        let mut off_sample = shipped();
        off_sample["filters"][0]["path"] = Value::from("order.total");
        assert!(
            refused(serde_json::json!({"eventTypes": [off_sample]}))
                .contains("filter `order_id`: path `order.total` must name")
        );
        let mut twice = shipped();
        twice["filters"] = serde_json::json!([
            {"key": "order_id", "path": "order.id", "label": "Order"},
            {"key": "order_id", "path": "order.id", "label": "Order again"},
        ]);
        assert!(refused(serde_json::json!({"eventTypes": [twice]})).contains("given twice"));
        let action = serde_json::json!({"actions": [{
            "key": "add_note", "noun": "Note", "label": "Add Note", "description": "d",
            "method": "POST", "path": "/api/{contactId}", "sample": {},
        }]});
        assert!(refused(action).starts_with("actions[0] (add_note): path names `{contactId}`"));
        assert!(
            refused(serde_json::json!({"eventTypes": [], "extra": 1})).starts_with("not valid")
        );
    }
}

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
use serde_json::Value;

use super::{
    EventType,
    actions::{Action, ActionKind},
    fields::{FieldKind, InputField},
};

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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EventTypeEntry {
    #[serde(rename = "type")]
    name: String,
    group: String,
    label: String,
    description: String,
    /// The fields of `data`: each must be in the sample.
    #[serde(default)]
    fields: Vec<DataField>,
    sample: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataField {
    key: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ActionEntry {
    key: String,
    #[serde(default = "create")]
    kind: String,
    noun: String,
    label: String,
    description: String,
    method: String,
    path: String,
    #[serde(default)]
    fields: Vec<FieldEntry>,
    sample: Value,
}

fn create() -> String {
    "create".into()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FieldEntry {
    key: String,
    label: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    help: String,
    #[serde(default)]
    choices: Vec<String>,
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
        let event = event_type(entry, &names).map_err(|err| format!("{at}: {err}"))?;
        names.insert(event.name.to_owned());
        event_types.push(event);
    }
    let mut keys: HashSet<String> = super::all_actions().map(|a| a.key.to_owned()).collect();
    let mut actions = Vec::new();
    for (i, entry) in file.actions.into_iter().enumerate() {
        let at = format!("actions[{i}] ({})", entry.key);
        let action = action(entry, &keys).map_err(|err| format!("{at}: {err}"))?;
        keys.insert(action.key.to_owned());
        actions.push(action);
    }
    Ok(Custom {
        event_types,
        actions,
        source: source.to_owned(),
    })
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

fn event_type(entry: EventTypeEntry, taken: &HashSet<String>) -> Result<EventType, String> {
    let name_ok = entry.name.len() <= 64
        && entry.name.contains('.')
        && entry.name.split('.').all(|part| {
            part.starts_with(|c: char| c.is_ascii_lowercase())
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
    if !name_ok {
        return Err(
            "type must be lowercase words joined by dots, like `order.shipped` (at most 64 characters)".into(),
        );
    }
    if taken.contains(&entry.name) {
        return Err("this type already exists".into());
    }
    if entry.name.starts_with("webhook.") {
        return Err("`webhook.*` types are the gateway's own".into());
    }
    label_check(&entry.label)?;
    if entry.group.trim().is_empty() || entry.description.trim().is_empty() {
        return Err("group and description must not be empty".into());
    }
    if !entry.sample.is_object() {
        return Err("sample must be a JSON object (the event's `data`)".into());
    }
    for field in &entry.fields {
        let found = field
            .key
            .split('.')
            .try_fold(&entry.sample, |value, key| value.get(key));
        let Some(found) = found else {
            return Err(format!("field `{}` is not in the sample", field.key));
        };
        let matches = match field.kind.as_str() {
            "string" | "datetime" => found.is_string(),
            "integer" => found.is_i64() || found.is_u64(),
            "number" => found.is_number(),
            "boolean" => found.is_boolean(),
            "array" => found.is_array(),
            "object" => found.is_object(),
            other => {
                return Err(format!(
                    "field `{}` has an unknown type `{other}`",
                    field.key
                ));
            }
        };
        if !matches {
            return Err(format!(
                "field `{}` is a {} but the sample's value is not",
                field.key, field.kind
            ));
        }
    }
    Ok(EventType {
        name: keep(entry.name),
        label: keep(entry.label),
        description: keep(entry.description),
        group: keep(entry.group),
        subscribable: true,
        publishable: true,
        filters: &[],
        sample_json: keep(entry.sample.to_string()),
    })
}

fn field_kind(name: &str) -> Option<FieldKind> {
    Some(match name {
        "string" => FieldKind::String,
        "text" => FieldKind::Text,
        "integer" => FieldKind::Integer,
        "number" => FieldKind::Number,
        "boolean" => FieldKind::Boolean,
        "datetime" => FieldKind::Datetime,
        "enum" => FieldKind::Enum,
        "array" => FieldKind::Array,
        "json" => FieldKind::Json,
        _ => return None,
    })
}

fn is_key(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && key.len() <= 64
}

fn action(entry: ActionEntry, taken: &HashSet<String>) -> Result<Action, String> {
    if !is_key(&entry.key) || entry.key.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("key must be lowercase letters, digits and `_`, like `add_note`".into());
    }
    if taken.contains(&entry.key) {
        return Err("this action already exists".into());
    }
    let kind = match entry.kind.as_str() {
        "create" => ActionKind::Create,
        "update" => ActionKind::Update,
        "search" => ActionKind::Search,
        other => return Err(format!("kind `{other}` is not create, update or search")),
    };
    label_check(&entry.label)?;
    if entry.noun.trim().is_empty() || entry.description.trim().is_empty() {
        return Err("noun and description must not be empty".into());
    }
    let method = entry.method.to_ascii_uppercase();
    if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
        return Err(format!(
            "method `{}` is not GET, POST, PUT, PATCH or DELETE",
            entry.method
        ));
    }
    if kind == ActionKind::Search && method != "GET" {
        return Err("a search reads: its method must be GET".into());
    }
    if !entry.path.starts_with('/') || entry.path.contains("..") || entry.path.contains("://") {
        return Err("path must be a path on the platform's API, starting with `/`".into());
    }
    if !entry.sample.is_object() {
        return Err("sample must be a JSON object (what the platform answers)".into());
    }
    let mut fields = Vec::new();
    for field in entry.fields {
        if !is_key(&field.key) {
            return Err(format!(
                "field key `{}` must match ^[a-zA-Z][a-zA-Z0-9_]*$",
                field.key
            ));
        }
        label_check(&field.label).map_err(|err| format!("field `{}`: {err}", field.key))?;
        let kind = field_kind(&field.kind)
            .ok_or_else(|| format!("field `{}` has an unknown type `{}`", field.key, field.kind))?;
        if (kind == FieldKind::Enum) == field.choices.is_empty() {
            return Err(format!(
                "field `{}`: choices are given for an enum, and only for one",
                field.key
            ));
        }
        let default = match kind {
            FieldKind::Boolean => "false",
            FieldKind::Integer | FieldKind::Number => "0",
            FieldKind::Array => "[]",
            FieldKind::Json => "{}",
            _ => "\"\"",
        };
        let choices: Vec<&'static str> = field.choices.into_iter().map(keep).collect();
        fields.push(InputField {
            key: keep(field.key),
            label: keep(field.label),
            kind,
            required: field.required,
            default,
            help: keep(field.help),
            choices: Box::leak(choices.into_boxed_slice()),
            list: None,
        });
    }
    let action = Action {
        key: keep(entry.key),
        kind,
        noun: keep(entry.noun),
        label: keep(entry.label),
        description: keep(entry.description),
        upstream_method: keep(method),
        upstream_path: keep(entry.path),
        input_fields: Box::leak(fields.into_boxed_slice()),
        sample_json: keep(entry.sample.to_string()),
    };
    if let Some(missing) = action
        .path_params()
        .find(|name| !action.input_fields.iter().any(|f| f.key == *name))
    {
        return Err(format!(
            "path names `{{{missing}}}`, which is not one of its fields"
        ));
    }
    Ok(action)
}

#[cfg(test)]
mod tests {
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

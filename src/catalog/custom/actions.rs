//! An action from the file: a call on the platform's API, with its input fields.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::Value;

use super::{is_key, keep, label_check};
use crate::catalog::{
    actions::{Action, ActionKind},
    fields::{FieldKind, InputField},
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ActionEntry {
    pub(super) key: String,
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

pub(super) fn action(entry: ActionEntry, taken: &HashSet<String>) -> Result<Action, String> {
    if !is_key(&entry.key) || entry.key.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("key must be lowercase letters, digits and `_`, like `add_note`".into());
    }
    if taken.contains(&entry.key) {
        return Err("this action already exists".into());
    }
    if crate::catalog::is_own_tool_name(&entry.key) {
        return Err("this key is the name of one of the MCP server's own tools".into());
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

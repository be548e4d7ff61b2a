//! An event type from the file: its name, texts, `data` fields checked against its sample, and
//! the filters a subscription may narrow it by.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::Value;

use super::{is_key, keep, label_check};
use crate::catalog::{
    EventType,
    filters::{Filter, choice_filter, text_filter},
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct EventTypeEntry {
    #[serde(rename = "type")]
    pub(super) name: String,
    group: String,
    label: String,
    description: String,
    /// The fields of `data`: each must be in the sample.
    #[serde(default)]
    fields: Vec<DataField>,
    /// What a subscription may narrow it by: each path must be in the sample.
    #[serde(default)]
    filters: Vec<FilterEntry>,
    sample: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataField {
    key: String,
    #[serde(rename = "type")]
    kind: String,
}

/// A filter: only events whose `data` at `path` equals the value a subscription gives (or,
/// for a list, contains it) reach it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterEntry {
    key: String,
    path: String,
    label: String,
    #[serde(default)]
    help: String,
    /// When given, the platforms offer a dropdown of these values.
    #[serde(default)]
    choices: Vec<String>,
}

pub(super) fn event_type(
    entry: EventTypeEntry,
    taken: &HashSet<String>,
) -> Result<EventType, String> {
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
    let filters = filters(entry.filters, &entry.sample)?;
    Ok(EventType {
        name: keep(entry.name),
        label: keep(entry.label),
        description: keep(entry.description),
        group: keep(entry.group),
        subscribable: true,
        publishable: true,
        filters: Box::leak(filters.into_boxed_slice()),
        sample_json: keep(entry.sample.to_string()),
    })
}

fn filters(entries: Vec<FilterEntry>, sample: &Value) -> Result<Vec<Filter>, String> {
    let mut keys = HashSet::new();
    let mut filters = Vec::new();
    for entry in entries {
        if !is_key(&entry.key) {
            return Err(format!(
                "filter key `{}` must match ^[a-zA-Z][a-zA-Z0-9_]*$",
                entry.key
            ));
        }
        if !keys.insert(entry.key.clone()) {
            return Err(format!("filter `{}` is given twice", entry.key));
        }
        label_check(&entry.label).map_err(|err| format!("filter `{}`: {err}", entry.key))?;
        // A path not in the sample would filter out every event: surely a typo.
        let found = entry
            .path
            .split('.')
            .try_fold(sample, |value, key| value.get(key));
        if !matches!(
            found,
            Some(Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Array(_))
        ) {
            return Err(format!(
                "filter `{}`: path `{}` must name a text, number, boolean or list in the sample",
                entry.key, entry.path
            ));
        }
        let (key, path, label) = (keep(entry.key), keep(entry.path), keep(entry.label));
        let help = keep(entry.help);
        filters.push(if entry.choices.is_empty() {
            text_filter(key, path, label, help)
        } else {
            let choices: Vec<&'static str> = entry.choices.into_iter().map(keep).collect();
            choice_filter(
                key,
                path,
                label,
                help,
                Box::leak(choices.into_boxed_slice()),
            )
        });
    }
    Ok(filters)
}

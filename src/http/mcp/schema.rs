//! JSON Schemas for tools, made from the catalog: an action's input fields become its
//! `inputSchema`, and its sample answer its `outputSchema`. Output schemas describe what the
//! platform usually answers and never forbid more, so a richer answer still validates.

use serde_json::{Map, Value, json};

use crate::catalog::fields::{FieldKind, InputField};

/// Tool name of the list an input field takes its values from (`contacts` → `list_contacts`).
pub fn list_tool(list: &str) -> String {
    format!("list_{list}")
}

/// An object schema of these fields: types, `enum` from choices, defaults, the required ones,
/// and no others (the API refuses unknown inputs).
pub fn input_schema(fields: &[InputField]) -> Map<String, Value> {
    let mut properties = Map::new();
    for field in fields {
        properties.insert(field.key.to_owned(), Value::Object(field_schema(field)));
    }
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.key)
        .collect();
    object(properties, &required)
}

fn field_schema(field: &InputField) -> Map<String, Value> {
    let mut schema = match field.kind {
        FieldKind::String | FieldKind::Text => json!({"type": "string"}),
        FieldKind::Integer => json!({"type": "integer"}),
        FieldKind::Number => json!({"type": "number"}),
        FieldKind::Boolean => json!({"type": "boolean"}),
        FieldKind::Datetime => json!({"type": "string", "format": "date-time"}),
        FieldKind::Enum => json!({"type": "string", "enum": field.choices}),
        FieldKind::Array => json!({"type": "array", "items": {"type": "string"}}),
        FieldKind::Json => json!({}),
    };
    let mut description = format!("{}. {}", field.label, field.help);
    if let Some(list) = field.list {
        description.push_str(&format!(
            " Take the value from the `{}` tool (its items' `value`).",
            list_tool(list)
        ));
    }
    schema["description"] = Value::String(description);
    let default = field.default_value();
    if !InputField::is_blank(&default) {
        schema["default"] = default;
    }
    match schema {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// An object schema with these properties, of which `required` must be given, and no others.
pub fn object(properties: Map<String, Value>, required: &[&str]) -> Map<String, Value> {
    let mut schema = Map::new();
    schema.insert("type".into(), "object".into());
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), json!(required));
    }
    schema.insert("additionalProperties".into(), false.into());
    schema
}

/// The shape of `sample`: objects with their properties, arrays with their items' shape, one
/// type each (portable to every client). Objects may hold more: the sample shows, it does not
/// limit. A `null` the platform answers is left out of `structuredContent` (`without_nulls`),
/// so no property needs to allow it.
pub fn shape_of(sample: &Value) -> Value {
    match sample {
        Value::Object(map) => {
            let properties: Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), shape_of(v))).collect();
            json!({"type": "object", "properties": properties})
        }
        Value::Array(items) => match items.first() {
            Some(first) => json!({"type": "array", "items": shape_of(first)}),
            None => json!({"type": "array"}),
        },
        Value::String(_) => json!({"type": "string"}),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"type": "integer"}),
        Value::Number(_) => json!({"type": "number"}),
        Value::Null => json!({}),
    }
}

/// `value` without the object members that are `null`, at every depth.
pub fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// An output schema: always an object at the top, as MCP's `structuredContent` is.
pub fn output_object(properties: Map<String, Value>) -> Map<String, Value> {
    let mut schema = Map::new();
    schema.insert("type".into(), "object".into());
    schema.insert("properties".into(), Value::Object(properties));
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_becomes_an_open_shape_of_single_types() {
        let shape = shape_of(&json!({"id": "c1", "tags": ["vip"], "count": 2, "ok": true}));
        assert_eq!(shape["properties"]["id"]["type"], "string");
        assert_eq!(shape["properties"]["tags"]["items"]["type"], "string");
        assert_eq!(shape["properties"]["count"]["type"], "integer");
        assert!(shape.get("additionalProperties").is_none());
    }

    #[test]
    fn nulls_leave_structured_content_at_every_depth() {
        let value = json!({"id": "c1", "email": null, "tags": [{"name": "vip", "label": null}]});
        assert_eq!(
            without_nulls(value),
            json!({"id": "c1", "tags": [{"name": "vip"}]})
        );
    }
}

//! Input fields: what a trigger's filters and an action's inputs look like to a no-code
//! platform, and how a value sent for one is checked.

use serde_json::Value;

/// Field types, named as discovery shows them (`GET /api/integrations/describe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    String,
    Text,
    Integer,
    Number,
    Boolean,
    Datetime,
    Enum,
    /// A list of strings.
    Array,
    Json,
}

impl FieldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Text => "text",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Datetime => "datetime",
            Self::Enum => "enum",
            Self::Array => "array",
            Self::Json => "json",
        }
    }
}

#[derive(Debug)]
pub struct InputField {
    /// Matches `^[a-zA-Z][a-zA-Z0-9_]*$`, so every platform accepts it as a field name.
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    /// The default as a JSON literal (`""`, `true`, `"INR"`, `[]`); n8n needs one for every field.
    pub default: &'static str,
    pub help: &'static str,
    /// For `Enum`: the allowed values.
    pub choices: &'static [&'static str],
    /// The list whose items are its choices (`contacts`: a dropdown of the organization's
    /// contacts), fetched through `GET /api/integrations/lists/{key}`; any value is still
    /// accepted, so a mapped value works too.
    pub list: Option<&'static str>,
}

impl InputField {
    /// This field with its choices read from a list (see `catalog::lists`).
    pub const fn choices_from(mut self, list: &'static str) -> Self {
        self.list = Some(list);
        self
    }

    pub fn default_value(&self) -> Value {
        serde_json::from_str(self.default).unwrap_or(Value::Null)
    }

    /// Checks a value sent for this field; the error is a sentence for the person who sent it.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        let ok = match self.kind {
            FieldKind::String | FieldKind::Text => value.is_string(),
            FieldKind::Integer => value.is_i64() || value.is_u64(),
            FieldKind::Number => value.is_number(),
            FieldKind::Boolean => value.is_boolean(),
            FieldKind::Datetime => value
                .as_str()
                .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
            FieldKind::Enum => {
                return match value.as_str() {
                    Some(v) if self.choices.contains(&v) => Ok(()),
                    _ => Err(format!("must be one of: {}", self.choices.join(", "))),
                };
            }
            FieldKind::Array => value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string)),
            FieldKind::Json => true,
        };
        if ok {
            Ok(())
        } else {
            Err(match self.kind {
                FieldKind::Datetime => {
                    "must be an RFC 3339 time, e.g. 2026-03-24T10:30:00.000Z".into()
                }
                FieldKind::Array => "must be a list of strings".into(),
                kind => format!("must be of type {}", kind.as_str()),
            })
        }
    }

    /// Whether a value counts as "not given" (n8n and Make send empty defaults).
    pub fn is_blank(value: &Value) -> bool {
        match value {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        }
    }
}

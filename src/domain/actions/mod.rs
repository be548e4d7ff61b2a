//! What a Zap, a scenario or a workflow asks of the platform: actions and searches checked
//! against the catalog, dropdown lists, and the generic API call, each forwarded to the
//! platform's API (`upstream.rs`) with a short-lived token naming the organization and the key
//! that asked.

mod call;
mod upstream;

use serde_json::{Map, Value};

pub use call::{ApiCall, ApiCallRequest, CallAnswer, CallPrefixes};
pub use upstream::{Choice, Choices, ListPage, Upstream};

use crate::{
    catalog::{
        actions::{Action, ActionKind},
        fields::InputField,
    },
    domain::field_error::FieldError,
};

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("the platform could not be reached: {0}")]
    Unreachable(String),
    #[error("the platform answered {status}: {excerpt}")]
    Refused { status: u16, excerpt: String },
    #[error("the platform's answer is not JSON")]
    NotJson,
    #[error("the platform's answer is larger than the {0} bytes this gateway reads")]
    TooLarge(usize),
}

/// Checks `input` (a JSON object) against the action's fields, fills defaults, and reports
/// every bad field at once. Unknown fields are refused so a typo does not pass silently.
pub fn validate(action: &Action, input: &Value) -> Result<Map<String, Value>, Vec<FieldError>> {
    let Some(given) = input.as_object() else {
        return Err(vec![FieldError::new(
            "body",
            "must be a JSON object of the action's inputs",
        )]);
    };
    let mut errors = Vec::new();
    for key in given.keys() {
        if !action.input_fields.iter().any(|f| f.key == key) {
            let known: Vec<&str> = action.input_fields.iter().map(|f| f.key).collect();
            errors.push(FieldError::new(
                key.clone(),
                format!(
                    "is not an input of `{}`; its inputs are {}",
                    action.key,
                    known.join(", ")
                ),
            ));
        }
    }
    let mut checked = Map::new();
    for field in action.input_fields {
        match given.get(field.key).filter(|v| !InputField::is_blank(v)) {
            Some(value) => match field.check(value) {
                Ok(()) => {
                    checked.insert(field.key.to_owned(), value.clone());
                }
                Err(why) => errors.push(FieldError::new(field.key, why)),
            },
            None if field.required => errors.push(FieldError::new(field.key, "is required")),
            None => {
                let default = field.default_value();
                if !InputField::is_blank(&default) {
                    checked.insert(field.key.to_owned(), default);
                }
            }
        }
    }
    for param in action.path_params() {
        let value = checked.get(param).and_then(Value::as_str);
        if let Err(why) = value.map_or(Ok(()), check_path_segment)
            && !errors.iter().any(|e| e.field == param)
        {
            errors.push(FieldError::new(param, why));
        }
    }
    let path_params: Vec<&str> = action.path_params().collect();
    let criteria = checked
        .keys()
        .filter(|k| !path_params.contains(&k.as_str()));
    if action.kind == ActionKind::Search && errors.is_empty() && criteria.count() == 0 {
        let inputs: Vec<&str> = action.input_fields.iter().map(|f| f.key).collect();
        errors.push(FieldError::new(
            "body",
            format!("a search needs at least one of {}", inputs.join(", ")),
        ));
    }
    if errors.is_empty() {
        Ok(checked)
    } else {
        Err(errors)
    }
}

/// A value that becomes one segment of the upstream path: never `.` or `..` (which a URL
/// resolves to the parent path) and never a separator.
pub(super) fn check_path_segment(value: &str) -> Result<(), &'static str> {
    if value == "." || value == ".." {
        return Err("may not be `.` or `..`");
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._~:-".contains(&b))
    {
        return Err("may hold only letters, digits and . _ ~ : -");
    }
    Ok(())
}

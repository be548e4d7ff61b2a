//! The catalog as discovery shows it: a trigger per event type with its input and output
//! fields, and the actions with theirs.

use poem_openapi::Object;
use serde_json::{Value, json};

use super::{Route, Routes};
use crate::catalog::{
    EventType, OutputField,
    actions::Action,
    fields::{FieldKind, InputField},
    lists::ListSource,
};

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct FieldOut {
    pub(super) key: String,
    pub(super) label: String,
    /// `string`, `text`, `integer`, `number`, `boolean`, `datetime`, `enum`, `array` (of
    /// strings), `json` or `password`.
    #[oai(rename = "type")]
    pub(super) kind: String,
    pub(super) required: bool,
    /// Every field has one (n8n needs it).
    pub(super) default: Value,
    pub(super) help: String,
    /// For `enum`: the values allowed (empty for other types).
    pub(super) choices: Vec<Choice>,
    /// A dropdown: the key of one of `lists`, whose route gives the choices page by page
    /// (the user may still type or map any value).
    #[oai(skip_serializing_if_is_none)]
    pub(super) list: Option<String>,
}

#[derive(Debug, Clone, Object)]
pub(super) struct Choice {
    pub(super) value: String,
    pub(super) label: String,
}

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct OutputFieldOut {
    /// Dotted path in the delivered body, e.g. `data.contact.phone`.
    pub(super) key: String,
    pub(super) label: String,
    /// `string`, `number`, `integer`, `boolean`, `datetime` or `array`.
    #[oai(rename = "type")]
    pub(super) kind: String,
    /// The field platforms de-duplicate on.
    pub(super) primary: bool,
}

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct Trigger {
    /// Zapier-safe key, e.g. `message_received`; subscribe accepts it as well as `event`.
    pub(super) key: String,
    pub(super) event: String,
    pub(super) noun: String,
    pub(super) label: String,
    pub(super) description: String,
    pub(super) group: String,
    /// Optional filters, sent as `filters` when subscribing.
    pub(super) input_fields: Vec<FieldOut>,
    pub(super) output_fields: Vec<OutputFieldOut>,
    /// A delivered body, as an example.
    pub(super) sample: Value,
    /// Recent real deliveries of this type (an array), for a platform's test step.
    pub(super) samples: Route,
}

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct ActionOut {
    pub(super) key: String,
    /// `create`, `update` or `search`.
    pub(super) kind: String,
    pub(super) noun: String,
    pub(super) label: String,
    pub(super) description: String,
    pub(super) method: String,
    pub(super) path: String,
    pub(super) input_fields: Vec<FieldOut>,
    pub(super) output_fields: Vec<OutputFieldOut>,
    pub(super) sample: Value,
}

/// `contact.phone` → `Contact Phone`; `messageId` → `Message Id`.
pub(super) fn label_for(key: &str) -> String {
    let mut words = Vec::new();
    for part in key.split('.') {
        let mut word = String::new();
        for c in part.chars() {
            if c.is_uppercase() && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            if word.is_empty() {
                word.extend(c.to_uppercase());
            } else {
                word.push(c);
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words.join(" ")
}

pub(super) fn field_out(field: &InputField) -> FieldOut {
    let mut choices: Vec<Choice> = field
        .choices
        .iter()
        .map(|c| Choice {
            value: (*c).into(),
            label: (*c).into(),
        })
        .collect();
    if field.kind == FieldKind::Enum && !field.required && field.default == "\"\"" {
        // An optional filter's default, "any", must be one of the choices for n8n.
        choices.insert(
            0,
            Choice {
                value: String::new(),
                label: "Any".into(),
            },
        );
    }
    FieldOut {
        key: field.key.into(),
        label: field.label.into(),
        kind: field.kind.as_str().into(),
        required: field.required,
        default: field.default_value(),
        help: field.help.into(),
        choices,
        list: field.list.map(String::from),
    }
}

/// A list that fills dropdowns, and where to read it.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct ListOut {
    pub(super) key: String,
    pub(super) label: String,
    /// `GET` it with `q` (what the user typed), `cursor` (from the last page) and `limit`;
    /// the answer is `{"items": [{"value", "label"}], "nextCursor"}`.
    pub(super) route: Route,
}

pub(super) fn list_out(list: &ListSource, routes: &Routes) -> ListOut {
    let mut route = routes.get("listChoices");
    route.path = route.path.replace("{key}", list.key);
    ListOut {
        key: list.key.into(),
        label: list.label.into(),
        route,
    }
}

pub(super) fn outputs(
    prefix: &str,
    fields: Vec<OutputField>,
) -> impl Iterator<Item = OutputFieldOut> + '_ {
    fields.into_iter().map(move |f| OutputFieldOut {
        label: label_for(&f.key),
        key: format!("{prefix}{}", f.key),
        kind: f.kind.into(),
        primary: false,
    })
}

pub(super) fn noun(event: &EventType) -> String {
    label_for(event.name.split('.').next().unwrap_or(event.name))
}

pub(super) fn trigger(event: &EventType, org_example: &str, routes: &Routes) -> Trigger {
    let sample = json!({
        "id": format!("evt_sample_{}", event.key()),
        "event": event.name,
        "organizationId": org_example,
        "timestamp": "2026-03-24T10:30:00.000Z",
        "data": event.sample(),
    });
    let [id, event_type, organization, timestamp, _data] = crate::domain::publish::ENVELOPE_FIELDS;
    let envelope = [
        (id, "Event ID", "string", true),
        (event_type, "Event Type", "string", false),
        (organization, "Organization ID", "string", false),
        (timestamp, "Timestamp", "datetime", false),
    ];
    let mut output_fields: Vec<OutputFieldOut> = envelope
        .iter()
        .map(|(key, label, kind, primary)| OutputFieldOut {
            key: (*key).into(),
            label: (*label).into(),
            kind: (*kind).into(),
            primary: *primary,
        })
        .collect();
    output_fields.extend(outputs("data.", event.output_fields()));
    Trigger {
        key: event.key(),
        event: event.name.into(),
        noun: noun(event),
        label: event.label.into(),
        description: format!("Triggers when: {}.", event.description.to_lowercase()),
        group: event.group.into(),
        input_fields: event.filters.iter().map(|f| field_out(&f.field)).collect(),
        output_fields,
        sample,
        samples: {
            let mut samples = routes.get("triggerSamples");
            samples.path = samples.path.replace("{event}", event.name);
            samples
        },
    }
}

pub(super) fn action_out(action: &Action, routes: &Routes) -> ActionOut {
    let run = routes.get("runAction");
    ActionOut {
        key: action.key.into(),
        kind: action.kind.as_str().into(),
        noun: action.noun.into(),
        label: action.label.into(),
        description: action.description.into(),
        path: run.path.replace("{key}", action.key),
        method: run.method,
        input_fields: action.input_fields.iter().map(field_out).collect(),
        output_fields: outputs("", action.output_fields()).collect(),
        sample: action.sample(),
    }
}

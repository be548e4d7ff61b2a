//! A subscribe request as Zapier, Make and n8n send it, checked into a [`Subscription`].

use serde_json::{Map, Value};

use super::Subscription;
use crate::{
    catalog::{self, EventType},
    domain::{
        field_error::FieldError,
        webhooks::{check_url, validate_secret},
    },
    infra::targets::TargetPolicy,
};

/// A subscribe request as sent, before any check.
pub struct SubscriptionRequest {
    /// Every URL given: platforms name it `target_url`, `targetUrl`, `hookUrl` or `url`.
    pub target_urls: Vec<String>,
    /// The trigger's event (`message.received`) or key (`message_received`).
    pub event: Option<String>,
    /// Several events, instead of or beside `event`.
    pub events: Option<Vec<String>>,
    pub filters: Option<Value>,
    pub secret: Option<String>,
}

/// An event named by its wire name or its trigger key.
fn trigger_event(name: &str) -> Result<&'static EventType, String> {
    catalog::subscribable_type(name)
        .or_else(|why| catalog::subscribable().find(|e| e.key() == name).ok_or(why))
}

impl Subscription {
    /// A subscription with every field checked, its URL against `targets`; otherwise every
    /// invalid field at once.
    pub async fn parse(
        request: SubscriptionRequest,
        targets: &TargetPolicy,
    ) -> Result<Self, Vec<FieldError>> {
        let input = request;
        let mut errors = Vec::new();
        let target_url = match input.target_urls.as_slice() {
            [] => {
                errors.push(FieldError::new(
                    "target_url",
                    "is required (or targetUrl, hookUrl, url)",
                ));
                None
            }
            [first, rest @ ..] if rest.iter().all(|u| u == first) => {
                check_url(targets, "target_url", first)
                    .await
                    .map_err(|e| errors.push(e))
                    .ok()
            }
            _ => {
                errors.push(FieldError::new(
                    "target_url",
                    "was given twice with different values",
                ));
                None
            }
        };
        let names: Vec<String> = match (&input.event, &input.events) {
            (Some(one), None) => vec![one.clone()],
            (None, Some(many)) => many.clone(),
            (Some(one), Some(many)) => std::iter::once(one.clone())
                .chain(many.iter().cloned())
                .collect(),
            (None, None) => Vec::new(),
        };
        if names.is_empty() {
            errors.push(FieldError::new("event", "is required (or events)"));
        }
        let max = crate::domain::webhooks::MAX_EVENTS;
        if let Err(err) = FieldError::at_most("events", &names, max) {
            return Err(vec![err]);
        }
        let mut events: Vec<&'static EventType> = Vec::new();
        for (i, name) in names.iter().enumerate() {
            match trigger_event(name) {
                Ok(event) => events.push(event),
                Err(why) => errors.push(FieldError::new(
                    if input.event.is_some() && i == 0 {
                        "event".to_owned()
                    } else {
                        format!("events[{i}]")
                    },
                    why,
                )),
            }
        }
        events.sort_by_key(|e| catalog::position(e.name));
        events.dedup_by_key(|e| e.name);
        let filters = parse_filters(input.filters.as_ref(), &events, &mut errors);
        let secret = match input
            .secret
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(validate_secret)
        {
            Some(Ok(secret)) => Some(secret),
            Some(Err(e)) => {
                errors.push(e);
                None
            }
            None => None,
        };
        match target_url {
            Some(target_url) if errors.is_empty() => Ok(Self {
                target_url,
                events: events.iter().map(|e| e.name).collect(),
                filters,
                secret,
            }),
            _ => Err(errors),
        }
    }
}

/// A trigger's filters as a platform's test step sends them (`{"message_type": "text"}`),
/// checked as a subscription's are.
pub fn trigger_filters(
    event: &'static EventType,
    given: &Value,
) -> Result<Option<Value>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let kept = parse_filters(Some(given), &[event], &mut errors);
    if errors.is_empty() {
        Ok(kept)
    } else {
        Err(errors)
    }
}

/// Keeps non-blank string filters that one of the chosen events defines.
fn parse_filters(
    given: Option<&Value>,
    events: &[&EventType],
    errors: &mut Vec<FieldError>,
) -> Option<Value> {
    let given = match given {
        None | Some(Value::Null) => return None,
        Some(Value::Object(map)) => map,
        Some(_) => {
            errors.push(FieldError::new(
                "filters",
                "must be an object of the trigger's input fields",
            ));
            return None;
        }
    };
    let mut kept = Map::new();
    for (key, value) in given {
        let field = format!("filters.{key}");
        let Some(filter) = events
            .iter()
            .flat_map(|e| e.filters)
            .find(|f| f.field.key == key)
        else {
            errors.push(FieldError::new(
                field,
                "is not a filter of the events subscribed to",
            ));
            continue;
        };
        match value {
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            Value::String(_) => match filter.field.check(value) {
                Ok(()) => {
                    kept.insert(key.clone(), value.clone());
                }
                Err(why) => errors.push(FieldError::new(field, why)),
            },
            _ => errors.push(FieldError::new(field, "must be a string")),
        }
    }
    (!kept.is_empty()).then_some(Value::Object(kept))
}

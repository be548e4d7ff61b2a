//! What a client may set on a webhook, checked field by field: a request yields a
//! [`NewWebhook`] or [`WebhookChanges`] only when every field is valid, and otherwise every
//! invalid field at once, so a form can mark them all.

use super::{WebhookSource, WebhookStatus};
use crate::{
    catalog,
    domain::{field_error::FieldError, platform::Platform},
    infra::targets::TargetPolicy,
};

const MAX_NAME_CHARS: usize = 100;
const SECRET_CHARS: std::ops::RangeInclusive<usize> = 8..=256;
/// More names than the catalog has types is a mistake (or an attack on the parser's time).
pub const MAX_EVENTS: usize = 64;

/// A webhook as a client asks for it, before any check.
pub struct WebhookRequest {
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub secret: Option<String>,
    /// `None`: active.
    pub status: Option<WebhookStatus>,
    /// Deliveries per second; `None`: no limit.
    pub rate_limit: Option<i64>,
    /// One delivery at a time, in publish order; `None`: not ordered.
    pub ordered: Option<bool>,
}

/// Changes as a client asks for them; `None` leaves a field alone, `secret: Some(None)`
/// removes the secret.
#[derive(Default)]
pub struct WebhookPatchRequest {
    pub name: Option<String>,
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub secret: Option<Option<String>>,
    pub status: Option<WebhookStatus>,
    /// `Some(None)` removes the limit.
    pub rate_limit: Option<Option<i64>>,
    pub ordered: Option<bool>,
}

/// A webhook whose fields have all been checked: made only by [`NewWebhook::parse`] (from a
/// client) or by a platform's subscription.
pub struct NewWebhook {
    pub(in crate::domain) name: String,
    pub(in crate::domain) url: String,
    pub(in crate::domain) events: Vec<&'static str>,
    pub(in crate::domain) secret: Option<String>,
    pub(in crate::domain) status: WebhookStatus,
    pub(in crate::domain) source: WebhookSource,
    /// Trigger filters (`{"message_type": "text"}`), already checked against the catalog.
    pub(in crate::domain) filters: Option<serde_json::Value>,
    pub(in crate::domain) rate_limit: Option<i32>,
    pub(in crate::domain) ordered: bool,
}

/// Checked changes, made only by [`WebhookChanges::parse`].
#[derive(Default)]
pub struct WebhookChanges {
    pub(in crate::domain) name: Option<String>,
    pub(in crate::domain) url: Option<String>,
    pub(in crate::domain) events: Option<Vec<&'static str>>,
    pub(in crate::domain) secret: Option<Option<String>>,
    pub(in crate::domain) status: Option<WebhookStatus>,
    pub(in crate::domain) rate_limit: Option<Option<i32>>,
    pub(in crate::domain) ordered: Option<bool>,
    /// When the secret is replaced, how long the old one keeps signing too.
    pub(in crate::domain) secret_overlap: std::time::Duration,
}

impl NewWebhook {
    /// A webhook made through the API (the dashboard), its URL checked against `targets`.
    pub async fn parse(
        request: WebhookRequest,
        targets: &TargetPolicy,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = validate_name(&request.name)
            .map_err(|e| errors.push(e))
            .ok();
        let url = check_url(targets, "url", &request.url)
            .await
            .map_err(|e| errors.push(e))
            .ok();
        let events = validate_events(&request.events)
            .map_err(|e| errors.extend(e))
            .ok();
        let secret = match request.secret.as_deref().map(validate_secret).transpose() {
            Ok(secret) => secret,
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let rate_limit = request
            .rate_limit
            .map(validate_rate_limit)
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        match (name, url, events) {
            (Some(name), Some(url), Some(events)) if errors.is_empty() => Ok(Self {
                name,
                url,
                events,
                secret,
                status: request.status.unwrap_or(WebhookStatus::Active),
                source: WebhookSource::Api,
                filters: None,
                rate_limit,
                ordered: request.ordered.unwrap_or(false),
            }),
            _ => Err(errors),
        }
    }

    /// A platform's REST-hook subscription, whose fields `Subscription::parse` checked.
    pub(in crate::domain) fn subscription(
        platform: Platform,
        name: String,
        url: String,
        events: Vec<&'static str>,
        secret: Option<String>,
        filters: Option<serde_json::Value>,
    ) -> Self {
        Self {
            name,
            url,
            events,
            secret,
            status: WebhookStatus::Active,
            source: WebhookSource::Platform(platform),
            filters,
            rate_limit: None,
            ordered: false,
        }
    }

    /// Whether saving it sends a `webhook.test` event: only an active webhook made through the
    /// API (a no-code platform's hook URL would run the user's workflow on it).
    pub fn gets_test_event(&self) -> bool {
        self.status == WebhookStatus::Active && self.source == WebhookSource::Api
    }
}

impl WebhookChanges {
    /// Changes with every given field checked; at least one field must be given. A replaced
    /// secret keeps signing for `secret_overlap` beside the new one.
    pub async fn parse(
        request: WebhookPatchRequest,
        targets: &TargetPolicy,
        secret_overlap: std::time::Duration,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut changes = Self {
            status: request.status,
            ordered: request.ordered,
            secret_overlap,
            ..Self::default()
        };
        if let Some(name) = &request.name {
            changes.name = validate_name(name).map_err(|e| errors.push(e)).ok();
        }
        if let Some(url) = &request.url {
            changes.url = check_url(targets, "url", url)
                .await
                .map_err(|e| errors.push(e))
                .ok();
        }
        if let Some(events) = &request.events {
            changes.events = validate_events(events).map_err(|e| errors.extend(e)).ok();
        }
        match &request.secret {
            None => {}
            Some(None) => changes.secret = Some(None),
            Some(Some(secret)) => {
                changes.secret = validate_secret(secret)
                    .map(Some)
                    .map_err(|e| errors.push(e))
                    .ok();
            }
        }
        match request.rate_limit {
            None => {}
            Some(None) => changes.rate_limit = Some(None),
            Some(Some(limit)) => {
                changes.rate_limit = validate_rate_limit(limit)
                    .map(Some)
                    .map_err(|e| errors.push(e))
                    .ok();
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let nothing = changes.name.is_none()
            && changes.url.is_none()
            && changes.events.is_none()
            && changes.secret.is_none()
            && changes.status.is_none()
            && changes.rate_limit.is_none()
            && changes.ordered.is_none();
        if nothing {
            return Err(vec![FieldError::new(
                "body",
                "name at least one of name, url, events, secret, status, rateLimit, ordered",
            )]);
        }
        Ok(changes)
    }

    /// Whether the webhook is to be disabled or enabled (which publishes an event about it).
    pub fn changes_status(&self) -> bool {
        self.status.is_some()
    }
}

/// A target URL the outbound policy accepts, as it will be called.
pub(in crate::domain) async fn check_url(
    targets: &TargetPolicy,
    field: &str,
    url: &str,
) -> Result<String, FieldError> {
    targets
        .check(url)
        .await
        .map(String::from)
        .map_err(|why| FieldError::new(field, why))
}

/// Deliveries per second a receiver may be sent, at most.
pub const RATE_LIMITS: std::ops::RangeInclusive<i64> = 1..=10_000;

fn validate_rate_limit(limit: i64) -> Result<i32, FieldError> {
    if RATE_LIMITS.contains(&limit) {
        Ok(limit as i32)
    } else {
        Err(FieldError::new(
            "rateLimit",
            format!(
                "must be between {} and {} deliveries per second",
                RATE_LIMITS.start(),
                RATE_LIMITS.end()
            ),
        ))
    }
}

pub fn validate_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Known, subscribable event types, de-duplicated, in catalog order.
pub(in crate::domain) fn validate_events<S: AsRef<str>>(
    events: &[S],
) -> Result<Vec<&'static str>, Vec<FieldError>> {
    if events.is_empty() {
        return Err(vec![FieldError::new(
            "events",
            "must name at least one event type",
        )]);
    }
    FieldError::at_most("events", events, MAX_EVENTS).map_err(|err| vec![err])?;
    let mut errors = Vec::new();
    let mut chosen = Vec::new();
    for (i, name) in events.iter().enumerate() {
        match catalog::subscribable_type(name.as_ref()) {
            Ok(event) => chosen.push(event.name),
            Err(why) => errors.push(FieldError::new(format!("events[{i}]"), why)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    chosen.sort_by_key(|name| catalog::position(name));
    chosen.dedup();
    Ok(chosen)
}

pub(in crate::domain) fn validate_secret(secret: &str) -> Result<String, FieldError> {
    let chars = secret.chars().count();
    if !SECRET_CHARS.contains(&chars) {
        return Err(FieldError::new(
            "secret",
            format!(
                "must be {} to {} characters",
                SECRET_CHARS.start(),
                SECRET_CHARS.end()
            ),
        ));
    }
    if crate::infra::cipher::looks_sealed(secret) {
        return Err(FieldError::new(
            "secret",
            "must not start with `enc:v1:`, which marks encrypted secrets",
        ));
    }
    if secret.chars().any(char::is_control) {
        return Err(FieldError::new(
            "secret",
            "must not contain control characters",
        ));
    }
    Ok(secret.to_owned())
}

//! An event as the platform publishes it, checked into a [`NewEvent`].

use chrono::{DateTime, Utc};
use serde_json::Value;

use uuid::Uuid;

use crate::{
    catalog,
    domain::{field_error::FieldError, org::OrgId},
    infra::time,
};

/// An event as sent to `POST /api/events`, before any check.
pub struct EventRequest {
    pub event: String,
    pub data: Value,
    pub id: Option<String>,
    pub timestamp: Option<String>,
    pub organization_id: Option<String>,
}

/// A checked event, ready to store: made only by [`NewEvent::parse`], or by the gateway for
/// its own events ([`NewEvent::about_webhook`]).
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The producer's id (for idempotent retries), or `None` to have one made.
    pub(super) id: Option<String>,
    pub(super) event_type: &'static str,
    pub(super) timestamp: DateTime<Utc>,
    pub(super) data: Value,
    /// A webhook that must not get it: the one a `webhook.enabled` event is about.
    pub(super) except_webhook: Option<Uuid>,
}

impl NewEvent {
    /// Checks every field of a published event for organization `org` (whose id a body may
    /// repeat, but not contradict); `prefix` names its place in a batch (`events[3].`).
    pub fn parse(
        request: EventRequest,
        org: &OrgId,
        max_data_bytes: usize,
        prefix: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let field = |name: &str| format!("{prefix}{name}");
        let mut errors = Vec::new();
        let event_type = catalog::publishable_type(&request.event)
            .map(|event| event.name)
            .map_err(|why| errors.push(FieldError::new(field("event"), why)))
            .ok();
        if !request.data.is_object() {
            errors.push(FieldError::new(field("data"), "must be a JSON object"));
        } else {
            let size = serde_json::to_vec(&request.data).map_or(usize::MAX, |v| v.len());
            if size > max_data_bytes {
                errors.push(FieldError::new(
                    field("data"),
                    format!("is {size} bytes; the limit is {} bytes", max_data_bytes),
                ));
            }
        }
        if let Some(id) = &request.id
            && (id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()))
        {
            errors.push(FieldError::new(
                field("id"),
                "must be 1 to 128 visible ASCII characters",
            ));
        }
        let timestamp = match request
            .timestamp
            .as_deref()
            .map(DateTime::parse_from_rfc3339)
        {
            None => Some(time::now()),
            Some(Ok(at)) => Some(chrono::SubsecRound::trunc_subsecs(
                at.with_timezone(&Utc),
                3,
            )),
            Some(Err(_)) => {
                errors.push(FieldError::new(
                    field("timestamp"),
                    "must be an RFC 3339 time, e.g. 2026-03-24T10:30:00.000Z",
                ));
                None
            }
        };
        if let Some(claimed) = &request.organization_id
            && claimed != org.as_str()
        {
            errors.push(FieldError::new(
                field("organizationId"),
                "does not match the organization of the credential",
            ));
        }
        match (event_type, timestamp) {
            (Some(event_type), Some(timestamp)) if errors.is_empty() => Ok(Self {
                id: request.id,
                event_type,
                timestamp,
                data: request.data,
                except_webhook: None,
            }),
            _ => Err(errors),
        }
    }

    /// One of the gateway's own events about a webhook (`webhook.disabled`, ...), delivered
    /// to the organization's other webhooks subscribed to it, never to that one.
    pub(in crate::domain) fn about_webhook(
        event_type: &'static str,
        data: Value,
        webhook_id: Uuid,
    ) -> Self {
        Self {
            id: None,
            event_type,
            timestamp: time::now(),
            data,
            except_webhook: Some(webhook_id),
        }
    }
}

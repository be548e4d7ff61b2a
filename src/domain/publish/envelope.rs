//! The body every delivery of an event sends, byte for byte: the document's envelope plus `id`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::{domain::org::OrgId, infra::time};

/// The fields of every delivery's body, in the order they are sent: the document's, plus `id`.
/// Discovery reports this list; a test holds it to what `envelope` writes.
pub const ENVELOPE_FIELDS: [&str; 5] = ["id", "event", "organizationId", "timestamp", "data"];

/// The body every delivery of an event sends, in the document's field order, plus `id`.
#[derive(Serialize)]
struct Envelope<'a> {
    id: &'a str,
    event: &'a str,
    #[serde(rename = "organizationId")]
    organization_id: &'a str,
    timestamp: String,
    data: &'a Value,
}

/// The exact bytes sent (and signed) for every delivery of this event.
pub fn envelope(
    id: &str,
    event_type: &str,
    org: &OrgId,
    at: DateTime<Utc>,
    data: &Value,
) -> String {
    serde_json::to_string(&Envelope {
        id,
        event: event_type,
        organization_id: org.as_str(),
        timestamp: time::format(at),
        data,
    })
    .expect("JSON values always serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_sends_exactly_the_listed_fields_in_order() {
        let org = OrgId::parse("org_a").unwrap();
        let body = envelope("e1", "message.received", &org, time::now(), &Value::Null);
        let sent: serde_json::Map<String, Value> = serde_json::from_str(&body).unwrap();
        assert!(sent.keys().map(String::as_str).eq(ENVELOPE_FIELDS));
    }
}

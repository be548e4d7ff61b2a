//! Times in API objects, written as every response and delivery carries them
//! ([`crate::infra::time::format`]).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde_json::Value;

use crate::infra::time::format;

/// A timestamp in API objects, serialized with [`format`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub DateTime<Utc>);

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Self {
        Self(at)
    }
}

impl Timestamp {
    /// A time stored as Unix milliseconds.
    pub fn from_millis(millis: i64) -> Self {
        Self(crate::infra::time::from_millis(millis))
    }
}

impl Type for Timestamp {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string_date-time".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "date-time")))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ToJSON for Timestamp {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(format(self.0)))
    }
}

impl ParseFromJSON for Timestamp {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(text)) => DateTime::parse_from_rfc3339(&text)
                .map(|at| Self(at.with_timezone(&Utc)))
                .map_err(ParseError::custom),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

/// Request bodies read with serde ([`crate::http::body::JsonBody`]): an RFC 3339 time, e.g.
/// `2026-11-30T12:00:00Z`.
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|at| Self(at.with_timezone(&Utc)))
            .map_err(|_| {
                serde::de::Error::custom(
                    "must be an RFC 3339 time with its offset, e.g. 2026-11-30T12:00:00Z",
                )
            })
    }
}

/// Query parameters (`since`, `until`): an RFC 3339 time.
impl ParseFromParameter for Timestamp {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        DateTime::parse_from_rfc3339(value)
            .map(|at| Self(at.with_timezone(&Utc)))
            .map_err(|_| {
                ParseError::custom(
                    "must be an RFC 3339 time with its offset, e.g. 2026-11-30T12:00:00Z",
                )
            })
    }
}

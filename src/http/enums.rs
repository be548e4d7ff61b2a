//! The domain's named enums as OpenAPI string enums. The domain knows nothing of poem-openapi;
//! here each gets the same schema a derive would give it (a named component listing `ALL`).

use crate::domain::{
    delivery_status::DeliveryStatus,
    named::Named,
    platform::Platform,
    webhooks::{WebhookSource, WebhookStatus},
};

/// `openapi_enum!(Type, "description")` implements poem-openapi's traits for a [`Named`] enum.
macro_rules! openapi_enum {
    ($ty:ty, $name:literal, $description:expr) => {
        impl poem_openapi::types::Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
                poem_openapi::registry::MetaSchemaRef::Reference($name.to_owned())
            }

            fn register(registry: &mut poem_openapi::registry::Registry) {
                registry.create_schema::<Self, _>($name.to_owned(), |_| {
                    poem_openapi::registry::MetaSchema {
                        description: $description,
                        enum_items: <$ty as Named>::ALL
                            .iter()
                            .map(|v| serde_json::Value::from(v.as_str()))
                            .collect(),
                        ..poem_openapi::registry::MetaSchema::new("string")
                    }
                });
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(std::iter::once(self))
            }
        }

        impl poem_openapi::types::ParseFromJSON for $ty {
            fn parse_from_json(
                value: Option<serde_json::Value>,
            ) -> poem_openapi::types::ParseResult<Self> {
                let value = value.unwrap_or_default();
                value
                    .as_str()
                    .and_then(<$ty as Named>::parse)
                    .ok_or_else(|| poem_openapi::types::ParseError::expected_type(value))
            }
        }

        impl poem_openapi::types::ParseFromParameter for $ty {
            fn parse_from_parameter(value: &str) -> poem_openapi::types::ParseResult<Self> {
                <$ty as Named>::parse(value).ok_or_else(|| {
                    poem_openapi::types::ParseError::custom("Expect a valid enumeration value.")
                })
            }
        }

        /// Request bodies are read with serde (see `http::body`), naming the allowed values.
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                <$ty as Named>::parse(&name).ok_or_else(|| {
                    let allowed: Vec<&str> =
                        <$ty as Named>::ALL.iter().map(|v| v.as_str()).collect();
                    serde::de::Error::unknown_variant(&name, Box::leak(allowed.into_boxed_slice()))
                })
            }
        }

        impl poem_openapi::types::ToJSON for $ty {
            fn to_json(&self) -> Option<serde_json::Value> {
                Some(self.as_str().into())
            }
        }
    };
}

openapi_enum!(
    DeliveryStatus,
    "DeliveryStatus",
    Some("A delivery's state: `pending` (waiting for its next attempt), `delivered` or `failed`.")
);
openapi_enum!(Platform, "Platform", None);
openapi_enum!(
    WebhookSource,
    "WebhookSource",
    Some("Who created a webhook: the API (dashboard) or a no-code platform's REST-hook subscribe.")
);
openapi_enum!(WebhookStatus, "WebhookStatus", None);

//! `JsonBody<T>`: a JSON request body parsed with serde, so that every error names the field it
//! is about (`events[2]`, `url`) — poem-openapi's own `Json` does not — and read with the
//! configured size limit even when the client streams it without a `Content-Length`.
//!
//! The body is read only when the handler asks ([`JsonBody::read`]), after it has checked the
//! credential's scope: a credential without it is refused at once, before a byte of the body,
//! and can hold no connection by trickling one in. The whole read must end within
//! `KAANHA_BODY_READ_TIMEOUT`, however steadily the bytes arrive.

use std::{marker::PhantomData, sync::Arc, time::Duration};

use poem::{Body, Request, RequestBody};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions,
    registry::{MetaMediaType, MetaRequest, Registry},
    types::Type,
};
use serde::de::DeserializeOwned;

use crate::{
    config::Config,
    http::{
        error::{ApiError, FieldError},
        state::AppState,
    },
};

/// A JSON body not read yet: [`JsonBody::read`] reads and parses it.
pub struct JsonBody<T> {
    body: Body,
    limit: usize,
    deadline: Duration,
    _type: PhantomData<T>,
}

impl<T: DeserializeOwned> JsonBody<T> {
    /// Reads the body, within the size limit and the read deadline, and parses it.
    pub async fn read(self) -> Result<T, ApiError> {
        parse(&read_bytes(self.body, self.limit, self.deadline).await?)
    }
}

/// A whole body, refused past `limit` bytes (413) or when it has not all come by `deadline`
/// (408).
pub async fn read_bytes(
    body: Body,
    limit: usize,
    deadline: Duration,
) -> Result<hyper::body::Bytes, ApiError> {
    tokio::time::timeout(deadline, body.into_bytes_limit(limit))
        .await
        .map_err(|_| ApiError::request_timeout(deadline))?
        .map_err(|err| match err {
            poem::error::ReadBodyError::PayloadTooLarge => ApiError::payload_too_large(limit),
            other => ApiError::bad_request(format!("The request body could not be read: {other}.")),
        })
}

/// How large a body of this type may be; most use `KAANHA_MAX_BODY_BYTES`.
pub trait BodyLimit {
    fn body_limit(config: &Config) -> usize {
        config.max_body_bytes
    }
}

impl<'a, T: Type + DeserializeOwned + BodyLimit> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: "application/json",
                schema: T::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        check_content_type(request)?;
        let config = request.data::<Arc<AppState>>().map(|state| &state.config);
        Ok(Self {
            body: body
                .take()
                .map_err(|_| ApiError::bad_request("The request body was already read."))?,
            limit: config.map_or(256 * 1024, T::body_limit),
            deadline: config.map_or(Duration::from_secs(30), |c| c.limits.body_read_timeout),
            _type: PhantomData,
        })
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5
            && essence[..essence.len() - 5].contains('/')
            && essence.to_ascii_lowercase().ends_with("+json"))
}

fn check_content_type(request: &Request) -> Result<(), ApiError> {
    match request.content_type() {
        Some(content_type) if is_json(content_type) => {}
        Some(content_type) => {
            return Err(ApiError::unsupported_media_type(format!(
                "The body must be `application/json`, not `{content_type}`."
            )));
        }
        None => {
            return Err(ApiError::unsupported_media_type(
                "Send the body with `Content-Type: application/json`.",
            ));
        }
    }
    Ok(())
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("The request needs a JSON body."));
    }
    if let Some(field) = nul_in_strings(bytes) {
        // PostgreSQL stores no NUL in text, and no one means to send one: refused here, on
        // every database alike, rather than failing half-way down.
        return Err(ApiError::validation(vec![FieldError::new(
            field,
            "must not contain the NUL character (\\u0000)",
        )]));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        // A shape error in a body that is not even JSON is reported as the syntax error it is.
        match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Err(syntax) => ApiError::bad_request(format!(
                "The body is not valid JSON: {}.",
                without_position(&syntax)
            )),
            Ok(_) => describe_error(err),
        }
    })?;
    deserializer.end().map_err(|err| {
        ApiError::bad_request(format!(
            "The body is not valid JSON: {}.",
            without_position(&err)
        ))
    })?;
    Ok(value)
}

/// Where a string (a key or a value) of the JSON body holds a NUL character: its path, as
/// `data.note` or `events[2]`. Only a body that spells one (`\u0000`) is parsed for it.
fn nul_in_strings(bytes: &[u8]) -> Option<String> {
    if !bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    find_nul(&value, "")
}

fn find_nul(value: &serde_json::Value, path: &str) -> Option<String> {
    let here = || {
        if path.is_empty() {
            "body".to_owned()
        } else {
            path.to_owned()
        }
    };
    match value {
        serde_json::Value::String(text) => text.contains('\0').then(here),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_nul(item, &format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let inner = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                return Some(here());
            }
            find_nul(item, &inner)
        }),
        _ => None,
    }
}

/// serde_json's message without its " at line 1 column 40" suffix.
fn without_position(err: &serde_json::Error) -> String {
    let message = err.to_string();
    match message.rsplit_once(" at line ") {
        Some((head, _)) => head.to_owned(),
        None => message,
    }
}

/// Syntax errors are 400; a body that is JSON but not the expected shape is 422 naming the field.
fn describe_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let message = without_position(&inner);
    if !inner.is_data() {
        return ApiError::bad_request(format!("The body is not valid JSON: {message}."));
    }
    // serde reports missing/unknown/duplicate fields at the parent; name the field itself.
    let named = ["missing field", "unknown field", "duplicate field"]
        .iter()
        .any(|p| message.starts_with(p))
        .then(|| message.split('`').nth(1))
        .flatten();
    let field = match (named, path.as_str()) {
        (Some(name), ".") => name.to_owned(),
        (Some(name), path) if path == name || path.ends_with(&format!(".{name}")) => {
            path.to_owned()
        }
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, ".") => "body".to_owned(),
        (None, path) => path.to_owned(),
    };
    ApiError::validation(vec![FieldError::new(field, message)])
}

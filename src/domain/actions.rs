//! Running an action: check the input against the catalog, then forward it to the platform's
//! API with a short-lived token naming the organization and the key that asked.

use std::time::Duration;

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Map, Value, json};
use url::Url;

use crate::{
    catalog::{actions::Action, fields::InputField},
    config::{Config, UPSTREAM_AUDIENCE},
    domain::{field_error::FieldError, org::OrgId},
};

/// How long the token sent upstream is valid: one call, with room for clock skew.
const UPSTREAM_TOKEN_TTL: Duration = Duration::from_secs(60);
/// How much of an upstream error body is repeated in our answer.
const UPSTREAM_EXCERPT: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("the platform could not be reached: {0}")]
    Unreachable(String),
    #[error("the platform answered {status}: {excerpt}")]
    Refused { status: u16, excerpt: String },
    #[error("the platform's answer is not JSON")]
    NotJson,
    #[error("the platform's answer is larger than {0} bytes (KAANHA_UPSTREAM_MAX_BODY_BYTES)")]
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
    if errors.is_empty() {
        Ok(checked)
    } else {
        Err(errors)
    }
}

/// A value that becomes one segment of the upstream path: never `.` or `..` (which a URL
/// resolves to the parent path) and never a separator.
fn check_path_segment(value: &str) -> Result<(), &'static str> {
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

/// The platform's API, as actions reach it.
pub struct Upstream {
    client: reqwest::Client,
    base: Url,
    key: EncodingKey,
    max_body: usize,
}

impl Upstream {
    /// The platform's API at `base`, with the upstream settings of `config`.
    pub fn new(mut base: Url, config: &Config) -> anyhow::Result<Self> {
        let security = &config.security;
        let secret = security
            .upstream_jwt_secret
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("KAANHA_UPSTREAM_JWT_SECRET is not set"))?;
        // `join` replaces a last segment without a slash: keep a base path such as `/v1`.
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        // The token rides in every request: it goes through a proxy only when one is named
        // for the upstream, never because the environment happens to set HTTP(S)_PROXY.
        let builder = reqwest::Client::builder()
            .timeout(config.upstream_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("kaanha-gateway/", env!("CARGO_PKG_VERSION")))
            .no_proxy();
        let builder = match &security.upstream_proxy {
            Some(proxy) => builder.proxy(reqwest::Proxy::all(proxy.as_str())?),
            None => builder,
        };
        Ok(Self {
            client: builder.build()?,
            base,
            key: EncodingKey::from_secret(secret.as_bytes()),
            max_body: security.upstream_max_body_bytes,
        })
    }

    /// Forwards a validated action; `caller` names the key (or service) that asked.
    pub async fn run(
        &self,
        action: &Action,
        org: &OrgId,
        caller: &str,
        input: Map<String, Value>,
    ) -> Result<Value, ActionError> {
        let url = self.url_for(action, &input);
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": "kaanha-gateway",
            "aud": UPSTREAM_AUDIENCE,
            "sub": caller,
            "org": org.as_str(),
            "scope": "actions",
            "action": action.key,
            "iat": now,
            "exp": now + UPSTREAM_TOKEN_TTL.as_secs() as i64,
        });
        let token =
            jsonwebtoken::encode(&Header::default(), &claims, &self.key).map_err(|err| {
                ActionError::Unreachable(format!("could not sign the request: {err}"))
            })?;
        let method = reqwest::Method::from_bytes(action.upstream_method.as_bytes())
            .unwrap_or(reqwest::Method::POST);
        let response = self
            .client
            .request(method, url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(Value::Object(input).to_string())
            .send()
            .await
            .map_err(|err| {
                ActionError::Unreachable(if err.is_timeout() {
                    "it did not answer in time".to_owned()
                } else {
                    let mut source: &dyn std::error::Error = &err;
                    while let Some(inner) = source.source() {
                        source = inner;
                    }
                    source.to_string()
                })
            })?;
        let status = response.status();
        let body = self.read_capped(response).await?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            return Err(ActionError::Refused {
                status: status.as_u16(),
                excerpt: text.chars().take(UPSTREAM_EXCERPT).collect(),
            });
        }
        if body.is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_slice(&body).map_err(|_| ActionError::NotJson)
    }

    /// The action's upstream URL: its path template with each `{param}` filled in as one
    /// percent-encoded segment.
    fn url_for(&self, action: &Action, input: &Map<String, Value>) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            for part in action.upstream_path.trim_start_matches('/').split('/') {
                let value = part
                    .strip_prefix('{')
                    .and_then(|p| p.strip_suffix('}'))
                    .and_then(|param| input.get(param).and_then(Value::as_str));
                segments.push(value.unwrap_or(part));
            }
        }
        url
    }

    /// The answer's body, refused past `max_body` bytes instead of held whole.
    async fn read_capped(&self, mut response: reqwest::Response) -> Result<Vec<u8>, ActionError> {
        if response.content_length().unwrap_or(0) > self.max_body as u64 {
            return Err(ActionError::TooLarge(self.max_body));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| ActionError::Unreachable(err.to_string()))?
        {
            if body.len() + chunk.len() > self.max_body {
                return Err(ActionError::TooLarge(self.max_body));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

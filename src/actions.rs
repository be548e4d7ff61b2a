//! Running an action: check the input against the catalog, then forward it to the platform's
//! API with a short-lived token naming the organization and the key that asked.

use std::time::Duration;

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Map, Value, json};
use url::Url;

use crate::{
    catalog::{actions::Action, fields::InputField},
    error::FieldError,
    org::OrgId,
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
        let safe = checked.get(param).and_then(Value::as_str).is_some_and(|v| {
            v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._~:-".contains(&b))
        });
        if !safe && !errors.iter().any(|e| e.field == param) {
            errors.push(FieldError::new(
                param,
                "may hold only letters, digits and . _ ~ : -",
            ));
        }
    }
    if errors.is_empty() {
        Ok(checked)
    } else {
        Err(errors)
    }
}

/// The platform's API, as actions reach it.
pub struct Upstream {
    client: reqwest::Client,
    base: Url,
    key: EncodingKey,
}

impl Upstream {
    pub fn new(mut base: Url, jwt_secret: &str, timeout: Duration) -> anyhow::Result<Self> {
        // `join` replaces a last segment without a slash: keep a base path such as `/v1`.
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("kaanha-gateway/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            base,
            key: EncodingKey::from_secret(jwt_secret.as_bytes()),
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
        let mut path = action.upstream_path.to_owned();
        for param in action.path_params() {
            let value = input.get(param).and_then(Value::as_str).unwrap_or_default();
            path = path.replace(&format!("{{{param}}}"), value);
        }
        let url = self
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|err| ActionError::Unreachable(err.to_string()))?;
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": "kaanha-gateway",
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
        let body = response
            .bytes()
            .await
            .map_err(|err| ActionError::Unreachable(err.to_string()))?;
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
}

//! The platform's API (`KAANHA_UPSTREAM_URL`) as the gateway calls it: every request carries a
//! token signed with `KAANHA_UPSTREAM_JWT_SECRET`, naming the organization, the caller and what
//! is asked, valid for one minute; answers are read up to a cap.

use std::time::Duration;

use jsonwebtoken::{EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use url::Url;

use super::{
    ActionError,
    call::{ApiCall, CallAnswer, CallPrefixes},
};
use crate::{
    catalog::{actions::Action, lists::ListSource},
    config::{Config, UPSTREAM_AUDIENCE},
    domain::org::OrgId,
};

/// How long the token sent upstream is valid: one call, with room for clock skew.
const UPSTREAM_TOKEN_TTL: Duration = Duration::from_secs(60);
/// How much of an upstream error body is repeated in our answer.
const UPSTREAM_EXCERPT: usize = 500;
/// Most items one dropdown page holds.
const MAX_PAGE: u32 = 100;

/// The platform's API, as actions, searches, lists and calls reach it.
pub struct Upstream {
    client: reqwest::Client,
    base: Url,
    key: EncodingKey,
    max_body: usize,
    /// Where the generic API call may go.
    pub call_prefixes: CallPrefixes,
}

/// A page of a dropdown list, as asked.
pub struct ListPage {
    /// What the user typed.
    pub query: Option<String>,
    /// Where the last page ended.
    pub cursor: Option<String>,
    pub limit: u32,
}

/// One choice of a dropdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// A page of choices, and where the next one starts.
#[derive(Debug, Clone)]
pub struct Choices {
    pub items: Vec<Choice>,
    pub next_cursor: Option<String>,
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
            call_prefixes: CallPrefixes::parse(&config.upstream_call_prefixes)?,
        })
    }

    /// Forwards a validated action or search; `caller` names the key (or service) that asked.
    /// A search's inputs go in the query string of a `GET`, and its answer is always a list.
    pub async fn run(
        &self,
        action: &Action,
        org: &OrgId,
        caller: &str,
        input: Map<String, Value>,
    ) -> Result<Value, ActionError> {
        let mut url = self.path_url(action.upstream_path, &input);
        let method = Method::from_bytes(action.upstream_method.as_bytes()).unwrap_or(Method::POST);
        let body = if action.kind.reads() {
            let params: Vec<&str> = action.path_params().collect();
            let criteria = input.iter().filter(|(k, _)| !params.contains(&k.as_str()));
            append_query(&mut url, criteria.map(|(k, v)| (k.as_str(), v)));
            None
        } else {
            Some(Value::Object(input).to_string())
        };
        let token = self.token(org, caller, action.key)?;
        let (status, answer) = self.send(method, url, token, body).await?;
        if !status.is_success() {
            return Err(refused(status, &answer));
        }
        let value = parse_json(&answer)?;
        Ok(if action.kind.reads() {
            Value::Array(items_of(value))
        } else {
            value
        })
    }

    /// A page of a dropdown list: `GET {path}?q=&cursor=&limit=`, its items read as choices.
    pub async fn list(
        &self,
        source: &ListSource,
        org: &OrgId,
        caller: &str,
        page: ListPage,
    ) -> Result<Choices, ActionError> {
        let mut url = self.path_url(source.upstream_path, &Map::new());
        let limit = Value::from(page.limit.clamp(1, MAX_PAGE));
        let query = page.query.map(Value::from);
        let cursor = page.cursor.map(Value::from);
        let pairs = [
            ("q", query.as_ref()),
            ("cursor", cursor.as_ref()),
            ("limit", Some(&limit)),
        ];
        append_query(
            &mut url,
            pairs.into_iter().filter_map(|(k, v)| Some((k, v?))),
        );
        let token = self.token(org, caller, &format!("list:{}", source.key))?;
        let (status, answer) = self.send(Method::GET, url, token, None).await?;
        if !status.is_success() {
            return Err(refused(status, &answer));
        }
        let value = parse_json(&answer)?;
        let next_cursor = value
            .get("nextCursor")
            .and_then(Value::as_str)
            .map(String::from);
        let items = items_of(value)
            .iter()
            .filter_map(|item| choice(source, item))
            .collect();
        Ok(Choices { items, next_cursor })
    }

    /// The generic API call: any method to a path the allow-list admits, its answer returned
    /// whatever its status.
    pub async fn call(
        &self,
        org: &OrgId,
        caller: &str,
        call: ApiCall,
    ) -> Result<CallAnswer, ActionError> {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            segments.extend(call.segments());
        }
        append_query(&mut url, call.query.iter().map(|(k, v)| (k.as_str(), v)));
        let token = self.token(org, caller, "call")?;
        let body = call.body.map(|body| body.to_string());
        let (status, answer) = self.send(call.method, url, token, body).await?;
        let body = if answer.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&answer)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&answer).into_owned()))
        };
        Ok(CallAnswer {
            status: status.as_u16(),
            body,
        })
    }

    /// A token for one request: the organization, who asked, and what for.
    fn token(&self, org: &OrgId, caller: &str, what: &str) -> Result<String, ActionError> {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": "kaanha-gateway",
            "aud": UPSTREAM_AUDIENCE,
            "sub": caller,
            "org": org.as_str(),
            "scope": "actions",
            "action": what,
            "iat": now,
            "exp": now + UPSTREAM_TOKEN_TTL.as_secs() as i64,
        });
        jsonwebtoken::encode(&Header::default(), &claims, &self.key)
            .map_err(|err| ActionError::Unreachable(format!("could not sign the request: {err}")))
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        token: String,
        body: Option<String>,
    ) -> Result<(StatusCode, Vec<u8>), ActionError> {
        let mut request = self.client.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.map_err(|err| {
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
        Ok((status, self.read_capped(response).await?))
    }

    /// A catalog path template with each `{param}` filled in as one percent-encoded segment.
    fn path_url(&self, template: &str, input: &Map<String, Value>) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            for part in template.trim_start_matches('/').split('/') {
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

/// Query parameters from JSON values: strings as they are, lists joined by commas, other
/// scalars written out.
fn append_query<'a>(url: &mut Url, pairs: impl Iterator<Item = (&'a str, &'a Value)>) {
    let mut pairs = pairs.peekable();
    if pairs.peek().is_none() {
        return;
    }
    let mut query = url.query_pairs_mut();
    for (key, value) in pairs {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), String::from))
                .collect::<Vec<_>>()
                .join(","),
            Value::Null => continue,
            other => other.to_string(),
        };
        query.append_pair(key, &text);
    }
}

fn refused(status: StatusCode, body: &[u8]) -> ActionError {
    let text = String::from_utf8_lossy(body);
    ActionError::Refused {
        status: status.as_u16(),
        excerpt: text.chars().take(UPSTREAM_EXCERPT).collect(),
    }
}

fn parse_json(body: &[u8]) -> Result<Value, ActionError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|_| ActionError::NotJson)
}

/// The items of a list answer: the array itself, or the one under `data`, `items` or
/// `results`; a lone object is a list of one.
fn items_of(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Object(mut map) => {
            let wrapped = ["data", "items", "results"]
                .iter()
                .find_map(|key| map.remove(*key).filter(Value::is_array));
            match wrapped {
                Some(Value::Array(items)) => items,
                _ if map.is_empty() => Vec::new(),
                _ => vec![Value::Object(map)],
            }
        }
        _ => Vec::new(),
    }
}

/// An item as a choice: its value field, and the first of its label fields it has.
fn choice(source: &ListSource, item: &Value) -> Option<Choice> {
    let text = |field: &str| match item.get(field)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let value = text(source.value_field)?;
    let label = source
        .label_fields
        .iter()
        .find_map(|field| text(field))
        .unwrap_or_else(|| value.clone());
    Some(Choice { value, label })
}

//! Tools run through the REST routes themselves. Each tool call becomes a request to the same
//! routes `/api` serves, carrying the caller's own credential and address, so validation,
//! scopes, per-organization limits, the organization check and every error text are the API's,
//! word for word: an agent can do nothing a REST client with the same key could not.

use std::sync::Arc;

use poem::{
    Endpoint, EndpointExt, Request, RequestParts, Route,
    endpoint::BoxEndpoint,
    http::{self, HeaderValue, Method, header},
    web::{LocalAddr, RemoteAddr},
};
use serde_json::Value;

use crate::http::{
    access_log::REQUEST_ID,
    problems::{AllowedMethods, problem_errors},
    state::AppState,
};

/// Who is calling, as the MCP request carried it: replayed on every REST request it leads to.
#[derive(Clone)]
pub struct Caller {
    pub principal: crate::http::auth::Principal,
    pub authorization: HeaderValue,
    pub remote: RemoteAddr,
    pub forwarded_for: Option<HeaderValue>,
    pub request_id: Option<HeaderValue>,
}

/// A REST request a tool makes: method, path with its query, and a JSON body.
pub struct RestRequest {
    pub method: Method,
    pub path_and_query: String,
    pub body: Option<Value>,
}

/// What the route answered.
pub enum RestAnswer {
    Ok(Value),
    /// A problem: its status and its `detail` (which names the fields at fault).
    Problem {
        status: u16,
        detail: String,
    },
}

/// The REST routes, without the access log (the MCP request has its own line).
pub struct Rest {
    endpoint: BoxEndpoint<'static>,
}

impl Rest {
    pub fn new(state: Arc<AppState>) -> Self {
        let api = crate::http::routes::service();
        let allowed = Arc::new(AllowedMethods::from_spec(&api.spec()));
        let max_body = state.config.max_body_bytes;
        let endpoint = Route::new()
            .nest("/", api)
            .around(move |next, req| problem_errors(next, req, max_body, allowed.clone()))
            .data(state)
            .map_to_response()
            .boxed();
        Self { endpoint }
    }

    pub async fn send(&self, caller: &Caller, request: RestRequest) -> RestAnswer {
        let mut builder = http::Request::builder()
            .method(request.method)
            .uri(&request.path_and_query)
            .header(header::AUTHORIZATION, caller.authorization.clone());
        if let Some(forwarded) = &caller.forwarded_for {
            builder = builder.header("x-forwarded-for", forwarded.clone());
        }
        if let Some(id) = &caller.request_id {
            builder = builder.header(REQUEST_ID, id.clone());
        }
        let body = match request.body {
            Some(body) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                body.to_string()
            }
            None => String::new(),
        };
        let Ok(head) = builder.body(()) else {
            return RestAnswer::Problem {
                status: 400,
                detail: "An argument makes an invalid request path.".into(),
            };
        };
        let (head, ()) = head.into_parts();
        let local = LocalAddr(poem::Addr::default());
        let parts =
            RequestParts::from((head, local, caller.remote.clone(), http::uri::Scheme::HTTP));
        let response = self
            .endpoint
            .call(Request::from_parts(parts, body.into()))
            .await
            .unwrap_or_else(|err| err.into_response());
        let status = response.status();
        let bytes = response.into_body().into_bytes().await.unwrap_or_default();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            RestAnswer::Ok(value)
        } else {
            let detail = value["detail"]
                .as_str()
                .map_or_else(|| status.to_string(), str::to_owned);
            RestAnswer::Problem {
                status: status.as_u16(),
                detail,
            }
        }
    }
}

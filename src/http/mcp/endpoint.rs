//! `/mcp` on the gateway's listener: rmcp's Streamable HTTP service behind the gateway's own
//! credential check. Each request is authenticated like `/api` (401 with `WWW-Authenticate`
//! without a valid credential), held to its session's owner, and handed to rmcp with the caller
//! attached for the handler.

use std::{convert::Infallible, sync::Arc};

use http_body_util::BodyExt;
use poem::{Body, Endpoint, IntoResponse, Request, Response, ResponseParts, http::Method};
use rmcp::transport::streamable_http_server::{
    StreamableHttpService, session::local::LocalSessionManager,
};
use tower_service::Service;

use super::{
    handler::KaanhaMcp,
    rest::Caller,
    sessions::{Access, Owner, Sessions},
};
use crate::http::{
    access_log::REQUEST_ID, auth::authenticate, body::read_bytes, error::ApiError, state::AppState,
};

const SESSION_ID: &str = "mcp-session-id";

pub struct McpEndpoint {
    pub(super) service: StreamableHttpService<KaanhaMcp, LocalSessionManager>,
    pub(super) sessions: Arc<Sessions>,
    pub(super) state: Arc<AppState>,
}

impl Endpoint for McpEndpoint {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        Ok(match self.answer(req).await {
            Ok(response) => response,
            Err(err) => err.into_response(),
        })
    }
}

impl McpEndpoint {
    async fn answer(&self, mut req: Request) -> Result<Response, ApiError> {
        let caller = self.caller(&req).await?;
        let owner = Owner::of(&caller.principal);
        let session = req.header(SESSION_ID).map(str::to_owned);
        if let Some(id) = &session
            && let Access::Refused = self.sessions.access(id, &owner).await
        {
            // Another credential's session does not exist for this one.
            return Err(ApiError::not_found("MCP session", id));
        }
        if req.method() == Method::POST {
            let config = &self.state.config;
            let bytes = read_bytes(
                req.take_body(),
                config.max_body_bytes,
                config.limits.body_read_timeout,
            )
            .await?;
            if session.is_none() && opens_session(&bytes) && !self.sessions.has_room(&owner).await {
                return Err(ApiError::too_many_requests(
                    "This organization has as many MCP sessions open as it may; end one \
                     (DELETE /mcp with its Mcp-Session-Id) or wait for an idle one to expire.",
                    60,
                ));
            }
            req.set_body(bytes);
        }
        let closing = req.method() == Method::DELETE;
        let mut request: poem::http::Request<_> = req.into();
        request.extensions_mut().insert(caller);
        let Ok(response) = self.service.clone().call(request).await;
        match (&session, response.headers().get(SESSION_ID)) {
            (None, Some(opened)) => {
                if let Ok(opened) = opened.to_str() {
                    self.sessions.opened(opened, owner).await;
                }
            }
            (Some(id), _) if closing && response.status().is_success() => {
                self.sessions.closed(id).await;
            }
            _ => {}
        }
        let (parts, body) = response.into_parts();
        let body = body.map_err(|never: Infallible| match never {}).boxed();
        let parts = ResponseParts {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            extensions: parts.extensions,
        };
        Ok(Response::from_parts(parts, Body::from(body)))
    }

    /// The credential checked as `/api` checks it, and what the REST routes need of it.
    async fn caller(&self, req: &Request) -> Result<Caller, ApiError> {
        let authorization = req
            .headers()
            .get(poem::http::header::AUTHORIZATION)
            .cloned()
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "/mcp needs `Authorization: Bearer <API key or service JWT>`, as /api does.",
                )
            })?;
        let token = authorization
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("The Authorization header must be `Bearer <credential>`.")
            })?;
        let principal = authenticate(req, token).await?;
        Ok(Caller {
            principal,
            authorization,
            remote: req.remote_addr().clone(),
            forwarded_for: req.headers().get("x-forwarded-for").cloned(),
            request_id: req.headers().get(REQUEST_ID).cloned(),
        })
    }
}

/// Whether a POSTed message opens a session: an `initialize` request, alone or first in a
/// batch. Anything unreadable is left for rmcp to refuse.
fn opens_session(bytes: &[u8]) -> bool {
    let Ok(message) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return false;
    };
    let first = match &message {
        serde_json::Value::Array(batch) => batch.first(),
        single => Some(single),
    };
    first.is_some_and(|m| m["method"] == "initialize")
}

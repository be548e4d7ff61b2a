//! AI agents as a fourth platform: the Model Context Protocol over Streamable HTTP at `/mcp`,
//! served by the official SDK (`rmcp`). The catalog's actions, searches and lists, the generic
//! API call and the delivery tools are tools; the describe document and the trigger samples are
//! resources; `debug_delivery` is a prompt. Every tool call and resource read runs through the
//! REST route that does the same thing, with the caller's credential (`rest.rs`).

mod endpoint;
mod handler;
mod prompts;
mod resources;
mod rest;
mod route_tools;
mod schema;
mod sessions;
mod tools;

use std::{sync::Arc, time::Duration};

use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use tokio::sync::watch;

pub use endpoint::McpEndpoint;

use crate::http::state::AppState;

/// How long an idle session lives before it ends (the client then opens a new one).
const SESSION_IDLE: Duration = Duration::from_secs(5 * 60);

/// The `/mcp` endpoint. Its streams end when `stop` turns true, so a client's open event
/// stream does not hold the shutdown for its grace period.
pub fn endpoint(state: Arc<AppState>, mut stop: watch::Receiver<bool>) -> McpEndpoint {
    let rest = Arc::new(rest::Rest::new(state.clone()));
    let mut manager = LocalSessionManager::default();
    manager.session_config.keep_alive = Some(SESSION_IDLE);
    let manager = Arc::new(manager);
    let config = StreamableHttpServerConfig::default()
        // Behind a proxy the Host is the public one; the credential, not the Host, guards
        // this endpoint.
        .disable_allowed_hosts()
        .with_allowed_origins(allowed_origins(&state))
        .enforce_origin_validation()
        .with_max_request_body_bytes(state.config.max_body_bytes);
    let cancel = config.cancellation_token.clone();
    tokio::spawn(async move {
        while !*stop.borrow_and_update() {
            if stop.changed().await.is_err() {
                break;
            }
        }
        cancel.cancel();
    });
    let handler = handler::KaanhaMcp::new(state.clone(), rest);
    let service = StreamableHttpService::new(move || Ok(handler.clone()), manager.clone(), config);
    McpEndpoint {
        service,
        sessions: Arc::new(sessions::Sessions::new(
            manager,
            state.config.limits.mcp_sessions_per_org,
        )),
        state,
    }
}

/// Browser origins that may call `/mcp`: the gateway's own public address (its console) and
/// those the operator lists. Clients that send no `Origin` (desktop apps, servers) are not
/// affected; a browser page from anywhere else gets 403, as the specification requires.
fn allowed_origins(state: &AppState) -> Vec<String> {
    let config = &state.config;
    let public = config.public_url.as_ref().map(url::Url::as_str);
    config
        .security
        .mcp_allowed_origins
        .iter()
        .map(String::as_str)
        .chain(public)
        .map(with_port)
        .collect()
}

/// An origin with its port spelled out (`https://a.example` → `https://a.example:443`), so it
/// matches that port only; `null` and wildcards (`http://localhost:*`) stay as written.
fn with_port(origin: &str) -> String {
    match url::Url::parse(origin) {
        Ok(url) => match (url.host_str(), url.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
            _ => origin.to_owned(),
        },
        Err(_) => origin.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::with_port;

    #[test]
    fn origins_name_their_port() {
        assert_eq!(
            with_port("https://hooks.example.com/"),
            "https://hooks.example.com:443"
        );
        assert_eq!(with_port("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(with_port("http://localhost:*"), "http://localhost:*");
        assert_eq!(with_port("null"), "null");
    }
}

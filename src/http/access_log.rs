//! One log line per request: method, path, status, duration, the client's address, the
//! organization whose credential it carried, and a request id (also sent back as
//! `X-Request-Id`, so a customer's report can be found in the log). Never the query string:
//! hook URLs travel in it (`?target_url=`), and they are as good as secrets.

use std::{sync::Arc, time::Instant};

use poem::{Endpoint, IntoResponse, Request, Response};

use super::{client_ip::client_ip, state::AppState};

pub const REQUEST_ID: &str = "x-request-id";

/// Where the credential check leaves the organization of the request, for its log line.
#[derive(Clone, Default)]
pub struct OrgOfRequest(Arc<std::sync::OnceLock<String>>);

impl OrgOfRequest {
    /// Called by the credential check once it knows the organization.
    pub fn note(req: &Request, org: &impl std::fmt::Display) {
        if let Some(slot) = req.extensions().get::<Self>() {
            let _ = slot.0.set(org.to_string());
        }
    }
}

/// The caller's own id when it is a plausible one (a proxy's, say), else a new one.
fn request_id(req: &Request) -> String {
    req.header(REQUEST_ID)
        .filter(|id| {
            (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::now_v7().simple().to_string(), str::to_owned)
}

pub async fn access_log<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let org = OrgOfRequest::default();
    req.extensions_mut().insert(org.clone());
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let id = request_id(&req);
    let trusted = req
        .data::<Arc<AppState>>()
        .map(|state| state.config.security.trusted_proxies.clone())
        .unwrap_or_default();
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip());
    let client = client_ip(peer, req.header("x-forwarded-for"), &trusted);
    let started = Instant::now();
    let mut result = next.call(req).await.map(IntoResponse::into_response);
    let status = match &result {
        Ok(response) => response.status(),
        Err(err) => err.status(),
    };
    if let (Ok(response), Ok(value)) = (&mut result, id.parse()) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    tracing::info!(
        %method,
        path,
        status = status.as_u16(),
        // Whole microseconds over 1,000: `0.048`, never `0.047630000000000006`.
        duration_ms = started.elapsed().as_micros() as f64 / 1000.0,
        client = %client.map(|ip| ip.to_string()).unwrap_or_default(),
        org = %org.0.get().map_or("", String::as_str),
        request_id = %id,
        "request"
    );
    result
}

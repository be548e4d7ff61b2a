//! Who is calling, as the API's security scheme: `Authorization: Bearer` with an
//! organization API key or a service JWT, checked by [`Authenticator`]; failures are slowed and,
//! past a limit, refused per client address.

use std::sync::Arc;

use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};

pub use crate::http::credentials::{Authenticator, Credential, Principal};
use crate::http::{client_ip::client_ip, error::ApiError, state::AppState};

/// Bearer credential: an organization API key (`kgw_...`) or a service JWT (HS256).
#[derive(SecurityScheme)]
#[oai(
    rename = "bearer",
    ty = "bearer",
    bearer_format = "API key (kgw_...) or JWT",
    checker = "check_bearer"
)]
pub struct BearerAuth(pub Principal);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    Ok(authenticate(req, &bearer.token).await?)
}

/// Checks the credential. A valid one always passes; a failure is answered after a short
/// delay, and once its address has failed too often lately, with 429 instead of 401.
pub async fn authenticate(req: &Request, token: &str) -> Result<Principal, ApiError> {
    let state = req
        .data::<Arc<AppState>>()
        .expect("AppState is attached to every route");
    let security = &state.config.security;
    let forwarded = req.header("x-forwarded-for");
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip());
    let client = client_ip(peer, forwarded, &security.trusted_proxies);
    let err = match state.auth.authenticate(token, client).await {
        Ok(principal) => {
            crate::http::access_log::OrgOfRequest::note(req, &principal.org);
            return Ok(principal);
        }
        Err(err @ ApiError::Unauthorized(..)) => err,
        Err(err) => return Err(err),
    };
    let wait = client.and_then(|address| state.auth.throttle.hit(address));
    tokio::time::sleep(security.auth_failure_delay).await;
    match wait {
        Some(wait) => Err(ApiError::too_many_requests(
            "Too many failed authentications from this address; wait before trying again.",
            wait.as_secs_f64().ceil() as u64,
        )),
        None => Err(err),
    }
}

//! `GET /api/integrations/describe`: everything a generic client needs to build a Zapier app,
//! a Make app or an n8n node — auth, subscriptions, the delivery contract, triggers and
//! actions — generated from the catalog. Cached per base URL, with an ETag.
//! The document is built in [`crate::apps::describe`]; here it is served, cached per base URL,
//! with an ETag.

use std::sync::{Arc, LazyLock};

use poem::{Request, web::Data};
use poem_openapi::{ApiResponse, OpenApi, param::Header, payload::Json};
use sha2::{Digest, Sha256};

use super::ApiTags;
use crate::{
    apps::describe::{Describe, Gateway, Routes, document},
    domain::scope::Scope,
    http::{auth::BearerAuth, error::ApiResult, state::AppState},
};

/// The API's routes, read once from its own OpenAPI document.
pub fn routes() -> &'static Routes {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| Routes::from_openapi(&super::spec_value()));
    &ROUTES
}

fn build(state: &AppState, base_url: &str) -> Describe {
    document(&Gateway {
        base_url,
        retry_schedule: &state.config.retry_schedule,
        actions_available: state.upstream.is_some(),
        routes: routes(),
    })
}

/// The base URL clients use: the configured one, else the request's own.
fn base_url(state: &AppState, req: &Request) -> String {
    if let Some(url) = &state.config.public_url {
        return url.as_str().trim_end_matches('/').to_owned();
    }
    let host = req
        .header("host")
        .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("127.0.0.1");
    let scheme = match req.header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

pub struct DescribeApi;

#[derive(ApiResponse)]
enum DescribeResponse {
    /// The discovery document.
    #[oai(status = 200)]
    Ok(
        Json<Box<Describe>>,
        /// Send it back as `If-None-Match` to get a 304 while nothing changed.
        #[oai(header = "ETag")]
        String,
        #[oai(header = "Cache-Control")] String,
    ),
    /// Unchanged since the ETag given in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[OpenApi(tag = "ApiTags::Integrations")]
impl DescribeApi {
    /// Discover triggers and actions
    ///
    /// Everything a Zapier app, a Make app or an n8n node needs: auth, subscriptions, the
    /// delivery contract, one trigger per event type and the actions.
    ///
    /// Needs the `integrations` scope.
    #[oai(
        path = "/api/integrations/describe",
        method = "get",
        operation_id = "describe"
    )]
    async fn describe(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: BearerAuth,
        /// The `ETag` of a copy already held.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<DescribeResponse> {
        auth.0.require(Scope::Integrations)?;
        let base = base_url(&state, req);
        let cached = state
            .describe_cache
            .get_with(base.clone(), async {
                let document = build(&state, &base);
                let bytes = serde_json::to_vec(&poem_openapi::types::ToJSON::to_json(&document))
                    .unwrap_or_default();
                let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
                Arc::new((document, etag))
            })
            .await;
        let (document, etag) = (&cached.0, &cached.1);
        let matches = if_none_match.0.as_deref().is_some_and(|given| {
            given
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
        });
        Ok(if matches {
            DescribeResponse::NotModified(etag.clone())
        } else {
            DescribeResponse::Ok(
                Json(Box::new(document.clone())),
                etag.clone(),
                "private, max-age=60".into(),
            )
        })
    }
}

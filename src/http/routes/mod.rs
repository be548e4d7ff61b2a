//! The HTTP API: one `#[OpenApi]` impl per resource, gathered into one OpenAPI service.

mod api_keys;
mod attempts;
mod deliveries;
pub mod describe;
mod events;
mod integrations;
mod logs;
mod probes;
mod redeliver;
mod stats;
mod subscriptions;
mod upstream;
mod webhook_bodies;
mod webhooks;

use poem_openapi::{OpenApiService, Tags};

use sea_orm::prelude::Uuid;

use crate::{
    domain::org::OrgId,
    http::{
        error::{ApiError, ApiResult},
        state::AppState,
    },
    infra::ids,
};

#[derive(Tags)]
pub enum ApiTags {
    /// Endpoints that receive an organization's events, and their settings.
    Webhooks,
    /// Publishing events: the platform's back end tells the gateway what happened.
    Events,
    /// Each webhook's deliveries and their log: what was sent, when, and what came back.
    Deliveries,
    /// For Zapier, Make and n8n: discovery, REST-hook subscriptions, samples and actions.
    Integrations,
    /// Organization API keys: created once, listed without the key, revoked.
    ApiKeys,
    /// Liveness and readiness, for load balancers and orchestrators.
    Operations,
}

/// Page sizes: the default when a list call names none, and the most one page may hold.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;

pub type Apis = (
    probes::HealthApi,
    webhooks::WebhooksApi,
    events::EventsApi,
    deliveries::DeliveriesApi,
    logs::LogsApi,
    redeliver::RedeliverApi,
    attempts::AttemptsApi,
    stats::StatsApi,
    describe::DescribeApi,
    subscriptions::SubscriptionsApi,
    integrations::IntegrationsApi,
    upstream::UpstreamApi,
    api_keys::ApiKeysApi,
);

/// The OpenAPI service: routes, the spec at `/api/openapi.json` and the UI at `/docs` are all
/// generated from it.
pub fn service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            probes::HealthApi,
            webhooks::WebhooksApi,
            events::EventsApi,
            deliveries::DeliveriesApi,
            logs::LogsApi,
            redeliver::RedeliverApi,
            attempts::AttemptsApi,
            stats::StatsApi,
            describe::DescribeApi,
            subscriptions::SubscriptionsApi,
            integrations::IntegrationsApi,
            upstream::UpstreamApi,
            api_keys::ApiKeysApi,
        ),
        "kaanha-gateway",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Delivers Kaanha AI events (message.received, contact.created, payment.completed, ...) \
         to customers' webhooks — signed with `X-Kaanha-Signature`, retried after 5 s, 25 s and \
         2 min, and logged — and to Zapier, Make and n8n subscriptions.\n\n\
         Authenticate with `Authorization: Bearer <API key>` (organization keys start with \
         `kgw_`) or a service JWT (HS256, claims `org`, `scope`, `exp`). Every error is \
         `application/problem+json`.",
    )
}

/// What a `worker` instance serves: health, readiness and metrics.
pub fn operations_service() -> OpenApiService<probes::HealthApi, ()> {
    OpenApiService::new(
        probes::HealthApi,
        "kaanha-gateway worker",
        env!("CARGO_PKG_VERSION"),
    )
}

/// The spec as the `openapi` command prints it and `openapi/openapi.json` holds it.
pub fn spec_json() -> String {
    let mut spec = service().spec();
    spec.push('\n');
    spec
}

/// The OpenAPI document as a JSON value.
pub fn spec_value() -> serde_json::Value {
    serde_json::from_str(&service().spec()).expect("poem-openapi writes JSON")
}

/// Lists fetch one row more than a page: if it came, trim it and point the cursor at the last
/// row kept.
pub fn next_cursor<T>(rows: &mut Vec<T>, limit: u32, id: impl Fn(&T) -> String) -> Option<String> {
    if rows.len() <= limit as usize {
        return None;
    }
    rows.truncate(limit as usize);
    rows.last().map(id)
}

/// A page's rows cut to `limit`, and the cursor to the next: after the last row shown, or
/// where a bounded read stopped short of a page. Ids are shown with `prefix`.
pub fn paged<T>(
    page: crate::domain::stretch::Page<T>,
    limit: u32,
    prefix: &str,
    id: impl Fn(&T) -> Uuid,
) -> (Vec<T>, Option<String>) {
    let mut rows = page.rows;
    let cursor = next_cursor(&mut rows, limit, |row| ids::show(prefix, &id(row)))
        .or(page.stopped_at.map(|stopped| ids::show(prefix, &stopped)));
    (rows, cursor)
}

/// The row a `cursor` query parameter names, as one of `prefix`'s ids; a 422 naming the
/// parameter for anything else (no page would follow it).
pub fn cursor_id(prefix: &str, cursor: Option<&str>) -> ApiResult<Option<Uuid>> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    ids::parse(prefix, cursor)
        .map(Some)
        .ok_or_else(|| ApiError::field("cursor", "is not a cursor this list gave"))
}

/// The webhook a path names, as stored; a 404 for text that is no webhook's id (it names no
/// webhook, as an unknown id does).
pub fn webhook_id(id: &str) -> ApiResult<Uuid> {
    ids::parse(ids::WEBHOOK, id).ok_or_else(|| ApiError::not_found("webhook", id))
}

/// The webhook a path names; 404 unless the organization has it (another organization's is not
/// found either).
async fn require_webhook(state: &AppState, org: &OrgId, id: &str) -> ApiResult<Uuid> {
    let webhook = webhook_id(id)?;
    if crate::domain::webhooks::exists(&state.db, org, webhook).await? {
        Ok(webhook)
    } else {
        Err(ApiError::not_found("webhook", id))
    }
}

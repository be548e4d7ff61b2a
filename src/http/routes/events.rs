use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json, types::Example};
use serde::Deserialize;

use super::ApiTags;
use crate::{
    catalog,
    config::Config,
    domain::{
        org::OrgId,
        publish::{EventRequest, NewEvent, Published},
        scope::Scope,
    },
    http::{
        auth::BearerAuth,
        body::{BodyLimit, JsonBody},
        error::{ApiError, ApiResult, FieldError},
        schema_types::*,
        state::AppState,
    },
};

pub struct EventsApi;

/// Most events in one batch.
const MAX_BATCH: usize = 1000;

/// An event to deliver to every active webhook subscribed to its type.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename_all = "camelCase", example, deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EventIn {
    /// The event type.
    event: EventName,
    /// The event's data: a JSON object, delivered as it is sent.
    data: JsonObject,
    /// Your id for the event (1–128 visible ASCII characters). Publishing an id that is
    /// already stored creates nothing new, so a producer may safely retry.
    #[oai(nullable, validator(min_length = 1, max_length = 128))]
    #[serde(default)]
    id: Option<String>,
    /// When it happened (RFC 3339); default: now. Delivered in UTC with milliseconds.
    #[oai(nullable)]
    #[serde(default)]
    timestamp: Option<String>,
    /// Must match the credential's organization when given.
    #[oai(nullable)]
    #[serde(default)]
    organization_id: Option<String>,
}

impl BodyLimit for EventIn {}

impl Example for EventIn {
    fn example() -> Self {
        let sample = catalog::find("message.received")
            .map(|e| e.sample())
            .unwrap_or_default();
        Self {
            event: EventName("message.received".into()),
            data: JsonObject(sample),
            id: Some("evt_wamid_xxx".into()),
            timestamp: None,
            organization_id: None,
        }
    }
}

/// Up to 1,000 events, stored in one transaction: all or none.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct BatchIn {
    #[oai(validator(min_items = 1, max_items = 1000))]
    events: Vec<EventIn>,
}

impl BodyLimit for BatchIn {
    fn body_limit(config: &Config) -> usize {
        config.max_batch_bytes
    }
}

/// What became of a published event.
#[derive(Debug, Object)]
struct PublishedOut {
    /// The event's id (yours, or one made for it).
    id: String,
    /// How many webhooks it is being delivered to.
    deliveries: u64,
    /// `true` when the id was already stored: nothing new was created.
    duplicate: bool,
}

impl From<Published> for PublishedOut {
    fn from(p: Published) -> Self {
        Self {
            id: p.id,
            deliveries: p.deliveries,
            duplicate: p.duplicate,
        }
    }
}

#[derive(Debug, Object)]
struct BatchOut {
    /// One result per event, in the order sent.
    data: Vec<PublishedOut>,
}

#[derive(ApiResponse)]
enum PublishResponse {
    /// Stored with its deliveries; delivery starts at once.
    #[oai(status = 202)]
    Accepted(Json<PublishedOut>),
    /// This id was already published: nothing new was created.
    #[oai(status = 200)]
    Duplicate(Json<PublishedOut>),
}

#[derive(ApiResponse)]
enum BatchResponse {
    /// Every event is stored with its deliveries (duplicates are marked).
    #[oai(status = 202)]
    Accepted(Json<BatchOut>),
}

#[OpenApi(tag = "ApiTags::Events")]
impl EventsApi {
    /// Publish an event
    ///
    /// The event and one delivery per active webhook subscribed to its type are committed
    /// before this answers; nothing accepted is lost, even if the gateway stops right after.
    ///
    /// Needs the `events:publish` scope.
    #[oai(path = "/api/events", method = "post", operation_id = "publishEvent")]
    async fn publish(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<EventIn>,
    ) -> ApiResult<PublishResponse> {
        auth.0.require(Scope::EventsPublish)?;
        let body = body.read().await?;
        let event =
            parse_event(&state.config, &auth.0.org, body, "").map_err(ApiError::validation)?;
        let published = publish(&state, &auth.0.org, vec![event]).await?;
        let one = published
            .into_iter()
            .next()
            .map(PublishedOut::from)
            .ok_or_else(|| {
                ApiError::internal(&std::io::Error::other("publish returned no result"))
            })?;
        Ok(if one.duplicate {
            PublishResponse::Duplicate(Json(one))
        } else {
            PublishResponse::Accepted(Json(one))
        })
    }

    /// Publish a batch of events
    ///
    /// Up to 1,000 events in one transaction; a single invalid event rejects the batch, with
    /// every problem named (`events[3].data`).
    ///
    /// Needs the `events:publish` scope.
    #[oai(
        path = "/api/events/batch",
        method = "post",
        operation_id = "publishEvents"
    )]
    async fn publish_batch(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<BatchIn>,
    ) -> ApiResult<BatchResponse> {
        auth.0.require(Scope::EventsPublish)?;
        let items = body.read().await?.events;
        if items.is_empty() || items.len() > MAX_BATCH {
            return Err(ApiError::field(
                "events",
                format!("must hold 1 to {MAX_BATCH} events"),
            ));
        }
        let mut errors = Vec::new();
        let mut events = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            match parse_event(&state.config, &auth.0.org, item, &format!("events[{i}].")) {
                Ok(event) => events.push(event),
                Err(mut problems) => errors.append(&mut problems),
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let published = publish(&state, &auth.0.org, events).await?;
        Ok(BatchResponse::Accepted(Json(BatchOut {
            data: published.into_iter().map(Into::into).collect(),
        })))
    }
}

/// Stores, in a group commit with publishes arriving at the same time (which wakes the workers).
async fn publish(
    state: &AppState,
    org: &OrgId,
    events: Vec<NewEvent>,
) -> ApiResult<Vec<Published>> {
    let published = state.publisher.publish(org, events).await?;
    let new = published.iter().filter(|p| !p.duplicate).count() as u64;
    state
        .metrics
        .events_published
        .fetch_add(new, std::sync::atomic::Ordering::Relaxed);
    Ok(published)
}

/// Checks one event; `prefix` names its place in a batch (`events[3].`).
fn parse_event(
    config: &Config,
    org: &OrgId,
    input: EventIn,
    prefix: &str,
) -> Result<NewEvent, Vec<FieldError>> {
    let request = EventRequest {
        event: input.event.0,
        data: input.data.0,
        id: input.id,
        timestamp: input.timestamp,
        organization_id: input.organization_id,
    };
    NewEvent::parse(request, org, config.max_body_bytes, prefix)
}

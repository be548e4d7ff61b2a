//! Recover and replay: a webhook's missed deliveries sent again, for a time range.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use serde::Deserialize;

use super::ApiTags;
use crate::{
    domain::{
        redeliver::{
            RedeliverError, TimeRange,
            recover::{self, recover},
            replay::{Bounds, replay},
        },
        scope::Scope,
        webhooks,
    },
    http::{
        auth::BearerAuth,
        body::{BodyLimit, JsonBody},
        error::{ApiError, ApiResult},
        schema_types::EventName,
        state::AppState,
        timestamp::Timestamp,
    },
    infra::time,
};

pub struct RedeliverApi;

/// Which failed deliveries to put back in the queue: those that ended `failed` in the range.
#[derive(Debug, Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RecoverIn {
    /// Start of the range (RFC 3339), e.g. `2026-11-29T08:00:00Z`.
    since: Timestamp,
    /// End of the range (RFC 3339); now when absent. The range spans at most 14 days.
    #[oai(nullable)]
    #[serde(default)]
    until: Option<Timestamp>,
}

impl BodyLimit for RecoverIn {}

/// Which stored events to send again: those published in the range, of the webhook's types
/// (or of the listed ones).
#[derive(Debug, Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReplayIn {
    /// Start of the range (RFC 3339); within the log retention (`KAANHA_LOG_RETENTION`).
    since: Timestamp,
    /// End of the range (RFC 3339); now when absent.
    #[oai(nullable)]
    #[serde(default)]
    until: Option<Timestamp>,
    /// Only these event types, each one the webhook subscribes to; all of its types when absent.
    #[oai(nullable, validator(max_items = 64))]
    #[serde(default)]
    events: Option<Vec<EventName>>,
}

impl BodyLimit for ReplayIn {}

#[derive(Debug, Object)]
struct Requeued {
    /// Failed deliveries put back in the queue, due now with a fresh retry schedule.
    requeued: u64,
}

#[derive(Debug, Object)]
struct Queued {
    /// New deliveries queued, one per event, marked `X-Kaanha-Replay: true`.
    queued: u64,
}

#[derive(ApiResponse)]
enum RecoverResponse {
    /// The failed deliveries of the range are due again; their attempts will appear in the log.
    #[oai(status = 202)]
    Accepted(Json<Requeued>),
}

#[derive(ApiResponse)]
enum ReplayResponse {
    /// The events of the range are on their way again; their attempts will appear in the log.
    #[oai(status = 202)]
    Accepted(Json<Queued>),
}

impl From<RedeliverError> for ApiError {
    fn from(err: RedeliverError) -> Self {
        match err {
            RedeliverError::Invalid(errors) => Self::validation(errors),
            RedeliverError::Disabled => Self::conflict(
                "The webhook is disabled: enable it first (PATCH its status to active), then send \
                 again; a disabled webhook's deliveries fail without a request.",
            ),
            RedeliverError::OverBudget {
                per_hour,
                retry_after_secs,
            } => Self::too_many_requests(
                format!(
                    "This would queue more deliveries than the {per_hour} recover and replay may \
                     queue per hour for an organization on this gateway; nothing was queued. Narrow the range, or wait for the next hour."
                ),
                retry_after_secs,
            ),
            RedeliverError::Db(err) => err.into(),
        }
    }
}

async fn find_webhook(
    state: &AppState,
    auth: &BearerAuth,
    id: &str,
) -> ApiResult<webhooks::Webhook> {
    auth.0.require(Scope::Webhooks)?;
    let webhook = webhooks::find(&state.db, &auth.0.org, super::webhook_id(id)?)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook", id))?;
    // Each call may write thousands of rows: it counts as a send by hand.
    state.manual_sends(&auth.0.org)?;
    Ok(webhook)
}

#[OpenApi(tag = "ApiTags::Deliveries")]
impl RedeliverApi {
    /// Recover failed deliveries
    ///
    /// Every delivery of this webhook that ended `failed` between `since` and `until` goes back
    /// to `pending`, due now, with the whole retry schedule again: after a receiver outage,
    /// this brings back what it missed. Deliveries pending or delivered are left alone, so
    /// calling it twice queues nothing twice. The range spans at most 14 days and may hold at
    /// most `KAANHA_RECOVER_MAX_DELIVERIES` failed deliveries (422 beyond it: narrow the range).
    /// What recover and replay queue counts against the organization's
    /// `KAANHA_REDELIVERIES_PER_HOUR`: a call that would pass it answers 429 with `Retry-After`
    /// and queues nothing. A disabled webhook answers 409: enable it first.
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks/:id/recover",
        method = "post",
        operation_id = "recoverWebhook"
    )]
    async fn recover(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Webhook id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
        body: JsonBody<RecoverIn>,
    ) -> ApiResult<RecoverResponse> {
        let webhook = find_webhook(&state, &auth, &id).await?;
        let body = body.read().await?;
        let range = TimeRange::parse(
            body.since.0,
            body.until.map(|t| t.0),
            time::now(),
            recover::widest(),
        )
        .map_err(RedeliverError::from)?;
        let limits = &state.config.limits;
        let bounds = recover::Bounds {
            max_deliveries: limits.recover_max_deliveries,
            per_hour: limits.redeliveries_per_hour,
        };
        let requeued = recover(&state.store, &webhook, range, bounds).await?;
        Ok(RecoverResponse::Accepted(Json(Requeued { requeued })))
    }

    /// Replay stored events
    ///
    /// Sends the organization's events published between `since` and `until` to this webhook
    /// again, as new deliveries, whatever their earlier outcome: one per event of a type it
    /// subscribes to (only the `events` listed, when given) that passes its filters. Each
    /// carries the event's own `id` and body, and `X-Kaanha-Replay: true`, so receivers
    /// de-duplicate as usual. Events an earlier replay already sent this webhook are not sent
    /// again. The range must lie within the log retention, and hold at most
    /// `KAANHA_REPLAY_MAX_EVENTS` events (422 beyond it: narrow the range). Its events count
    /// against the organization's `KAANHA_REDELIVERIES_PER_HOUR` (429 with `Retry-After`
    /// beyond it, queuing nothing).
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks/:id/replay",
        method = "post",
        operation_id = "replayWebhook"
    )]
    async fn replay(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Webhook id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
        body: JsonBody<ReplayIn>,
    ) -> ApiResult<ReplayResponse> {
        let webhook = find_webhook(&state, &auth, &id).await?;
        let body = body.read().await?;
        let now = time::now();
        let retention =
            chrono::Duration::from_std(state.config.log_retention).unwrap_or(chrono::Duration::MAX);
        if now - body.since.0 > retention {
            return Err(ApiError::field(
                "since",
                format!(
                    "events older than this gateway keeps its logs ({}) are no longer stored",
                    humantime::format_duration(state.config.log_retention)
                ),
            ));
        }
        let range = TimeRange::parse(body.since.0, body.until.map(|t| t.0), now, retention)
            .map_err(RedeliverError::from)?;
        let types = body
            .events
            .map(|names| names.into_iter().map(|n| n.0).collect());
        let bounds = Bounds {
            max_events: state.config.limits.replay_max_events,
            per_hour: state.config.limits.redeliveries_per_hour,
        };
        let queued = replay(&state.store, &webhook, range, types, bounds).await?;
        Ok(ReplayResponse::Accepted(Json(Queued { queued })))
    }
}

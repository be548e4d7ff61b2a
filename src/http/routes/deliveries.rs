use std::sync::Arc;

use entity::{delivery, delivery_attempt};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{ApiTags, DEFAULT_PAGE_SIZE, next_cursor};
use crate::{
    domain::{
        delivery_status::DeliveryStatus,
        logs::{self, LogFilter},
        named::Named,
        ordered,
        org::OrgId,
        publish,
        scope::Scope,
        webhooks,
    },
    http::{
        auth::BearerAuth,
        error::{ApiError, ApiResult},
        state::AppState,
        timestamp::Timestamp,
    },
};

pub struct DeliveriesApi;

/// One row of a webhook's log: one attempt.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct LogRow {
    id: String,
    /// When the delivery was attempted.
    timestamp: Timestamp,
    /// Event type.
    event: String,
    /// The delivery's state after this attempt.
    status: DeliveryStatus,
    /// HTTP status from your server; absent when none came (timeout, refused connection).
    #[oai(skip_serializing_if_is_none)]
    response_code: Option<i32>,
    /// Round-trip time in ms.
    duration_ms: i64,
    /// 1 for the first attempt, 2 for the first retry, ...
    attempt: i32,
    delivery_id: String,
    event_id: String,
    /// What went wrong, in plain words.
    #[oai(skip_serializing_if_is_none)]
    error: Option<String>,
    /// The first 2 KiB of your server's answer.
    #[oai(skip_serializing_if_is_none)]
    response_body: Option<String>,
}

impl From<delivery_attempt::Model> for LogRow {
    fn from(row: delivery_attempt::Model) -> Self {
        Self {
            id: row.id,
            timestamp: row.created_at.into(),
            event: row.event_type,
            status: DeliveryStatus::from_db(&row.status),
            response_code: row.response_code,
            duration_ms: row.duration_ms,
            attempt: row.attempt,
            delivery_id: row.delivery_id,
            event_id: row.event_id,
            error: row.error,
            response_body: row.response_body,
        }
    }
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct LogPage {
    data: Vec<LogRow>,
    #[oai(skip_serializing_if_is_none)]
    next_cursor: Option<String>,
}

/// One event on its way to this webhook.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct DeliveryOut {
    id: String,
    event_id: String,
    event: String,
    status: DeliveryStatus,
    /// Attempts made so far.
    attempts: i32,
    /// When the next attempt is due (pending deliveries only).
    #[oai(skip_serializing_if_is_none)]
    next_attempt_at: Option<Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    last_response_code: Option<i32>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<delivery::Model> for DeliveryOut {
    fn from(row: delivery::Model) -> Self {
        let status = DeliveryStatus::from_db(&row.status);
        Self {
            // A delivery waiting in its ordered webhook's line has no time of its own yet.
            next_attempt_at: (status == DeliveryStatus::Pending && !ordered::is_parked(row.due_at))
                .then(|| chrono::DateTime::from_timestamp_millis(row.due_at).map(Timestamp))
                .flatten(),
            id: row.id,
            event_id: row.event_id,
            event: row.event_type,
            status,
            attempts: row.attempts,
            last_response_code: row.last_response_code,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        }
    }
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct DeliveryPage {
    data: Vec<DeliveryOut>,
    #[oai(skip_serializing_if_is_none)]
    next_cursor: Option<String>,
}

/// The test event just queued.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct TestSent {
    event_id: String,
    delivery_id: String,
}

#[derive(ApiResponse)]
enum LogResponse {
    /// A page of the log, newest first.
    #[oai(status = 200)]
    Ok(Json<LogPage>),
}

#[derive(ApiResponse)]
enum DeliveriesResponse {
    /// A page of deliveries, newest first.
    #[oai(status = 200)]
    Ok(Json<DeliveryPage>),
}

#[derive(ApiResponse)]
enum RetryResponse {
    /// The delivery is due now; its attempt will appear in the log.
    #[oai(status = 202)]
    Accepted(Json<DeliveryOut>),
}

#[derive(ApiResponse)]
enum TestResponse {
    /// A `webhook.test` event is on its way.
    #[oai(status = 202)]
    Accepted(Json<TestSent>),
}

async fn require_webhook(state: &AppState, org: &OrgId, id: &str) -> ApiResult<()> {
    if webhooks::exists(&state.db, org, id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("webhook", id))
    }
}

#[OpenApi(tag = "ApiTags::Deliveries")]
impl DeliveriesApi {
    /// Send a test event
    ///
    /// Queues a `webhook.test` event for this webhook only (also sent when a webhook is created).
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks/:id/test",
        method = "post",
        operation_id = "testWebhook"
    )]
    async fn test(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Webhook id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
    ) -> ApiResult<TestResponse> {
        auth.0.require(Scope::Webhooks)?;
        require_webhook(&state, &auth.0.org, &id).await?;
        state.manual_sends(&auth.0.org)?;
        let store = &state.store;
        let (event_id, delivery_id) =
            publish::send_test_event(&store.db, &store.wake, &auth.0.org, &id).await?;
        Ok(TestResponse::Accepted(Json(TestSent {
            event_id,
            delivery_id,
        })))
    }

    /// A webhook's delivery log
    ///
    /// One row per attempt: timestamp, event, status, response code, duration, attempt number,
    /// error and the start of the answer. Newest first; filter by `status` and `event`, or find
    /// one event or delivery with `search`.
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks/:id/logs",
        method = "get",
        operation_id = "listWebhookLogs"
    )]
    #[allow(clippy::too_many_arguments)] // one per documented query parameter
    async fn logs(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Webhook id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
        /// Only rows whose delivery ended in this state after the attempt.
        status: Query<Option<DeliveryStatus>>,
        /// Only this event type.
        #[oai(validator(max_length = 100))]
        event: Query<Option<String>>,
        /// Only the attempts of this event id (the `id` a receiver logs, e.g. `wamid.123`) or
        /// of this delivery id (`X-Kaanha-Delivery`).
        #[oai(validator(max_length = 200))]
        search: Query<Option<String>>,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<LogResponse> {
        auth.0.require(Scope::Webhooks)?;
        require_webhook(&state, &auth.0.org, &id).await?;
        let limit = limit.0.unwrap_or(DEFAULT_PAGE_SIZE);
        let filter = LogFilter {
            status: status.0.map(DeliveryStatus::as_str),
            event_type: event.0.as_deref(),
            search: search.0.as_deref().filter(|s| !s.is_empty()),
            cursor: cursor.0.as_deref(),
        };
        let mut rows =
            logs::log_page(&state.db, &auth.0.org, &id, filter, u64::from(limit) + 1).await?;
        let next_cursor = next_cursor(&mut rows, limit, |r| r.id.clone());
        Ok(LogResponse::Ok(Json(LogPage {
            data: rows.into_iter().map(Into::into).collect(),
            next_cursor,
        })))
    }

    /// A webhook's deliveries
    ///
    /// Each delivery's state, attempts so far and next attempt time. Newest first.
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks/:id/deliveries",
        method = "get",
        operation_id = "listWebhookDeliveries"
    )]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Webhook id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
        /// Only deliveries in this state.
        status: Query<Option<DeliveryStatus>>,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<DeliveriesResponse> {
        auth.0.require(Scope::Webhooks)?;
        require_webhook(&state, &auth.0.org, &id).await?;
        let limit = limit.0.unwrap_or(DEFAULT_PAGE_SIZE);
        let mut rows = logs::delivery_page(
            &state.db,
            &auth.0.org,
            &id,
            status.0.map(DeliveryStatus::as_str),
            cursor.0.as_deref(),
            u64::from(limit) + 1,
        )
        .await?;
        let next_cursor = next_cursor(&mut rows, limit, |r| r.id.clone());
        Ok(DeliveriesResponse::Ok(Json(DeliveryPage {
            data: rows.into_iter().map(Into::into).collect(),
            next_cursor,
        })))
    }

    /// Retry a failed delivery now
    ///
    /// One more attempt, at once. Only `failed` deliveries can be retried (409 otherwise).
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks/:id/deliveries/:delivery_id/retry",
        method = "post",
        operation_id = "retryDelivery"
    )]
    async fn retry(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Webhook id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
        /// Delivery id.
        #[oai(validator(max_length = 100))]
        delivery_id: Path<String>,
    ) -> ApiResult<RetryResponse> {
        auth.0.require(Scope::Webhooks)?;
        let found = logs::find(&state.db, &auth.0.org, &id, &delivery_id)
            .await?
            .ok_or_else(|| ApiError::not_found("delivery", &delivery_id))?;
        state.manual_sends(&auth.0.org)?;
        let Some(updated) = logs::retry_now(&state.store, &found).await? else {
            return Err(ApiError::conflict(format!(
                "Only failed deliveries can be retried; this one is {}.",
                found.status
            )));
        };
        Ok(RetryResponse::Accepted(Json(updated.into())))
    }
}

use std::sync::Arc;

use entity::delivery;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{ApiTags, DEFAULT_PAGE_SIZE, cursor_id, paged, require_webhook};
use crate::{
    domain::{delivery_status::DeliveryStatus, logs, named::Named, ordered, publish, scope::Scope},
    http::{
        auth::BearerAuth,
        error::{ApiError, ApiResult},
        state::AppState,
        timestamp::Timestamp,
    },
    infra::ids,
};

pub struct DeliveriesApi;

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
            id: ids::show(ids::DELIVERY, &row.id),
            event_id: row.event_id,
            event: row.event_type,
            status,
            attempts: row.attempts,
            last_response_code: row.last_response_code,
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
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
        let webhook = require_webhook(&state, &auth.0.org, &id).await?;
        state.manual_sends(&auth.0.org)?;
        let store = &state.store;
        let (event_id, delivery_id) =
            publish::send_test_event(&store.db, &store.wake, &auth.0.org, webhook).await?;
        Ok(TestResponse::Accepted(Json(TestSent {
            event_id,
            delivery_id,
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
        /// Only deliveries in this state. Such a page looks through at most the next 1,000 of
        /// the webhook's deliveries: it can hold fewer than `limit`, even none, and still carry
        /// a `nextCursor`.
        status: Query<Option<DeliveryStatus>>,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<DeliveriesResponse> {
        auth.0.require(Scope::Webhooks)?;
        let webhook = require_webhook(&state, &auth.0.org, &id).await?;
        let limit = limit.0.unwrap_or(DEFAULT_PAGE_SIZE);
        let page = logs::delivery_page(
            &state.db,
            &auth.0.org,
            webhook,
            status.0.map(DeliveryStatus::as_str),
            cursor_id(ids::DELIVERY, cursor.0.as_deref())?,
            u64::from(limit) + 1,
        )
        .await?;
        let (rows, next_cursor) = paged(page, limit, ids::DELIVERY, |r| r.id);
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
        let missing = || ApiError::not_found("delivery", &delivery_id);
        let found_id = ids::parse(ids::DELIVERY, &delivery_id).ok_or_else(missing)?;
        let webhook = ids::parse(ids::WEBHOOK, &id).ok_or_else(missing)?;
        let found = logs::find(&state.db, &auth.0.org, webhook, found_id)
            .await?
            .ok_or_else(missing)?;
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

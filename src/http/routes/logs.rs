//! The delivery log: one webhook's attempts, and one event or delivery found across every
//! webhook of the organization.

use std::sync::Arc;

use entity::delivery_attempt;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{ApiTags, DEFAULT_PAGE_SIZE, cursor_id, paged, require_webhook};
use crate::{
    domain::{
        delivery_status::DeliveryStatus,
        log_filter::LogFilter,
        logs::{self, DeliveryNow},
        named::Named,
        org::OrgId,
        scope::Scope,
        stretch::Page,
    },
    http::{
        auth::BearerAuth,
        error::{ApiError, ApiResult},
        state::AppState,
        timestamp::Timestamp,
    },
    infra::ids,
};

pub struct LogsApi;

/// One row of the log: one attempt.
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
    /// The delivery's state now (a later attempt, a retry by hand or a recover may have
    /// changed it).
    #[oai(skip_serializing_if_is_none)]
    delivery_status: Option<DeliveryStatus>,
    /// HTTP status from your server; absent when none came (timeout, refused connection).
    #[oai(skip_serializing_if_is_none)]
    response_code: Option<i32>,
    /// Round-trip time in ms.
    duration_ms: i64,
    /// 1 for the first attempt, 2 for the first retry, ...
    attempt: i32,
    webhook_id: String,
    delivery_id: String,
    event_id: String,
    /// What went wrong, in plain words.
    #[oai(skip_serializing_if_is_none)]
    error: Option<String>,
    /// The first 2 KiB of your server's answer.
    #[oai(skip_serializing_if_is_none)]
    response_body: Option<String>,
}

impl LogRow {
    fn of(row: delivery_attempt::Model, delivery: DeliveryNow) -> Self {
        Self {
            id: ids::show(ids::ATTEMPT, &row.id),
            timestamp: Timestamp::from_millis(row.created_at),
            event: row.event_type,
            status: DeliveryStatus::from_db(&row.status),
            delivery_status: Some(DeliveryStatus::from_db(&delivery.status)),
            response_code: row.response_code,
            duration_ms: row.duration_ms,
            attempt: row.attempt,
            webhook_id: ids::show(ids::WEBHOOK, &row.webhook_id),
            delivery_id: ids::show(ids::DELIVERY, &row.delivery_id),
            event_id: delivery.event_id,
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

#[derive(ApiResponse)]
enum LogResponse {
    /// A page of the log, newest first.
    #[oai(status = 200)]
    Ok(Json<LogPage>),
}

impl LogResponse {
    /// The page's rows, each with its delivery's state now and its event's id (one read of the
    /// page's deliveries). A row whose delivery is gone by then (pruned, or its webhook purged:
    /// its attempts go with it) is left out.
    async fn page(
        state: &AppState,
        org: &OrgId,
        page: Page<delivery_attempt::Model>,
        limit: u32,
    ) -> ApiResult<Self> {
        let (rows, next_cursor) = paged(page, limit, ids::ATTEMPT, |r| r.id);
        let deliveries: Vec<_> = rows.iter().map(|r| r.delivery_id).collect();
        let now = logs::deliveries_now(&state.db, org, &deliveries).await?;
        let data = rows
            .into_iter()
            .filter_map(|row| {
                let delivery = now.get(&row.delivery_id)?.clone();
                Some(LogRow::of(row, delivery))
            })
            .collect();
        Ok(Self::Ok(Json(LogPage { data, next_cursor })))
    }
}

/// `since` must come before `until`.
fn time_range(
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> ApiResult<(Option<Timestamp>, Option<Timestamp>)> {
    match (since, until) {
        (Some(since), Some(until)) if since.0 >= until.0 => {
            Err(ApiError::field("until", "must be later than `since`"))
        }
        range => Ok(range),
    }
}

#[OpenApi(tag = "ApiTags::Deliveries")]
impl LogsApi {
    /// A webhook's delivery log
    ///
    /// One row per attempt: timestamp, event, status, response code, duration, attempt number,
    /// error and the start of the answer. Newest first; filter by `status`, `event` and time
    /// (`since`, `until`), or find one event or delivery with `search`. A page filtered by
    /// `event` or `status=delivered` looks through at most the next 1,000 rows of the log: it
    /// can hold fewer than `limit`, even none, and still carry a `nextCursor`.
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
        /// Only attempts made at or after this time (RFC 3339, e.g. `2026-11-30T12:00:00Z`).
        since: Query<Option<Timestamp>>,
        /// Only attempts made before this time (RFC 3339).
        until: Query<Option<Timestamp>>,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<LogResponse> {
        auth.0.require(Scope::Webhooks)?;
        let (since, until) = time_range(since.0, until.0)?;
        let webhook = require_webhook(&state, &auth.0.org, &id).await?;
        let limit = limit.0.unwrap_or(DEFAULT_PAGE_SIZE);
        let filter = LogFilter {
            status: status.0.map(DeliveryStatus::as_str),
            event_type: event.0.as_deref(),
            search: search.0.as_deref().filter(|s| !s.is_empty()),
            since: since.map(|t| t.0),
            until: until.map(|t| t.0),
            cursor: cursor_id(ids::ATTEMPT, cursor.0.as_deref())?,
        };
        let page = logs::log_page(
            &state.db,
            &auth.0.org,
            Some(webhook),
            filter,
            u64::from(limit) + 1,
        )
        .await?;
        LogResponse::page(&state, &auth.0.org, page, limit).await
    }

    /// Find an event or delivery across webhooks
    ///
    /// Every attempt of this event id (the `id` a receiver logs, e.g. `wamid.123`) or delivery
    /// id, to whichever of the organization's webhooks it went, newest first; each row names
    /// its `webhookId`.
    ///
    /// Needs the `webhooks` scope.
    #[oai(path = "/api/logs", method = "get", operation_id = "searchLogs")]
    async fn search(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// The event id or delivery id.
        #[oai(validator(min_length = 1, max_length = 200))]
        search: Query<String>,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<LogResponse> {
        auth.0.require(Scope::Webhooks)?;
        let limit = limit.0.unwrap_or(DEFAULT_PAGE_SIZE);
        let filter = LogFilter {
            search: Some(search.0.as_str()),
            cursor: cursor_id(ids::ATTEMPT, cursor.0.as_deref())?,
            ..LogFilter::default()
        };
        let page =
            logs::log_page(&state.db, &auth.0.org, None, filter, u64::from(limit) + 1).await?;
        LogResponse::page(&state, &auth.0.org, page, limit).await
    }
}

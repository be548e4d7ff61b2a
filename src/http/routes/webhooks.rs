use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use uuid::Uuid;

use super::{
    ApiTags, DEFAULT_PAGE_SIZE, cursor_id, next_cursor,
    webhook_bodies::{WebhookIn, WebhookOut, WebhookPage, WebhookPatch, parse_changes, parse_new},
    webhook_id,
};
use crate::{
    domain::{
        scope::Scope,
        webhooks::{self},
    },
    http::{
        auth::BearerAuth,
        body::JsonBody,
        error::{ApiError, ApiResult},
        state::AppState,
    },
    infra::ids,
};

pub struct WebhooksApi;

#[derive(ApiResponse)]
enum CreatedWebhook {
    /// The webhook was created.
    #[oai(status = 201)]
    Created(Json<WebhookOut>, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
enum OneWebhook {
    /// The webhook.
    #[oai(status = 200)]
    Ok(Json<WebhookOut>),
}

#[derive(ApiResponse)]
enum WebhookList {
    /// A page of webhooks.
    #[oai(status = 200)]
    Ok(Json<WebhookPage>),
}

#[derive(ApiResponse)]
enum Deleted {
    /// The webhook, its subscriptions and its delivery log are gone.
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(tag = "ApiTags::Webhooks")]
impl WebhooksApi {
    /// Create a webhook
    ///
    /// Validates every field at once: an unknown event type, a URL that is not `https` or
    /// not public, a too-short secret each get a 422 naming the field. An active webhook is
    /// sent a `webhook.test` event at once; its outcome appears in the webhook's log.
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks",
        method = "post",
        operation_id = "createWebhook"
    )]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<WebhookIn>,
    ) -> ApiResult<CreatedWebhook> {
        auth.0.require(Scope::Webhooks)?;
        let new = parse_new(&state, body.read().await?).await?;
        if new.gets_test_event() {
            state.webhook_creations(&auth.0.org)?;
        }
        let webhook = webhooks::insert(&state.store, &auth.0.org, new).await?;
        let location = format!("/api/webhooks/{}", ids::show(ids::WEBHOOK, &webhook.row.id));
        Ok(CreatedWebhook::Created(Json(webhook.into()), location))
    }

    /// List webhooks
    ///
    /// Newest first, `limit` per page (1–100, default 20); follow `nextCursor` for more.
    ///
    /// Needs the `webhooks` scope.
    #[oai(path = "/api/webhooks", method = "get", operation_id = "listWebhooks")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<WebhookList> {
        auth.0.require(Scope::Webhooks)?;
        let limit = limit.0.unwrap_or(DEFAULT_PAGE_SIZE);
        let mut page = webhooks::list(
            &state.db,
            &auth.0.org,
            cursor_id(ids::WEBHOOK, cursor.0.as_deref())?,
            u64::from(limit) + 1,
        )
        .await?;
        let next_cursor = next_cursor(&mut page, limit, |w| ids::show(ids::WEBHOOK, &w.row.id));
        let on_page: Vec<Uuid> = page.iter().map(|w| w.row.id).collect();
        let mut newest =
            crate::domain::logs::newest_attempts(&state.db, &auth.0.org, &on_page).await?;
        let data = page
            .into_iter()
            .map(|webhook| {
                let last = newest
                    .iter()
                    .position(|a| a.webhook_id == webhook.row.id)
                    .map(|i| newest.swap_remove(i));
                WebhookOut::listed(webhook, last)
            })
            .collect();
        Ok(WebhookList::Ok(Json(WebhookPage { data, next_cursor })))
    }

    /// Get a webhook
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks/:id",
        method = "get",
        operation_id = "getWebhook"
    )]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Webhook id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
    ) -> ApiResult<OneWebhook> {
        auth.0.require(Scope::Webhooks)?;
        let webhook = webhooks::find(&state.db, &auth.0.org, webhook_id(&id)?)
            .await?
            .ok_or_else(|| ApiError::not_found("webhook", &id))?;
        Ok(OneWebhook::Ok(Json(webhook.into())))
    }

    /// Update a webhook
    ///
    /// Only the fields sent change. `"secret": null` removes the secret; `"status":
    /// "disabled"` pauses deliveries without losing the webhook.
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks/:id",
        method = "patch",
        operation_id = "updateWebhook"
    )]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Webhook id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
        body: JsonBody<WebhookPatch>,
    ) -> ApiResult<OneWebhook> {
        auth.0.require(Scope::Webhooks)?;
        let changes = parse_changes(&state, body.read().await?).await?;
        let webhook = webhooks::update(&state.store, &auth.0.org, webhook_id(&id)?, changes)
            .await?
            .ok_or_else(|| ApiError::not_found("webhook", &id))?;
        Ok(OneWebhook::Ok(Json(webhook.into())))
    }

    /// Delete a webhook
    ///
    /// Removes the webhook with its pending deliveries and its log.
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks/:id",
        method = "delete",
        operation_id = "deleteWebhook"
    )]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Webhook id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
    ) -> ApiResult<Deleted> {
        auth.0.require(Scope::Webhooks)?;
        if webhooks::delete(&state.db, &auth.0.org, webhook_id(&id)?).await? {
            Ok(Deleted::NoContent)
        } else {
            Err(ApiError::not_found("webhook", &id))
        }
    }
}

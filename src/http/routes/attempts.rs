//! `GET /api/webhooks/{id}/logs/{attemptId}/request`: the request one attempt sent — URL, headers
//! (signatures included, the secret never) and the exact body — for the console's log details.

use std::sync::Arc;

use entity::{delivery, delivery_attempt, event};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::ApiTags;
use crate::{
    delivery::request,
    domain::{scope::Scope, webhooks},
    http::{
        auth::BearerAuth,
        error::{ApiError, ApiResult},
        state::AppState,
    },
    infra::{ids, time},
};

pub struct AttemptsApi;

#[derive(Debug, Object)]
struct HeaderOut {
    name: String,
    value: String,
}

/// The request of one attempt.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct AttemptRequestOut {
    method: String,
    url: String,
    /// As the attempt sent them. Signatures are made again with the webhook's current secret
    /// (and a rotated one while its overlap lasts): after a secret change they differ from what
    /// was sent then.
    headers: Vec<HeaderOut>,
    /// The exact bytes sent (and signed), the same for every attempt of the delivery.
    body: String,
}

#[derive(ApiResponse)]
enum AttemptRequestResponse {
    /// The request.
    #[oai(status = 200)]
    Ok(Json<AttemptRequestOut>),
}

#[OpenApi(tag = "ApiTags::Deliveries")]
impl AttemptsApi {
    /// The request an attempt sent
    ///
    /// URL, headers and body of one row of the log; the secret is never shown.
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks/:id/logs/:attempt_id/request",
        method = "get",
        operation_id = "getAttemptRequest"
    )]
    async fn request(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Webhook id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
        /// The log row's id.
        #[oai(validator(max_length = 100))]
        attempt_id: Path<String>,
    ) -> ApiResult<AttemptRequestResponse> {
        auth.0.require(Scope::Webhooks)?;
        let org = &auth.0.org;
        let webhook_id = super::webhook_id(&id)?;
        let webhook = webhooks::find(&state.db, org, webhook_id)
            .await?
            .ok_or_else(|| ApiError::not_found("webhook", &id))?;
        let missing = || ApiError::not_found("attempt", &attempt_id);
        let attempt_id = ids::parse(ids::ATTEMPT, &attempt_id).ok_or_else(missing)?;
        let attempt = delivery_attempt::Entity::find_by_id(attempt_id)
            .filter(delivery_attempt::Column::OrgId.eq(org.as_str()))
            .filter(delivery_attempt::Column::WebhookId.eq(webhook_id))
            .one(&state.db)
            .await?
            .ok_or_else(missing)?;
        let delivery_id = ids::show(ids::DELIVERY, &attempt.delivery_id);
        let gone = || ApiError::not_found("delivery of this attempt", &delivery_id);
        let delivery = delivery::Entity::find_by_id(attempt.delivery_id)
            .one(&state.db)
            .await?
            .ok_or_else(gone)?;
        let payload =
            event::Entity::find_by_id((delivery.event_id.clone(), delivery.org_id.clone()))
                .one(&state.db)
                .await?
                .ok_or_else(gone)?
                .payload;
        let (at, secrets) = (time::from_millis(attempt.created_at), &state.store.secrets);
        // Only a key missing from the configuration makes this fail: the operator's to fix.
        let sent = request::headers(&delivery, &webhook.row, &payload, at, secrets)
            .map_err(|err| ApiError::internal(&err))?;
        let mut headers: Vec<HeaderOut> = sent
            .iter()
            .map(|(name, value)| HeaderOut {
                name: name.to_string(),
                value: value.to_str().unwrap_or_default().to_owned(),
            })
            .collect();
        headers.push(HeaderOut {
            name: "user-agent".into(),
            value: concat!("kaanha-gateway/", env!("CARGO_PKG_VERSION")).into(),
        });
        headers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(AttemptRequestResponse::Ok(Json(AttemptRequestOut {
            method: "POST".into(),
            url: webhook.row.url,
            headers,
            body: payload,
        })))
    }
}

//! The rest of the no-code API: who a key is, sample data for a trigger, and running actions.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde_json::Value;

use super::ApiTags;
use crate::{
    catalog::{self},
    domain::{
        actions::{self},
        publish::samples,
        scope::Scope,
        subscriptions::trigger_filters,
    },
    http::{
        auth::{BearerAuth, Credential},
        body::{BodyLimit, JsonBody},
        error::{ApiError, ApiResult},
        schema_types::*,
        state::AppState,
    },
};

/// How many real events a sample list holds at most.
const SAMPLES: usize = 3;

pub struct IntegrationsApi;

/// Who a credential is: the platforms' connection test and label.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct Me {
    organization_id: String,
    /// `apiKey` or `service`.
    credential: String,
    #[oai(skip_serializing_if_is_none)]
    key_id: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    key_name: Option<String>,
    scopes: Vec<String>,
    /// A name for the connection, e.g. `Kaanha AI · clx123 · Zapier key`.
    label: String,
}

#[derive(ApiResponse)]
enum MeResponse {
    /// The credential is valid.
    #[oai(status = 200)]
    Ok(Json<Me>),
}

#[derive(ApiResponse)]
enum SamplesResponse {
    /// Up to three recent events of the type, newest first, exactly as delivered; the
    /// catalog's sample when there are none yet.
    #[oai(status = 200)]
    Ok(Json<Vec<Value>>),
}

#[derive(ApiResponse)]
enum ActionResponse {
    /// What the platform answered.
    #[oai(status = 200)]
    Ok(Json<Value>),
}

impl BodyLimit for JsonObject {}

#[OpenApi(tag = "ApiTags::Integrations")]
impl IntegrationsApi {
    /// Who am I
    ///
    /// The organization and key behind the credential: test a connection with it and label it.
    ///
    /// Needs the `integrations` scope.
    #[oai(path = "/api/integrations/me", method = "get", operation_id = "me")]
    async fn me(&self, auth: BearerAuth) -> ApiResult<MeResponse> {
        auth.0.require(Scope::Integrations)?;
        let principal = auth.0;
        let (credential, key_id, key_name) = match principal.credential {
            Credential::ApiKey { id, name } => ("apiKey", Some(id), Some(name)),
            Credential::Service { subject } => ("service", None, subject),
        };
        let label = match &key_name {
            Some(name) => format!("Kaanha AI · {} · {name}", principal.org),
            None => format!("Kaanha AI · {}", principal.org),
        };
        Ok(MeResponse::Ok(Json(Me {
            organization_id: principal.org.to_string(),
            credential: credential.into(),
            key_id,
            key_name,
            scopes: principal
                .scopes
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            label,
        })))
    }

    /// Sample events for a trigger
    ///
    /// What Zapier's `performList`, Make's and n8n's test steps show: an array of recent
    /// deliveries of the type, each with its `id`.
    ///
    /// Needs the `integrations` scope.
    #[oai(
        path = "/api/integrations/triggers/:event/samples",
        method = "get",
        operation_id = "triggerSamples"
    )]
    async fn samples(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// The event (`message.received`) or trigger key (`message_received`).
        #[oai(validator(max_length = 100))]
        event: Path<String>,
        /// The trigger's filters as JSON, e.g. `{"message_type": "text"}`: only events that
        /// pass them are shown, as only those would be delivered.
        #[oai(validator(max_length = 2048))]
        filters: Query<Option<String>>,
    ) -> ApiResult<SamplesResponse> {
        auth.0.require(Scope::Integrations)?;
        let event_type = catalog::subscribable()
            .find(|e| e.name == event.0 || e.key() == event.0)
            .ok_or_else(|| ApiError::not_found("trigger", &event))?;
        let filters = match filters.0.as_deref() {
            None | Some("") => None,
            Some(text) => {
                let given: Value = serde_json::from_str(text)
                    .map_err(|_| ApiError::field("filters", "must be a JSON object"))?;
                trigger_filters(event_type, &given).map_err(ApiError::validation)?
            }
        };
        let org = &auth.0.org;
        let found = samples::recent(&state.db, org, event_type, filters.as_ref(), SAMPLES).await?;
        let mut samples: Vec<Value> = found.into_iter().map(|(_, body)| body).collect();
        if samples.is_empty() {
            samples.push(samples::catalog_sample(event_type, org));
        }
        Ok(SamplesResponse::Ok(Json(samples)))
    }

    /// Run an action
    ///
    /// Checks the input against the action's fields (422 naming every bad one), then forwards
    /// it to the platform's API with a short-lived token naming the organization and key.
    /// 503 when no platform API is configured; 502 when it fails or refuses.
    ///
    /// Needs the `integrations` scope.
    #[oai(
        path = "/api/integrations/actions/:key",
        method = "post",
        operation_id = "runAction"
    )]
    async fn run_action(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// The action's key, e.g. `send_message`.
        #[oai(validator(max_length = 100))]
        key: Path<String>,
        body: JsonBody<JsonObject>,
    ) -> ApiResult<ActionResponse> {
        auth.0.require(Scope::Integrations)?;
        let action =
            catalog::find_action(&key).ok_or_else(|| ApiError::not_found("action", &key))?;
        let body = body.read().await?;
        let input = actions::validate(action, &body.0).map_err(ApiError::validation)?;
        let upstream = state.upstream()?;
        let answer = upstream
            .run(action, &auth.0.org, &auth.0.caller(), input)
            .await;
        Ok(ActionResponse::Ok(Json(answer.map_err(|err| {
            ApiError::upstream_failed(&format!("`{}`", action.key), &auth.0.org, &err)
        })?)))
    }
}

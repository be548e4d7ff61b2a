//! What no-code platforms ask of the platform's API beside actions: the pages of a dropdown
//! (`GET /api/integrations/lists/{key}`) and the generic API call (`POST /api/integrations/call`).
//! Both go only to `KAANHA_UPSTREAM_URL`, with a short-lived token naming the organization.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde::Deserialize;
use serde_json::Value;

use super::ApiTags;
use crate::{
    catalog::lists,
    domain::{
        actions::{ApiCall, ApiCallRequest, Choices, ListPage},
        scope::Scope,
    },
    http::{
        auth::BearerAuth,
        body::{BodyLimit, JsonBody},
        error::{ApiError, ApiResult},
        schema_types::JsonObject,
        state::AppState,
    },
};

/// Items a dropdown page holds unless asked for fewer.
const DEFAULT_PAGE: u32 = 50;

pub struct UpstreamApi;

/// One choice of a dropdown.
#[derive(Debug, Object)]
struct ChoiceOut {
    /// What is sent when it is picked (e.g. a contact's id).
    value: String,
    /// What the user sees (e.g. the contact's name).
    label: String,
}

/// A page of choices.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct ChoicePage {
    items: Vec<ChoiceOut>,
    /// Pass it as `cursor` for the next page; absent on the last.
    #[oai(skip_serializing_if_is_none)]
    next_cursor: Option<String>,
}

impl From<Choices> for ChoicePage {
    fn from(choices: Choices) -> Self {
        Self {
            items: choices
                .items
                .into_iter()
                .map(|c| ChoiceOut {
                    value: c.value,
                    label: c.label,
                })
                .collect(),
            next_cursor: choices.next_cursor,
        }
    }
}

#[derive(ApiResponse)]
enum ListResponse {
    /// A page of the list.
    #[oai(status = 200)]
    Ok(Json<ChoicePage>),
}

/// A request to the platform's API, as a user writes it in "Make an API call".
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct ApiCallIn {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    #[oai(validator(max_length = 10))]
    method: String,
    /// The path below the platform's API, e.g. `/api/contacts/clx123`; it must lie below one
    /// of the prefixes this gateway allows (`KAANHA_UPSTREAM_CALL_PREFIXES`).
    #[oai(validator(max_length = 512))]
    path: String,
    /// Query parameters: strings, numbers, booleans or lists (sent comma-separated).
    #[serde(default)]
    query: Option<JsonObject>,
    /// A JSON body (not with `GET`).
    #[serde(default)]
    body: Option<Value>,
}

impl BodyLimit for ApiCallIn {}

/// What the platform answered.
#[derive(Debug, Object)]
struct ApiCallOut {
    /// The platform's HTTP status, whatever it was.
    status: u16,
    /// Its answer: JSON when it was JSON, else its text; `null` when empty.
    body: Value,
}

#[derive(ApiResponse)]
enum ApiCallResponse {
    /// The platform answered (see `status`).
    #[oai(status = 200)]
    Ok(Json<ApiCallOut>),
}

#[OpenApi(tag = "ApiTags::Integrations")]
impl UpstreamApi {
    /// A dropdown's choices
    ///
    /// A page of one of the lists that input fields name (`list` in discovery: `contacts`,
    /// `conversations`, `tags`), read from the platform's API: Zapier's dynamic dropdowns,
    /// Make's RPCs, n8n's list search. 503 when no platform API is configured.
    ///
    /// Needs the `integrations` scope.
    #[oai(
        path = "/api/integrations/lists/:key",
        method = "get",
        operation_id = "listChoices"
    )]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// The list, e.g. `contacts`.
        #[oai(validator(max_length = 100))]
        key: Path<String>,
        /// What the user typed, to narrow the choices.
        #[oai(validator(max_length = 200))]
        q: Query<Option<String>>,
        /// `nextCursor` of the page before.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
    ) -> ApiResult<ListResponse> {
        auth.0.require(Scope::Integrations)?;
        let source = lists::find(&key).ok_or_else(|| ApiError::not_found("list", &key))?;
        let page = ListPage {
            query: q.0.filter(|q| !q.is_empty()),
            cursor: cursor.0.filter(|c| !c.is_empty()),
            limit: limit.0.unwrap_or(DEFAULT_PAGE),
        };
        let choices = state
            .upstream()?
            .list(source, &auth.0.org, &auth.0.caller(), page)
            .await
            .map_err(|err| {
                ApiError::upstream_failed(&format!("the `{}` list", source.key), &auth.0.org, &err)
            })?;
        Ok(ListResponse::Ok(Json(choices.into())))
    }

    /// Make an API call
    ///
    /// Any request to the platform's API below the allowed path prefixes, for what no action
    /// covers; the organization is the credential's, never one the request names. Answers
    /// what the platform answered, with its status. 422 for a path outside the prefixes or
    /// not plain; 503 when no platform API is configured.
    ///
    /// Needs the `integrations` scope.
    #[oai(
        path = "/api/integrations/call",
        method = "post",
        operation_id = "callApi"
    )]
    async fn call(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<ApiCallIn>,
    ) -> ApiResult<ApiCallResponse> {
        auth.0.require(Scope::Integrations)?;
        let upstream = state.upstream()?;
        let body = body.read().await?;
        let request = ApiCallRequest {
            method: body.method,
            path: body.path,
            query: body.query.and_then(|q| q.0.as_object().cloned()),
            body: body.body,
        };
        let call =
            ApiCall::parse(request, &upstream.call_prefixes).map_err(ApiError::validation)?;
        let answer = upstream
            .call(&auth.0.org, &auth.0.caller(), call)
            .await
            .map_err(|err| ApiError::upstream_failed("the API call", &auth.0.org, &err))?;
        Ok(ApiCallResponse::Ok(Json(ApiCallOut {
            status: answer.status,
            body: answer.body,
        })))
    }
}

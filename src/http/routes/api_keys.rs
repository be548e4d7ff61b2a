use std::sync::Arc;

use entity::api_key;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::Example,
};
use serde::Deserialize;

use super::{ApiTags, DEFAULT_PAGE_SIZE, next_cursor};
use crate::{
    domain::{
        keys::{self, NewKeyRequest},
        scope::Scope,
    },
    http::{
        auth::{BearerAuth, Credential},
        body::{BodyLimit, JsonBody},
        error::{ApiError, ApiResult},
        state::AppState,
        timestamp::Timestamp,
    },
};

pub struct ApiKeysApi;

/// A new API key for the caller's organization.
#[derive(Debug, Object, Deserialize)]
#[oai(example, deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct ApiKeyIn {
    /// A name to recognise the key by, e.g. "Zapier connection" (1–100 characters).
    name: String,
    /// Scopes to grant: `webhooks`, `integrations`, `events:publish`, `api-keys`. Default:
    /// `webhooks` and `integrations`.
    #[oai(default, validator(max_items = 16))]
    #[serde(default)]
    scopes: Vec<String>,
}

impl BodyLimit for ApiKeyIn {}

impl Example for ApiKeyIn {
    fn example() -> Self {
        Self {
            name: "Zapier connection".into(),
            scopes: vec!["webhooks".into(), "integrations".into()],
        }
    }
}

/// A key just created. `key` appears here once and is stored nowhere: keep it now.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct ApiKeyCreated {
    id: String,
    name: String,
    /// The first characters of the key, to tell keys apart in lists.
    prefix: String,
    /// The key itself: send it as `Authorization: Bearer <key>`.
    key: String,
    scopes: Vec<String>,
    created_at: Timestamp,
}

/// A key as lists show it: never the key itself.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct ApiKeyOut {
    id: String,
    name: String,
    prefix: String,
    scopes: Vec<String>,
    created_at: Timestamp,
    /// When the key was last checked by this gateway (to the nearest few seconds).
    #[oai(skip_serializing_if_is_none)]
    last_used_at: Option<Timestamp>,
    /// When the key was revoked; revoked keys no longer authenticate.
    #[oai(skip_serializing_if_is_none)]
    revoked_at: Option<Timestamp>,
}

fn scope_list(scopes: &str) -> Vec<String> {
    scopes.split_whitespace().map(str::to_owned).collect()
}

impl From<api_key::Model> for ApiKeyOut {
    fn from(row: api_key::Model) -> Self {
        Self {
            scopes: scope_list(&row.scopes),
            id: row.id,
            name: row.name,
            prefix: row.prefix,
            created_at: row.created_at.into(),
            last_used_at: row.last_used_at.map(Into::into),
            revoked_at: row.revoked_at.map(Into::into),
        }
    }
}

/// One page of keys, newest first.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct ApiKeyPage {
    data: Vec<ApiKeyOut>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    next_cursor: Option<String>,
}

#[derive(ApiResponse)]
enum CreatedKey {
    /// The key was created; this is the only time it is shown.
    #[oai(status = 201)]
    Created(Json<ApiKeyCreated>),
}

#[derive(ApiResponse)]
enum KeyList {
    /// A page of keys.
    #[oai(status = 200)]
    Ok(Json<ApiKeyPage>),
}

#[derive(ApiResponse)]
enum Revoked {
    /// The key is revoked (or already was).
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(tag = "ApiTags::ApiKeys")]
impl ApiKeysApi {
    /// Create an API key
    ///
    /// Needs the `api-keys` scope (normally a service JWT from the platform's back end). An
    /// API key may only grant scopes it holds itself.
    ///
    /// Needs the `api-keys` scope.
    #[oai(path = "/api/api-keys", method = "post", operation_id = "createApiKey")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<ApiKeyIn>,
    ) -> ApiResult<CreatedKey> {
        auth.0.require(Scope::ApiKeys)?;
        let body = body.read().await?;
        let request =
            NewKeyRequest::parse(&body.name, &body.scopes).map_err(ApiError::validation)?;
        let is_api_key = matches!(auth.0.credential, Credential::ApiKey { .. });
        if let Some(extra) = request.scopes.iter().find(|s| !auth.0.scopes.contains(s))
            && is_api_key
        {
            return Err(ApiError::forbidden(format!(
                "An API key cannot grant the `{extra}` scope, which it does not hold itself."
            )));
        }
        let quota = state.config.limits.max_api_keys_per_org;
        let created = keys::create(&state.db, &auth.0.org, request, quota).await?;
        Ok(CreatedKey::Created(Json(ApiKeyCreated {
            scopes: scope_list(&created.row.scopes),
            id: created.row.id,
            name: created.row.name,
            prefix: created.row.prefix,
            key: created.key,
            created_at: created.row.created_at.into(),
        })))
    }

    /// List API keys
    ///
    /// Newest first, revoked keys included (with `revokedAt`); never the keys themselves.
    ///
    /// Needs the `api-keys` scope.
    #[oai(path = "/api/api-keys", method = "get", operation_id = "listApiKeys")]
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
    ) -> ApiResult<KeyList> {
        auth.0.require(Scope::ApiKeys)?;
        let limit = limit.0.unwrap_or(DEFAULT_PAGE_SIZE);
        let mut page = keys::list(
            &state.db,
            &auth.0.org,
            cursor.0.as_deref(),
            u64::from(limit) + 1,
        )
        .await?;
        let next_cursor = next_cursor(&mut page, limit, |k| k.id.clone());
        Ok(KeyList::Ok(Json(ApiKeyPage {
            data: page.into_iter().map(Into::into).collect(),
            next_cursor,
        })))
    }

    /// Revoke an API key
    ///
    /// The key stops working at once on this gateway instance (within seconds on others). Like
    /// creating one, an API key may only revoke keys whose scopes it holds itself (a service JWT
    /// may revoke any key of its organization).
    ///
    /// Needs the `api-keys` scope.
    #[oai(
        path = "/api/api-keys/:id",
        method = "delete",
        operation_id = "revokeApiKey"
    )]
    async fn revoke(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// API key id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
    ) -> ApiResult<Revoked> {
        auth.0.require(Scope::ApiKeys)?;
        let target = keys::find(&state.db, &auth.0.org, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("API key", &id))?;
        let is_api_key = matches!(auth.0.credential, Credential::ApiKey { .. });
        let held = Scope::parse_list_lenient(&target.scopes);
        if let Some(extra) = held.iter().find(|s| !auth.0.scopes.contains(s))
            && is_api_key
        {
            return Err(ApiError::forbidden(format!(
                "An API key cannot revoke a key holding the `{extra}` scope, which it does not hold itself."
            )));
        }
        let row = keys::revoke(&state.db, Some(&auth.0.org), &id)
            .await?
            .ok_or_else(|| ApiError::not_found("API key", &id))?;
        state.auth.forget_key(&row.key_hash).await;
        Ok(Revoked::NoContent)
    }
}

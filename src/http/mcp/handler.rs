//! The MCP server itself: tools, resources and prompts for the credential of each request.
//! Every answer is computed from the caller the request carried (`Caller`), never from what
//! the session remembers, so a revoked key stops working at once inside an open session too.

use std::sync::Arc;

use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock,
        GetPromptRequestParams, GetPromptResponse, GetPromptResult, Implementation,
        ListPromptsResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
        ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, ServerCapabilities,
        ServerConfig,
    },
    service::RequestContext,
};
use serde_json::{Map, Value};

use super::{
    prompts, resources,
    rest::{Caller, Rest, RestAnswer},
    schema,
    tools::{self, Target},
};
use crate::{catalog::actions::ActionKind, domain::scope::Scope, http::state::AppState};

const INSTRUCTIONS: &str = "Kaanha AI's integration gateway. With the `integrations` scope: the \
    platform's actions and searches (contacts, conversations, messages, tags, payments), the \
    lists their fields take values from (`list_*`), and `api_call` for the rest; each acts on \
    the credential's own organization. With the `webhooks` scope: the delivery tools \
    (`list_webhooks`, `find_delivery`, `webhook_logs`, `retry_delivery`, `send_test_event`, \
    `recover_failed`) and the `debug_delivery` prompt, to find out why a webhook, Zap, scenario \
    or workflow did or did not fire. The platform's tools are offered only when this gateway \
    is connected to the platform's API.";

#[derive(Clone)]
pub struct KaanhaMcp {
    state: Arc<AppState>,
    rest: Arc<Rest>,
}

impl KaanhaMcp {
    pub fn new(state: Arc<AppState>, rest: Arc<Rest>) -> Self {
        Self { state, rest }
    }
}

/// The caller the HTTP layer attached to this request (`McpEndpoint` sets it on every one).
fn caller(context: &RequestContext<RoleServer>) -> Result<Caller, ErrorData> {
    context
        .extensions
        .get::<poem::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>())
        .cloned()
        .ok_or_else(|| ErrorData::internal_error("the request carries no credential", None))
}

/// A tool's failure as the agent reads it: the API's status and its words.
fn failed(text: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// `structuredContent` is always an object: a list (a search's matches) is wrapped. The
/// platform's `null`s are left out, as the output schemas made from samples do not allow them.
fn structured(target: &Target, value: Value) -> CallToolResult {
    let value = match target {
        Target::Action(_) => schema::without_nulls(value),
        _ => value,
    };
    let value = match (target, value) {
        (Target::Action(action), Value::Array(items)) if action.kind == ActionKind::Search => {
            Value::Object(Map::from_iter([(
                "results".to_owned(),
                Value::Array(items),
            )]))
        }
        (_, Value::Object(map)) => Value::Object(map),
        (_, other) => Value::Object(Map::from_iter([("result".to_owned(), other)])),
    };
    CallToolResult::structured(value)
}

impl ServerHandler for KaanhaMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(
            Implementation::new("kaanha-gateway", env!("CARGO_PKG_VERSION"))
                .with_title("Kaanha AI"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = caller(&context)?;
        let tools = tools::available(&caller.principal, self.state.upstream.as_ref());
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = caller(&context)?;
        // A tool the credential's scopes do not offer does not exist for it.
        let target = tools::find(
            &request.name,
            &caller.principal,
            self.state.upstream.as_ref(),
        )
        .ok_or_else(|| {
            ErrorData::invalid_params(format!("Unknown tool: {}", request.name), None)
        })?;
        let arguments = request.arguments.unwrap_or_default();
        let rest_request = match target.request(arguments) {
            Ok(rest_request) => rest_request,
            Err(errors) => {
                return Ok(failed(format!("Invalid arguments: {}.", errors.join("; "))).into());
            }
        };
        let result = match self.rest.send(&caller, rest_request).await {
            RestAnswer::Ok(value) => structured(&target, value),
            RestAnswer::Problem { status, detail } => failed(format!("{status}: {detail}")),
        };
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let caller = caller(&context)?;
        let resources = if caller.principal.scopes.contains(&Scope::Integrations) {
            resources::list()
        } else {
            Vec::new()
        };
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let caller = caller(&context)?;
        let not_found =
            || ErrorData::resource_not_found(format!("No resource {}", request.uri), None);
        if !caller.principal.scopes.contains(&Scope::Integrations) {
            return Err(not_found());
        }
        let rest_request = resources::request(&request.uri).ok_or_else(not_found)?;
        match self.rest.send(&caller, rest_request).await {
            RestAnswer::Ok(value) => {
                Ok(ReadResourceResult::new(vec![resources::contents(&request.uri, &value)]).into())
            }
            RestAnswer::Problem { status, detail } => Err(ErrorData::internal_error(
                format!("{status}: {detail}"),
                None,
            )),
        }
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let caller = caller(&context)?;
        let prompts = if caller.principal.scopes.contains(&Scope::Webhooks) {
            prompts::list()
        } else {
            Vec::new()
        };
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let caller = caller(&context)?;
        if request.name != prompts::DEBUG_DELIVERY
            || !caller.principal.scopes.contains(&Scope::Webhooks)
        {
            return Err(ErrorData::invalid_params(
                format!("Unknown prompt: {}", request.name),
                None,
            ));
        }
        let arguments = request.arguments.unwrap_or_default();
        let text = |name: &str| arguments.get(name).and_then(Value::as_str).map(str::trim);
        let reference = text("reference")
            .filter(|r| !r.is_empty() && r.len() <= 200)
            .ok_or_else(|| {
                ErrorData::invalid_params(
                    "`reference` is required: an event id or a delivery id, at most 200 characters",
                    None,
                )
            })?;
        let webhook = text("webhook").filter(|w| !w.is_empty() && w.len() <= 200);
        Ok(
            GetPromptResult::new(prompts::debug_delivery(reference, webhook))
                .with_description("Find and explain one delivery")
                .into(),
        )
    }
}

//! The tools a credential sees, made afresh for each call from the catalog and the tools that
//! are one route each: a catalog file adds tools without a rebuild, and a credential's scopes
//! decide which tools exist for it.

use std::sync::Arc;

use poem::http::Method;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use super::{
    rest::RestRequest,
    route_tools::{API_CALL, Arg, ArgKind, DELIVERY_TOOLS, LIST_ARGS, Place, RouteTool},
    schema,
};
use crate::{
    catalog::{
        self,
        actions::{Action, ActionKind},
        lists::{self, ListSource},
    },
    domain::{actions::Upstream, scope::Scope},
    http::auth::Principal,
};

/// What a tool call turns into.
pub enum Target {
    Action(&'static Action),
    List(&'static ListSource),
    Route(&'static RouteTool),
}

/// The tools `principal` may call. The platform's tools need its API (`KAANHA_UPSTREAM_URL`);
/// without it they would only fail, so they are not offered.
pub fn targets(principal: &Principal, upstream: Option<&Upstream>) -> Vec<Target> {
    let mut targets = Vec::new();
    if let Some(upstream) = upstream.filter(|_| principal.scopes.contains(&Scope::Integrations)) {
        targets.extend(catalog::all_actions().map(Target::Action));
        targets.extend(lists::LISTS.iter().map(Target::List));
        if !upstream.call_prefixes.paths().is_empty() {
            targets.push(Target::Route(&API_CALL));
        }
    }
    if principal.scopes.contains(&Scope::Webhooks) {
        targets.extend(DELIVERY_TOOLS.iter().map(Target::Route));
    }
    targets
}

/// Every tool `principal` may call, described.
pub fn available(principal: &Principal, upstream: Option<&Upstream>) -> Vec<Tool> {
    let targets = targets(principal, upstream);
    targets.iter().map(|target| target.tool(upstream)).collect()
}

/// The tool of this name, if `principal` may call it; nothing else is built.
pub fn find(name: &str, principal: &Principal, upstream: Option<&Upstream>) -> Option<Target> {
    targets(principal, upstream)
        .into_iter()
        .find(|target| target.name() == name)
}

impl Target {
    pub fn name(&self) -> String {
        match self {
            Self::Action(action) => action.key.to_owned(),
            Self::List(list) => schema::list_tool(list.key),
            Self::Route(route) => route.name.to_owned(),
        }
    }

    fn tool(&self, upstream: Option<&Upstream>) -> Tool {
        match self {
            Self::Action(action) => action_tool(action),
            Self::List(list) => list_tool(list),
            Self::Route(route) if route.name == API_CALL.name => {
                let prefixes = upstream
                    .map(|u| u.call_prefixes.paths())
                    .unwrap_or_default();
                let description = format!(
                    "{} Allowed path prefixes: {}.",
                    route.description,
                    prefixes.join(", ")
                );
                route_tool(route, description)
            }
            Self::Route(route) => route_tool(route, route.description.to_owned()),
        }
    }
}

fn action_tool(action: &'static Action) -> Tool {
    let mut description = format!("{} ({})", action.description, action.label);
    let required: Vec<&str> = action
        .input_fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.key)
        .collect();
    if !required.is_empty() {
        description.push_str(&format!(" Needs: {}.", required.join(", ")));
    }
    if action.kind == ActionKind::Search {
        description.push_str(" Give at least one criterion; answers a list of matches.");
    }
    let output = if action.kind == ActionKind::Search {
        let results = json!({"type": "array", "items": schema::shape_of(&action.sample())});
        schema::output_object(Map::from_iter([("results".to_owned(), results)]))
    } else {
        match schema::shape_of(&action.sample()) {
            Value::Object(shape) => match shape.get("properties") {
                Some(Value::Object(properties)) => schema::output_object(properties.clone()),
                _ => schema::output_object(Map::new()),
            },
            _ => schema::output_object(Map::new()),
        }
    };
    let reads = action.kind == ActionKind::Search;
    let changes = action.kind == ActionKind::Update || action.upstream_method == "DELETE";
    let annotations = ToolAnnotations::with_title(action.label)
        .read_only(reads)
        .destructive(!reads && changes)
        .idempotent(reads)
        .open_world(true);
    Tool::new(
        action.key,
        description,
        Arc::new(schema::input_schema(action.input_fields)),
    )
    .with_title(action.label)
    .with_raw_output_schema(Arc::new(output))
    .with_annotations(annotations)
}

fn list_tool(list: &'static ListSource) -> Tool {
    let title = format!("List {}", list.label.to_lowercase());
    let description = format!(
        "Pages through the organization's {}: each item's `value` is what an input field \
         naming this list takes, `label` what a person sees. Narrow it with `query`.",
        list.label.to_lowercase()
    );
    let item = json!({"type": "object", "properties": {
        "value": {"type": "string"}, "label": {"type": "string"}}});
    let output = schema::output_object(Map::from_iter([
        ("items".to_owned(), json!({"type": "array", "items": item})),
        ("nextCursor".to_owned(), json!({"type": "string"})),
    ]));
    Tool::new(
        schema::list_tool(list.key),
        description,
        Arc::new(args_schema(LIST_ARGS)),
    )
    .with_title(title.clone())
    .with_raw_output_schema(Arc::new(output))
    .with_annotations(
        ToolAnnotations::with_title(title)
            .read_only(true)
            .idempotent(true)
            .open_world(true),
    )
}

fn route_tool(route: &'static RouteTool, description: String) -> Tool {
    let annotations = ToolAnnotations::with_title(route.title)
        .read_only(route.read_only)
        .destructive(!route.read_only && route.scope == Scope::Integrations)
        .idempotent(route.idempotent)
        .open_world(route.scope == Scope::Integrations);
    Tool::new(route.name, description, Arc::new(args_schema(route.args)))
        .with_title(route.title)
        .with_annotations(annotations)
}

fn args_schema(args: &[Arg]) -> JsonObject {
    let mut properties = Map::new();
    for arg in args {
        let mut property = match arg.kind {
            ArgKind::String => json!({"type": "string"}),
            ArgKind::Integer { min, max } => {
                json!({"type": "integer", "minimum": min, "maximum": max})
            }
            ArgKind::Time => json!({"type": "string", "format": "date-time"}),
            ArgKind::OneOf(choices) => json!({"type": "string", "enum": choices}),
            ArgKind::Object => json!({"type": "object"}),
        };
        property["description"] = Value::String(arg.description.to_owned());
        properties.insert(arg.name.to_owned(), property);
    }
    let required: Vec<&str> = args.iter().filter(|a| a.required).map(|a| a.name).collect();
    schema::object(properties, &required)
}

impl Target {
    /// The REST request these arguments make, or what is wrong with them, naming each argument.
    pub fn request(&self, arguments: JsonObject) -> Result<RestRequest, Vec<String>> {
        match self {
            // The route checks an action's inputs against the catalog, with its own messages.
            Self::Action(action) => Ok(RestRequest {
                method: Method::POST,
                path_and_query: format!("/api/integrations/actions/{}", action.key),
                body: Some(Value::Object(arguments)),
            }),
            Self::List(list) => {
                let path = format!("/api/integrations/lists/{}", list.key);
                build(Method::GET, &path, LIST_ARGS, arguments)
            }
            Self::Route(route) => build(route.method.clone(), route.path, route.args, arguments),
        }
    }
}

/// Places each argument where its route takes it: path segments and query values encoded,
/// body members as given. Unknown and ill-typed arguments are named, all at once.
fn build(
    method: Method,
    template: &str,
    args: &[Arg],
    mut given: JsonObject,
) -> Result<RestRequest, Vec<String>> {
    let mut errors: Vec<String> = given
        .keys()
        .filter(|key| !args.iter().any(|a| a.name == key.as_str()))
        .map(|key| {
            let known: Vec<&str> = args.iter().map(|a| a.name).collect();
            format!(
                "`{key}` is not an argument of this tool; its arguments are {}",
                known.join(", ")
            )
        })
        .collect();
    let mut in_path = std::collections::HashMap::new();
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    let mut body = Map::new();
    for arg in args {
        let Some(value) = given.remove(arg.name).filter(|v| !v.is_null()) else {
            if arg.required {
                errors.push(format!("`{}` is required", arg.name));
            }
            continue;
        };
        let text = match check(arg, &value) {
            Ok(text) => text,
            Err(why) => {
                errors.push(format!("`{}` {why}", arg.name));
                continue;
            }
        };
        match arg.place {
            Place::Path => {
                in_path.insert(arg.name, text);
            }
            Place::Query(name) => {
                query.append_pair(name, &text);
            }
            Place::Body => {
                body.insert(arg.name.to_owned(), value);
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut url = url::Url::parse("http://in-process").expect("a valid base");
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.clear();
        for part in template.trim_start_matches('/').split('/') {
            match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => segments.push(in_path.get(name).map_or("", String::as_str)),
                None => segments.push(part),
            };
        }
    }
    let query = query.finish();
    if !query.is_empty() {
        url.set_query(Some(&query));
    }
    let path_and_query = url[url::Position::BeforePath..].to_owned();
    let has_body = args.iter().any(|a| matches!(a.place, Place::Body));
    Ok(RestRequest {
        method,
        path_and_query,
        body: has_body.then_some(Value::Object(body)),
    })
}

/// The argument as text for a path or a query, or why it is not of its kind.
fn check(arg: &Arg, value: &Value) -> Result<String, String> {
    match (arg.kind, value) {
        (ArgKind::String | ArgKind::Time, Value::String(s)) => Ok(s.clone()),
        (ArgKind::OneOf(choices), Value::String(s)) if choices.contains(&s.as_str()) => {
            Ok(s.clone())
        }
        (ArgKind::OneOf(choices), _) => Err(format!("must be one of {}", choices.join(", "))),
        (ArgKind::Integer { min, max }, Value::Number(n)) => match n.as_i64() {
            Some(i) if (min..=max).contains(&i) => Ok(i.to_string()),
            _ => Err(format!("must be a whole number from {min} to {max}")),
        },
        (ArgKind::Integer { min, max }, _) => {
            Err(format!("must be a whole number from {min} to {max}"))
        }
        (ArgKind::Object, Value::Object(_)) => Ok(String::new()),
        (ArgKind::Object, _) => Err("must be a JSON object".into()),
        (ArgKind::String | ArgKind::Time, _) => Err("must be a string".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_own_tool_name_is_kept_from_the_catalog() {
        for tool in DELIVERY_TOOLS.iter().chain([&API_CALL]) {
            assert!(catalog::is_own_tool_name(tool.name), "{}", tool.name);
        }
        for list in lists::LISTS {
            assert!(catalog::is_own_tool_name(&schema::list_tool(list.key)));
        }
    }

    #[test]
    fn ids_are_encoded_into_one_path_segment() {
        let retry = DELIVERY_TOOLS
            .iter()
            .find(|t| t.name == "retry_delivery")
            .unwrap();
        let args = json!({"webhookId": "../../api-keys", "deliveryId": "a/b?c"});
        let request = Target::Route(retry)
            .request(args.as_object().unwrap().clone())
            .unwrap_or_else(|errors| panic!("{errors:?}"));
        assert_eq!(
            request.path_and_query,
            "/api/webhooks/..%2F..%2Fapi-keys/deliveries/a%2Fb%3Fc/retry"
        );
    }

    #[test]
    fn unknown_and_ill_typed_arguments_are_named() {
        let logs = DELIVERY_TOOLS
            .iter()
            .find(|t| t.name == "webhook_logs")
            .unwrap();
        let args = json!({"webhookId": 7, "status": "lost", "limit": 500, "colour": "red"});
        let errors = Target::Route(logs)
            .request(args.as_object().unwrap().clone())
            .err()
            .unwrap();
        let text = errors.join("; ");
        for name in ["`colour`", "`webhookId`", "`status`", "`limit`"] {
            assert!(text.contains(name), "{text}");
        }
    }
}

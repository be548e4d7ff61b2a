//! A Make custom app, as a local project of Make's apps SDK (`makecomapp.json`, see
//! [`project`]): a base with the Bearer header and error handling, an API-key connection checked
//! against `/api/integrations/me`, per event type a dedicated webhook (attach / detach on the
//! REST-hook routes) with its instant trigger module, per catalog action an action or search
//! module, RPCs that fill dropdowns, and the universal "Make an API Call" module.
//! Unlike Zapier's, a Make app holds no code, so every file is generated here, beside the
//! deploy script that takes it to Make.

mod api_call;
mod names;
mod project;
mod rpcs;

use project::{Kind, Project};
pub use project::{MANIFEST, keep_origins};
use serde_json::{Value, json};

use super::GeneratedFile;

/// The gateway's URL as the connection holds it, without a trailing `/`, so a path appended to
/// it never makes `//api`.
const BASE_URL: &str = "{{replace(connection.baseUrl; \"/\\/+$/\"; \"\")}}";

/// The connection's local id; Make names the deployed one itself.
const CONNECTION: &str = "kaanha";

/// The deploy script, its package and its test, kept where the app lives and built into the
/// binary like the other runtimes, so an export anywhere is complete.
const DEPLOY_FILES: &[(&str, &[u8])] = &[
    (
        "deploy.mjs",
        include_bytes!("../../../integrations/make/deploy.mjs"),
    ),
    (
        "package.json",
        include_bytes!("../../../integrations/make/package.json"),
    ),
    (
        "test/deploy.test.mjs",
        include_bytes!("../../../integrations/make/test/deploy.test.mjs"),
    ),
    (
        "test/make-api.mjs",
        include_bytes!("../../../integrations/make/test/make-api.mjs"),
    ),
    // Make's rule: a 512×512 PNG, drawn white on the app's theme colour.
    (
        "general/icon.png",
        include_bytes!("../../../integrations/make/general/icon.png"),
    ),
];

/// Every file of the app, from the discovery document.
pub fn files(describe: &Value) -> Vec<GeneratedFile> {
    let hooks = describe["subscriptions"]["subscribe"]["path"]
        .as_str()
        .unwrap_or_default()
        .replace("{platform}", "make");
    let mut app = Project::new();
    app.general("base", "general/base.imljson", super::pretty(&base()));
    app.general(
        "groups",
        "general/groups.json",
        super::pretty(&groups(describe)),
    );
    app.general("readme", "general/readme.md", readme(describe));
    app.component(
        Kind::Connection,
        CONNECTION,
        json!({"label": describe["platform"]["name"], "connectionType": "basic"}),
        vec![
            ("communication", connection_check(describe)),
            ("params", connection_parameters(describe)),
        ],
    );
    for trigger in describe["triggers"].as_array().into_iter().flatten() {
        let key = trigger["key"].as_str().unwrap_or_default();
        let webhook = names::webhook(key);
        app.component(
            Kind::Webhook,
            &webhook,
            json!({"label": trigger["label"], "webhookType": "web", "connection": CONNECTION}),
            vec![
                ("communication", webhook_communication()),
                ("params", parameters(&trigger["inputFields"])),
                ("attach", attach(&hooks, trigger)),
                ("detach", detach(&hooks)),
            ],
        );
        app.component(
            Kind::Module,
            &names::trigger_module(key),
            trigger_module(trigger, &webhook),
            vec![
                ("interface", interface(&trigger["outputFields"])),
                ("samples", trigger["sample"].clone()),
            ],
        );
    }
    for action in describe["actions"].as_array().into_iter().flatten() {
        app.component(
            Kind::Module,
            &names::camel(action["key"].as_str().unwrap_or_default()),
            action_module(action),
            vec![
                ("communication", action_communication(action)),
                ("mappableParams", parameters(&action["inputFields"])),
                ("interface", interface(&action["outputFields"])),
                ("samples", action["sample"].clone()),
            ],
        );
    }
    for list in describe["lists"].as_array().into_iter().flatten() {
        app.component(
            Kind::Rpc,
            &names::rpc(list["key"].as_str().unwrap_or_default()),
            json!({"label": list["label"], "connection": CONNECTION}),
            vec![("communication", rpcs::communication(list))],
        );
    }
    app.component(
        Kind::Module,
        api_call::NAME,
        api_call::module(),
        vec![
            ("communication", api_call::communication(describe)),
            ("mappableParams", api_call::parameters()),
            ("interface", api_call::interface()),
        ],
    );
    let mut files = app.into_files();
    files.extend(DEPLOY_FILES.iter().map(|(path, contents)| GeneratedFile {
        path: (*path).to_owned(),
        contents: contents.to_vec(),
    }));
    files
}

/// The app's page in Make: what it does and what its connection asks for.
fn readme(describe: &Value) -> String {
    let name = describe["platform"]["name"].as_str().unwrap_or_default();
    format!(
        "# {name}\n\nWatch every {name} event as it happens, and act on contacts, conversations \
         and payments, through your kaanha-gateway.\n\nThe connection asks for the gateway's URL \
         and an API key with the `integrations` scope.\n"
    )
}

/// Every request: the connection's gateway and key; a problem's detail as the error message.
fn base() -> Value {
    json!({
        "baseUrl": BASE_URL,
        "headers": {"Authorization": "Bearer {{connection.apiKey}}"},
        "response": {
            "error": {
                "type": "{{if(statusCode == 401 || statusCode == 403, 'InvalidAccessTokenError', if(statusCode == 429, 'RateLimitError', 'RuntimeError'))}}",
                "message": "[{{statusCode}}] {{ifempty(body.detail, body.title)}}"
            }
        },
        "log": {"sanitize": ["request.headers.authorization"]},
    })
}

fn connection_parameters(describe: &Value) -> Value {
    let mut parameters: Vec<Value> = describe["auth"]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(parameter)
        .collect();
    parameters.push(json!({
        "name": "baseUrl",
        "type": "url",
        "label": "Gateway URL",
        "help": "Where your gateway is served.",
        "required": true,
        "default": describe["platform"]["baseUrl"],
    }));
    Value::Array(parameters)
}

/// Make checks a new connection with this call and names it after the answer's label.
fn connection_check(describe: &Value) -> Value {
    json!({
        "url": format!(
            "{}{}",
            BASE_URL.replace("connection.", "parameters."),
            describe["auth"]["test"]["path"].as_str().unwrap_or_default()
        ),
        "method": describe["auth"]["test"]["method"],
        "headers": {"Authorization": "Bearer {{parameters.apiKey}}"},
        "response": {
            "metadata": {"type": "text", "value": "{{body.label}}"},
            "error": {"message": "[{{statusCode}}] {{body.detail}}"}
        },
        "log": {"sanitize": ["request.headers.authorization"]},
    })
}

/// Subscribes Make's webhook URL to the trigger's event; the id goes into `response.data`,
/// which Make keeps for detach.
fn attach(hooks: &str, trigger: &Value) -> Value {
    json!({
        "url": hooks,
        "method": "POST",
        "body": {
            "targetUrl": "{{webhook.url}}",
            "event": trigger["event"],
            "filters": "{{parameters}}",
        },
        "response": {"data": {"externalHookId": "{{body.id}}"}},
    })
}

fn detach(hooks: &str) -> Value {
    json!({
        "url": format!("{hooks}/{{{{webhook.externalHookId}}}}"),
        "method": "DELETE",
    })
}

/// Each delivery is one event: one bundle, answered 200.
fn webhook_communication() -> Value {
    json!({
        "output": "{{body}}",
        "respond": {"type": "json", "status": 200, "body": {"received": true}},
    })
}

/// An instant trigger on its event type's webhook, named by the webhook's local id.
fn trigger_module(trigger: &Value, webhook: &str) -> Value {
    json!({
        "label": format!("Watch {}", trigger["label"].as_str().unwrap_or_default()),
        "description": trigger["description"],
        "moduleType": "instant_trigger",
        "connection": CONNECTION,
        "webhook": webhook,
    })
}

fn action_module(action: &Value) -> Value {
    let text = |field: &str| action[field].as_str().unwrap_or_default();
    let kind = text("kind");
    json!({
        "label": names::action_label(text("label"), text("noun"), kind),
        "description": action["description"],
        "moduleType": if kind == "search" { "search" } else { "action" },
        "connection": CONNECTION,
    })
}

/// An action posts its parameters; a search's answer is a list, each result one bundle.
fn action_communication(action: &Value) -> Value {
    let mut call = json!({
        "url": action["path"],
        "method": action["method"],
        "body": "{{parameters}}",
        "response": {"output": "{{body}}"},
    });
    if action["kind"] == "search" {
        call["response"] = json!({"iterate": "{{body}}", "output": "{{item}}"});
    }
    call
}

/// The modules as Make's module picker groups them.
fn groups(describe: &Value) -> Value {
    let actions = describe["actions"].as_array().cloned().unwrap_or_default();
    let of_kind = |search: bool| -> Vec<Value> {
        actions
            .iter()
            .filter(|a| (a["kind"] == "search") == search)
            .map(|a| json!(names::camel(a["key"].as_str().unwrap_or_default())))
            .collect()
    };
    let triggers: Vec<Value> = describe["triggers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| json!(names::trigger_module(t["key"].as_str().unwrap_or_default())))
        .collect();
    json!([
        {"label": "Triggers", "modules": triggers},
        {"label": "Actions", "modules": of_kind(false)},
        {"label": "Searches", "modules": of_kind(true)},
        {"label": "Other", "modules": [api_call::NAME]}
    ])
}

fn parameters(fields: &Value) -> Value {
    Value::Array(
        fields
            .as_array()
            .into_iter()
            .flatten()
            .map(parameter)
            .collect(),
    )
}

/// A catalog field as a Make parameter.
fn parameter(field: &Value) -> Value {
    let kind = match field["type"].as_str().unwrap_or("string") {
        "integer" => "integer",
        "number" => "number",
        "boolean" => "boolean",
        "datetime" => "date",
        "enum" => "select",
        "array" => "array",
        "password" => "password",
        "json" => "any",
        _ => "text",
    };
    let mut parameter = json!({
        "name": field["key"],
        "type": kind,
        "label": field["label"],
        "help": field["help"],
        "required": field["required"],
    });
    if kind == "select" {
        parameter["options"] = field["choices"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["value"] != "")
            .map(|c| json!({"value": c["value"], "label": c["label"]}))
            .collect();
    }
    if kind == "array" {
        parameter["spec"] = json!({"type": "text"});
    }
    if let Some(list) = field["list"].as_str() {
        let options = format!("rpc://{}", names::rpc(list));
        if kind == "array" {
            parameter["spec"] = json!({"type": "select", "options": options});
        } else {
            parameter["type"] = json!("select");
            parameter["options"] = json!(options);
        }
        parameter["mappable"] = json!(true);
    }
    let default = &field["default"];
    if !(default.is_null() || default == "" || default.is_object()) {
        parameter["default"] = default.clone();
    }
    parameter
}

/// Output fields, with dotted keys (`data.contact.name`) nested as Make's collections.
fn interface(fields: &Value) -> Value {
    let mut root: Vec<Value> = Vec::new();
    for field in fields.as_array().into_iter().flatten() {
        let key = field["key"].as_str().unwrap_or_default();
        let kind = match field["type"].as_str().unwrap_or("string") {
            "integer" | "number" => "number",
            "boolean" => "boolean",
            "datetime" => "date",
            "array" => "array",
            _ => "text",
        };
        insert(&mut root, &key.split('.').collect::<Vec<_>>(), field, kind);
    }
    Value::Array(root)
}

fn insert(level: &mut Vec<Value>, path: &[&str], field: &Value, kind: &str) {
    let Some((name, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        let mut out = json!({"name": name, "type": kind, "label": field["label"]});
        if kind == "array" {
            out["spec"] = json!({"type": "text"});
        }
        level.push(out);
        return;
    }
    let position = level
        .iter()
        .position(|v| v["name"] == *name && v["type"] == "collection");
    let index = position.unwrap_or_else(|| {
        let label = super::title_case(name);
        level.push(json!({"name": name, "type": "collection", "label": label, "spec": []}));
        level.len() - 1
    });
    if let Some(spec) = level[index]["spec"].as_array_mut() {
        insert(spec, rest, field, kind);
    }
}

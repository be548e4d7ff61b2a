//! The universal "Make an API Call" module, which Make's review expects: any call to the
//! platform's API, through the gateway's `POST /api/integrations/call` (allowed paths only).

use serde_json::{Value, json};

use super::CONNECTION;

pub(super) const NAME: &str = "makeApiCall";

pub(super) fn module() -> Value {
    json!({
        "label": "Make an API Call",
        "description": "Performs an arbitrary authorized call to the platform's API, below the paths the gateway allows.",
        "moduleType": "universal",
        "connection": CONNECTION,
    })
}

pub(super) fn communication(describe: &Value) -> Value {
    json!({
        "url": describe["apiCall"]["path"],
        "method": describe["apiCall"]["method"],
        "body": {
            "method": "{{parameters.method}}",
            "path": "{{parameters.url}}",
            "query": "{{toCollection(parameters.qs; 'key'; 'value')}}",
            "body": "{{parameters.body}}"
        },
        "response": {"output": {"statusCode": "{{body.status}}", "body": "{{body.body}}"}},
    })
}

pub(super) fn parameters() -> Value {
    let methods: Vec<Value> = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        .map(|m| json!({"label": m, "value": m}))
        .to_vec();
    json!([
        {"name": "url", "type": "text", "label": "URL", "required": true,
         "help": "A path of the platform's API, e.g. `/api/contacts`. The gateway allows only some paths."},
        {"name": "method", "type": "select", "label": "Method", "required": true, "default": "GET",
         "options": methods},
        {"name": "qs", "type": "array", "label": "Query String",
         "spec": [{"name": "key", "type": "text", "label": "Key"}, {"name": "value", "type": "text", "label": "Value"}]},
        {"name": "body", "type": "any", "label": "Body", "help": "A JSON body (not with GET)."}
    ])
}

pub(super) fn interface() -> Value {
    json!([
        {"name": "statusCode", "type": "number", "label": "Status code"},
        {"name": "body", "type": "any", "label": "Body"}
    ])
}

//! The RPCs that fill dropdowns: one per list of the gateway (`GET /api/integrations/lists/{key}`).

use serde_json::{Value, json};

/// A dropdown's choices, page after page (`nextCursor`), as Make's RPCs return them.
pub(super) fn communication(list: &Value) -> Value {
    json!({
        "url": list["route"]["path"],
        "method": "GET",
        "qs": {"limit": 100},
        "response": {
            "iterate": "{{body.items}}",
            "output": {"label": "{{item.label}}", "value": "{{item.value}}"}
        },
        "pagination": {"qs": {"cursor": "{{body.nextCursor}}"}, "condition": "{{body.nextCursor}}"},
    })
}

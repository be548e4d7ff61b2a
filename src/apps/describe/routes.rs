//! The API's routes by operation id, read from its OpenAPI document, so discovery can never
//! name a route the gateway does not serve.

use std::collections::HashMap;

use poem_openapi::Object;
use serde_json::Value;

#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct Route {
    pub method: String,
    pub path: String,
}

pub struct Routes(HashMap<String, Route>);

impl Routes {
    /// Every operation with an `operationId` in an OpenAPI 3 document.
    pub fn from_openapi(spec: &Value) -> Self {
        let mut routes = HashMap::new();
        for (path, operations) in spec["paths"].as_object().into_iter().flatten() {
            for (method, operation) in operations.as_object().into_iter().flatten() {
                if let Some(id) = operation["operationId"].as_str() {
                    let route = Route {
                        method: method.to_uppercase(),
                        path: path.clone(),
                    };
                    routes.insert(id.to_owned(), route);
                }
            }
        }
        Self(routes)
    }

    /// The route of an operation the document must name.
    ///
    /// # Panics
    /// When the API has no such operation: a discovery document naming a route the gateway
    /// does not serve is a bug, and the describe tests catch it.
    pub fn get(&self, operation_id: &str) -> Route {
        self.0
            .get(operation_id)
            .cloned()
            .unwrap_or_else(|| panic!("no operation `{operation_id}` in the spec"))
    }
}

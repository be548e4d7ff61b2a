//! Resources: the describe document (`kaanha://catalog`) and each trigger's samples
//! (`kaanha://samples/<event>`, the newest real events as the samples route gives them), read
//! through their REST routes like the tools.

use poem::http::Method;
use rmcp::model::{Resource, ResourceContents};

use super::rest::RestRequest;
use crate::catalog;

pub const CATALOG: &str = "kaanha://catalog";
const SAMPLES: &str = "kaanha://samples/";

pub fn list() -> Vec<Resource> {
    let mut resources = vec![
        Resource::new(CATALOG, "catalog")
            .with_title("Triggers and actions")
            .with_description(
                "Every trigger (event type, its filters and output fields) and every action \
                 and search (its input fields), as GET /api/integrations/describe gives them.",
            )
            .with_mime_type("application/json"),
    ];
    for event in catalog::subscribable() {
        resources.push(
            Resource::new(
                format!("{SAMPLES}{}", event.name),
                format!("samples/{}", event.name),
            )
            .with_title(format!("{} samples", event.label))
            .with_description(format!(
                "The organization's newest {} events (up to 3), or the catalog's sample \
                     when there is none yet: what a trigger on it receives.",
                event.name
            ))
            .with_mime_type("application/json"),
        );
    }
    resources
}

/// The route a resource is read from; `None` for a URI that names no resource.
pub fn request(uri: &str) -> Option<RestRequest> {
    let path = if uri == CATALOG {
        "/api/integrations/describe".to_owned()
    } else {
        let name = uri.strip_prefix(SAMPLES)?;
        let event = catalog::subscribable().find(|e| e.name == name)?;
        format!("/api/integrations/triggers/{}/samples", event.name)
    };
    Some(RestRequest {
        method: Method::GET,
        path_and_query: path,
        body: None,
    })
}

pub fn contents(uri: &str, value: &serde_json::Value) -> ResourceContents {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    ResourceContents::text(text, uri).with_mime_type("application/json")
}

use crate::helpers::spawn_app;

#[test]
fn the_committed_spec_is_what_the_code_generates() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap_or_default();
    let generated = kaanha_gateway::http::routes::spec_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale; regenerate it with \
         `cargo run -- openapi > openapi/openapi.json` and commit it"
    );
}

#[tokio::test]
async fn the_spec_and_its_browsable_ui_are_served() {
    let app = spawn_app().await;
    let served = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    let served: serde_json::Value = served.json().await.unwrap();
    let generated: serde_json::Value =
        serde_json::from_str(&kaanha_gateway::http::routes::spec_json()).unwrap();
    assert_eq!(served, generated);
    assert!(served["openapi"].as_str().unwrap().starts_with("3."));

    let ui = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(ui.status(), 200);
    let csp = ui.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'self'"),
        "{csp}"
    );
    assert!(ui.text().await.unwrap().contains("swagger"));
}

#[test]
fn every_operation_that_takes_a_credential_names_the_scope_it_needs() {
    let spec: serde_json::Value =
        serde_json::from_str(&kaanha_gateway::http::routes::spec_json()).unwrap();
    let mut checked = 0;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            if operation.get("security").is_none() {
                continue;
            }
            let description = operation["description"].as_str().unwrap_or_default();
            let scopes = ["webhooks", "integrations", "events:publish", "api-keys"];
            assert!(
                scopes
                    .iter()
                    .any(|s| description.contains(&format!("Needs the `{s}` scope."))),
                "{method} {path} does not say which scope it needs: {description:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} operations take a credential");
}

/// Every array a request body may hold, at any depth, has a `maxItems` in the document (each is
/// also checked by the server: `errors::long_lists_are_refused_whole_and_a_problem_stays_small`).
#[test]
fn every_list_in_every_request_body_states_its_maximum() {
    let spec: serde_json::Value =
        serde_json::from_str(&kaanha_gateway::http::routes::spec_json()).unwrap();
    let schemas = &spec["components"]["schemas"];
    fn walk(
        schema: &serde_json::Value,
        schemas: &serde_json::Value,
        at: &str,
        seen: &mut Vec<String>,
        bare: &mut Vec<String>,
    ) {
        if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
            if !seen.contains(&name.to_owned()) {
                seen.push(name.to_owned());
                walk(&schemas[name], schemas, name, seen, bare);
            }
            return;
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for part in schema[key].as_array().into_iter().flatten() {
                walk(part, schemas, at, seen, bare);
            }
        }
        if schema["type"] == "array" {
            if schema.get("maxItems").is_none() {
                bare.push(at.to_owned());
            }
            walk(&schema["items"], schemas, &format!("{at}[]"), seen, bare);
        }
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            walk(property, schemas, &format!("{at}.{name}"), seen, bare);
        }
    }
    let (mut seen, mut bare, mut bodies) = (Vec::new(), Vec::new(), 0);
    for operations in spec["paths"].as_object().unwrap().values() {
        for operation in operations.as_object().unwrap().values() {
            for media in operation["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                walk(&media.1["schema"], schemas, "body", &mut seen, &mut bare);
                bodies += 1;
            }
        }
    }
    assert!(bodies > 5, "request bodies found: {bodies}");
    assert!(bare.is_empty(), "lists without a maximum: {bare:?}");
}

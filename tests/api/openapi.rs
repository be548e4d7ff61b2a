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

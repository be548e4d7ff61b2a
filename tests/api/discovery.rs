//! Discovery: what `GET /api/integrations/describe` and `/me` tell a no-code platform.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_json, expect_problem, spawn_app};

pub const WAIT: Duration = Duration::from_secs(10);

pub async fn describe(app: &TestApp, key: &str) -> Value {
    expect_json(
        app.get("/api/integrations/describe", key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

pub fn is_platform_key(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key.len() >= 2
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[tokio::test]
async fn describe_tells_a_client_everything_and_every_name_suits_every_platform() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let doc = describe(&app, &key).await;

    assert_eq!(doc["auth"]["type"], "bearer");
    assert_eq!(
        doc["auth"]["test"],
        json!({"method": "GET", "path": "/api/integrations/me"})
    );
    assert_eq!(doc["platform"]["baseUrl"], app.address);
    assert_eq!(
        doc["subscriptions"]["subscribe"]["path"],
        "/api/integrations/{platform}/hooks"
    );
    assert_eq!(doc["delivery"]["signatureHeader"], "X-Kaanha-Signature");
    assert_eq!(doc["delivery"]["goneStatus"], 410);
    assert_eq!(doc["delivery"]["retryDelaysMs"], json!([100, 200, 300]));
    assert_eq!(doc["actionsAvailable"], false);

    let triggers = doc["triggers"].as_array().unwrap();
    assert_eq!(
        triggers.len(),
        13,
        "the document's 11 and webhook.disabled / webhook.enabled"
    );
    let received = triggers
        .iter()
        .find(|t| t["event"] == "message.received")
        .unwrap();
    assert_eq!(received["key"], "message_received");
    assert_eq!(received["noun"], "Message");
    assert_eq!(
        received["sample"]["data"]["message"]["text"],
        "Hi, I need help with my order"
    );
    assert!(
        received["outputFields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["key"] == "data.contact.phone")
    );
    assert_eq!(
        received["samples"]["path"],
        "/api/integrations/triggers/message.received/samples"
    );
    let actions = doc["actions"].as_array().unwrap();
    let keys: Vec<&str> = actions.iter().map(|a| a["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "send_message",
            "create_contact",
            "update_contact",
            "tag_contact",
            "resolve_conversation",
            "create_payment_link",
            "find_contact",
            "find_conversation"
        ]
    );
    let kinds: Vec<&str> = actions
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[6..], ["search", "search"]);
    // Dropdowns: the fields that name a list, and where each list is read.
    let lists: Vec<&str> = doc["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["route"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        lists,
        [
            "/api/integrations/lists/contacts",
            "/api/integrations/lists/conversations",
            "/api/integrations/lists/tags"
        ]
    );
    let update = &actions[2]["inputFields"];
    assert_eq!(update[0]["key"], "contactId");
    assert_eq!(update[0]["list"], "contacts");

    for item in triggers.iter().chain(actions) {
        assert!(
            is_platform_key(item["key"].as_str().unwrap()),
            "{}",
            item["key"]
        );
        let label = item["label"].as_str().unwrap();
        assert!((2..=64).contains(&label.len()), "{label}");
        for field in item["inputFields"].as_array().unwrap() {
            assert!(is_platform_key(field["key"].as_str().unwrap()), "{field}");
            assert!(
                field.get("default").is_some(),
                "n8n needs a default: {field}"
            );
            if field["type"] == "enum" {
                let values: Vec<&Value> = field["choices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| &c["value"])
                    .collect();
                assert!(
                    values.contains(&&field["default"]),
                    "the default is a choice: {field}"
                );
            }
        }
        let primary = item["outputFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["primary"] == true)
            .count();
        assert!(primary <= 1);
    }
}

#[tokio::test]
async fn describe_is_cached_with_an_etag_and_needs_the_integrations_scope() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let first = app
        .get("/api/integrations/describe", &key)
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .get("/api/integrations/describe", &key)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    let stale = app
        .get("/api/integrations/describe", &key)
        .header("if-none-match", "\"old\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);

    let webhooks_only = app.api_key("org_a", &["webhooks"]).await;
    expect_problem(
        app.get("/api/integrations/describe", &webhooks_only)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    expect_problem(
        app.client
            .get(app.url("/api/integrations/describe"))
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
}

#[tokio::test]
async fn me_names_the_organization_and_the_key() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let me = expect_json(
        app.get("/api/integrations/me", &key).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(me["organizationId"], "org_a");
    assert_eq!(me["credential"], "apiKey");
    assert_eq!(me["keyName"], "test key");
    assert!(me["label"].as_str().unwrap().contains("org_a"));
}

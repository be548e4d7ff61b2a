//! What a platform's test step and a lost secret need from the gateway: a subscription that
//! gets a realistic event at once, samples that honour the trigger's filters, and a subscribe
//! with a new secret that signs with it from then on.

use serde_json::{Value, json};

use crate::{
    discovery::WAIT,
    helpers::{TestApp, expect_json, expect_problem, invalid_fields, spawn_app},
    receiver::Receiver,
};

/// Subscribes through n8n's REST-hook route and expects `status`; answers the subscription.
async fn subscribe_n8n(app: &TestApp, key: &str, body: &Value, status: u16) -> Value {
    let response = app.post("/api/integrations/n8n/hooks", key, body);
    expect_json(response.send().await.unwrap(), status).await
}

fn signed_with(secret: &str, body: &[u8]) -> String {
    kaanha_gateway::delivery::sign::kaanha_signature(secret, body)
}

#[tokio::test]
async fn subscribing_again_with_a_new_secret_signs_with_it_from_then_on() {
    let app = spawn_app().await;
    let key = app
        .api_key("org_a", &["integrations", "events:publish"])
        .await;
    let n8n = Receiver::start().await;
    let url = n8n.hook("webhook/abc/webhook");
    let subscribe =
        |secret: &str| json!({"targetUrl": url, "event": "contact.created", "secret": secret});
    let first = subscribe_n8n(&app, &key, &subscribe("old-secret-1234"), 201).await;
    // n8n lost its static data: same URL and event, a secret it just made.
    let again = subscribe_n8n(&app, &key, &subscribe("new-secret-5678"), 200).await;
    assert_eq!(first["id"], again["id"], "still one subscription");

    app.publish(&key, &json!({"event": "contact.created", "data": {"n": 1}}))
        .await;
    let got = n8n.wait_for_event("contact.created", 1, WAIT).await;
    let signature = got[0].header("x-kaanha-signature");
    assert_eq!(signature, signed_with("new-secret-5678", &got[0].body));
    assert_eq!(
        got[0].header("x-kaanha-signature-previous"),
        "",
        "the lost secret signs nothing more"
    );

    // The same secret again changes nothing.
    let same = subscribe_n8n(&app, &key, &subscribe("new-secret-5678"), 200).await;
    assert_eq!(same["id"], first["id"]);
}

#[tokio::test]
async fn a_subscription_can_ask_for_a_realistic_event_at_once() {
    let app = spawn_app().await;
    let key = app
        .api_key("org_a", &["integrations", "events:publish"])
        .await;
    let other = app
        .api_key("org_b", &["integrations", "events:publish"])
        .await;
    let n8n = Receiver::start().await;

    // Nothing published yet: the catalog's sample, delivered and signed like any event.
    let body = json!({"targetUrl": n8n.hook("test-1"), "event": "message_received", "secret": "a-test-secret", "sendSample": true});
    let hook = subscribe_n8n(&app, &key, &body, 201).await;
    assert_eq!(hook["sampleSent"], true);
    let got = n8n.wait_for_event("message.received", 1, WAIT).await;
    let sample = got[0].json();
    assert_eq!(sample["organizationId"], "org_a");
    assert_eq!(sample["data"]["contact"]["phone"], "+919876543210");
    assert!(sample["id"].as_str().unwrap().starts_with("evt_sample_"));
    assert_eq!(
        got[0].header("x-kaanha-signature"),
        signed_with("a-test-secret", &got[0].body)
    );

    // Real events: the newest one that passes the subscription's filters, with its own id.
    // Another organization's newer event is never offered.
    let message = |id: &str, kind: &str| json!({"event": "message.received", "id": id, "data": {"message": {"type": kind}}});
    app.publish(&key, &message("wamid.text", "text")).await;
    app.publish(&key, &message("wamid.image", "image")).await;
    app.publish(&other, &message("wamid.theirs", "text")).await;
    let filtered = json!({"targetUrl": n8n.hook("test-2"), "event": "message.received", "filters": {"message_type": "text"}, "sendSample": true});
    subscribe_n8n(&app, &key, &filtered, 201).await;
    let to_second = || {
        n8n.received()
            .into_iter()
            .filter(|r| r.path == "/test-2")
            .map(|r| r.json()["id"].clone())
            .collect::<Vec<Value>>()
    };
    let deadline = std::time::Instant::now() + WAIT;
    while to_second().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(to_second(), [json!("wamid.text")]);

    // Without the flag, nothing is sent until something happens.
    let quiet = json!({"targetUrl": n8n.hook("live"), "event": "message.received"});
    let live = subscribe_n8n(&app, &key, &quiet, 201).await;
    assert!(live.get("sampleSent").is_none());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(n8n.received().iter().all(|r| r.path != "/live"));
}

#[tokio::test]
async fn samples_show_only_events_that_pass_the_triggers_filters() {
    let app = spawn_app().await;
    let key = app
        .api_key("org_a", &["integrations", "events:publish"])
        .await;
    for (id, kind) in [
        ("m1", "text"),
        ("m2", "image"),
        ("m3", "text"),
        ("m4", "image"),
    ] {
        app.publish(
            &key,
            &json!({"event": "message.received", "id": id, "data": {"message": {"type": kind}}}),
        )
        .await;
    }
    let samples = |query: &str| {
        let path = format!("/api/integrations/triggers/message_received/samples{query}");
        app.get(&path, &key).send()
    };
    let ids = |list: Value| -> Vec<Value> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].clone())
            .collect()
    };
    let all = expect_json(samples("").await.unwrap(), 200).await;
    assert_eq!(ids(all), [json!("m4"), json!("m3"), json!("m2")]);
    let texts = r#"?filters={"message_type":"text"}"#;
    let only_texts = expect_json(samples(texts).await.unwrap(), 200).await;
    assert_eq!(ids(only_texts), [json!("m3"), json!("m1")]);
    let none = expect_json(
        samples(r#"?filters={"message_type":"audio"}"#)
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(
        ids(none)[0].as_str().unwrap().starts_with("evt_sample_"),
        "no event passes: the catalog sample"
    );

    let problem = expect_problem(samples("?filters=text").await.unwrap(), 422).await;
    assert_eq!(invalid_fields(&problem), ["filters"]);
    let problem = expect_problem(
        samples(r#"?filters={"currency":"INR"}"#).await.unwrap(),
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["filters.currency"]);
}

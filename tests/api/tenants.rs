//! What one organization can do to another, or to itself past its limits: quotas on what it
//! keeps, a rate on what it sends by hand, and nothing a scope hides leaking through events.

use std::time::Duration;

use serde_json::json;

use crate::{
    helpers::{AppOptions, expect_json, expect_problem, spawn_app, spawn_app_with},
    receiver::Receiver,
};

#[tokio::test]
async fn an_integrations_key_never_sees_a_webhooks_name_or_url_through_webhook_events() {
    let app = spawn_app().await;
    let admin = app.api_key("org_a", &["webhooks"]).await;
    let zapier = app.api_key("org_a", &["integrations"]).await;
    let receiver = Receiver::start().await;
    let secret_url = format!("{}?token=tok_SECRET_9f8e7d", receiver.hook("crm"));
    let dashboard = expect_json(
        app.post(
            "/api/webhooks",
            &admin,
            &json!({"name": "Finance ledger sync", "url": secret_url, "events": ["payment.completed"]}),
        )
        .send()
        .await
        .unwrap(),
        201,
    )
    .await;
    let id = dashboard["id"].as_str().unwrap();
    expect_problem(app.get("/api/webhooks", &zapier).send().await.unwrap(), 403).await;
    expect_json(
        app.post(
            "/api/integrations/zapier/hooks",
            &zapier,
            &json!({"target_url": receiver.hook("zap"), "events": ["webhook.disabled", "webhook.enabled"]}),
        )
        .send()
        .await
        .unwrap(),
        201,
    )
    .await;
    app.update_webhook(&admin, id, &json!({"status": "disabled"}))
        .await;
    app.update_webhook(&admin, id, &json!({"status": "active"}))
        .await;
    let announced = receiver
        .wait_for(2, Duration::from_secs(10), |r| r.path == "/zap")
        .await;
    let mut seen: Vec<String> = announced
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    for event in ["webhook_disabled", "webhook_enabled"] {
        let samples = expect_json(
            app.get(
                &format!("/api/integrations/triggers/{event}/samples"),
                &zapier,
            )
            .send()
            .await
            .unwrap(),
            200,
        )
        .await;
        assert_eq!(
            samples[0]["data"]["webhookId"], id,
            "real events are the samples"
        );
        seen.push(samples.to_string());
    }
    for text in &seen {
        assert!(
            !text.contains("tok_SECRET_9f8e7d"),
            "the URL's token leaked: {text}"
        );
        assert!(!text.contains("Finance ledger"), "the name leaked: {text}");
        assert!(
            text.contains(id),
            "the webhook is still named by id: {text}"
        );
    }
}

#[tokio::test]
async fn an_organization_may_keep_only_so_many_webhooks_and_keys_and_others_are_unaffected() {
    let app = spawn_app_with(AppOptions {
        tweak: |config| {
            config.limits.max_webhooks_per_org = 3;
            config.limits.max_api_keys_per_org = 4;
        },
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "integrations"]).await;
    for name in ["one", "two"] {
        app.webhook(&key, name).await;
    }
    let hook = json!({"target_url": "http://127.0.0.1:9/zap", "event": "message.received"});
    let path = "/api/integrations/n8n/hooks";
    expect_json(app.post(path, &key, &hook).send().await.unwrap(), 201).await;
    let full =
        json!({"name": "four", "url": "http://127.0.0.1:9/x", "events": ["message.received"]});
    let problem = expect_problem(
        app.post("/api/webhooks", &key, &full).send().await.unwrap(),
        409,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("the most this gateway allows"),
        "{problem}"
    );
    let other = json!({"target_url": "http://127.0.0.1:9/other", "event": "message.received"});
    expect_problem(app.post(path, &key, &other).send().await.unwrap(), 409).await;
    let listed = expect_json(app.get("/api/webhooks", &key).send().await.unwrap(), 200).await;
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        3,
        "nothing half-written"
    );
    // Another organization has its own room.
    let theirs = app.api_key("org_b", &["webhooks"]).await;
    app.webhook(&theirs, "theirs").await;

    // Keys: org_a holds one already; three more fill its quota of four.
    for _ in 0..3 {
        app.api_key("org_a", &[]).await;
    }
    let jwt = crate::helpers::service_token("org_a", "api-keys");
    let problem = expect_problem(
        app.post("/api/api-keys", &jwt, &json!({"name": "fifth"}))
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("the most this gateway allows"),
        "{problem}"
    );
    app.api_key("org_b", &[]).await;
}

#[tokio::test]
async fn test_sends_and_manual_retries_are_rate_limited_per_organization() {
    let app = spawn_app_with(AppOptions {
        tweak: |config| config.limits.manual_sends_per_minute = 5,
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks"]).await;
    let receiver = Receiver::start().await;
    // Creating it sends a test event too, counted as a creation, not as a send by hand.
    let webhook = app
        .webhook_to(&key, &receiver.hook("a"), &["message.received"], None)
        .await;
    let test = format!("/api/webhooks/{}/test", webhook["id"].as_str().unwrap());
    for _ in 0..5 {
        expect_json(app.post(&test, &key, &json!({})).send().await.unwrap(), 202).await;
    }
    let refused = app.post(&test, &key, &json!({})).send().await.unwrap();
    assert!(refused.headers().contains_key("retry-after"));
    let problem = expect_problem(refused, 429).await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("the most this gateway allows"), "{problem}");
    assert!(
        !detail.contains("KAANHA_"),
        "an operator's setting named to a customer: {detail}"
    );
    let retry = format!(
        "/api/webhooks/{}/deliveries/dlv_unknown/retry",
        webhook["id"].as_str().unwrap()
    );
    // An unknown delivery is still a 404: the rate is spent only on real sends.
    expect_problem(
        app.post(&retry, &key, &json!({})).send().await.unwrap(),
        404,
    )
    .await;
    // Creating webhooks has a quota of its own: a migration is not held up by test sends.
    let creating = json!({"name": "b", "url": receiver.hook("b"), "events": ["message.received"]});
    expect_json(
        app.post("/api/webhooks", &key, &creating)
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    receiver
        .wait_for(7, Duration::from_secs(10), |r| r.event() == "webhook.test")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.received().len(),
        7,
        "five sends by hand and two new webhooks' tests, no more"
    );
    // Another organization sends its test at once.
    let theirs = app.api_key("org_b", &["webhooks"]).await;
    app.webhook_to(&theirs, &receiver.hook("c"), &["message.received"], None)
        .await;
}

/// The 61st webhook created in a minute got 429 "test events and retries", naming an operator's
/// variable to a customer: any migration hit it.
#[tokio::test]
async fn creating_webhooks_has_a_quota_of_its_own() {
    let app = spawn_app_with(AppOptions {
        tweak: |config| {
            config.limits.webhook_creations_per_minute = 3;
            config.limits.manual_sends_per_minute = 1;
        },
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks"]).await;
    for n in 0..3 {
        let url = format!("http://127.0.0.1:9/{n}");
        app.webhook_to(&key, &url, &["message.received"], None)
            .await;
    }
    let creating =
        json!({"name": "d", "url": "http://127.0.0.1:9/d", "events": ["message.received"]});
    let refused = app
        .post("/api/webhooks", &key, &creating)
        .send()
        .await
        .unwrap();
    assert!(refused.headers().contains_key("retry-after"));
    let problem = expect_problem(refused, 429).await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("created 3 webhooks"), "{detail}");
    assert!(!detail.contains("KAANHA_"), "{detail}");
}

//! Webhook health (a webhook that keeps failing is disabled, announced, and resumes when
//! enabled) and secret rotation (both secrets sign during the overlap, then only the new one).

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::{AppOptions, TestApp, expect_json, spawn_app_with},
    receiver::{Answer, Receiver},
};

async fn webhook_state(app: &TestApp, key: &str, id: &str) -> Value {
    expect_json(
        app.get(&format!("/api/webhooks/{id}"), key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

async fn wait_for_status(app: &TestApp, key: &str, id: &str, status: &str) -> Value {
    for _ in 0..100 {
        let webhook = webhook_state(app, key, id).await;
        if webhook["status"] == status {
            return webhook;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("webhook {id} never became {status}");
}

fn message(n: usize) -> Value {
    json!({"event": "message.received", "data": {"n": n}})
}

#[tokio::test]
async fn a_webhook_that_keeps_failing_is_disabled_announced_and_resumes_when_enabled() {
    let app = spawn_app_with(AppOptions {
        retry_schedule: "none",
        tweak: |config| {
            config.disable_after_failures = 3;
            config.disable_after = Duration::ZERO;
        },
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let failing = Receiver::start().await;
    failing.answer_with(Answer::status(500));
    let watcher = Receiver::start().await;
    let watch = app
        .webhook_to(
            &key,
            &watcher.hook("watch"),
            &["webhook.disabled", "webhook.enabled"],
            None,
        )
        .await;
    // It subscribes to `webhook.enabled` too: the event about itself must not reach it.
    let hook = app
        .webhook_to(
            &key,
            &failing.hook("crm"),
            &["message.received", "webhook.enabled"],
            None,
        )
        .await;
    let id = hook["id"].as_str().unwrap();
    // Its test event fails too: failures 1; two more messages make 3.
    for n in 0..2 {
        app.publish(&key, &message(n)).await;
    }
    let disabled = wait_for_status(&app, &key, id, "disabled").await;
    assert!(
        disabled["disabledReason"]
            .as_str()
            .is_some_and(|r| r.contains("3 deliveries in a row failed")),
        "{disabled}"
    );
    assert!(disabled["disabledAt"].is_string(), "{disabled}");
    assert_eq!(disabled["consecutiveFailures"], 3, "{disabled}");
    // The operator sees it too: `/metrics` counts it, for an alert.
    assert!(
        app.metrics()
            .await
            .contains("kaanha_webhooks_disabled_total 1\n")
    );
    assert!(disabled["failingSince"].is_string(), "{disabled}");

    let announced = watcher
        .wait_for_event("webhook.disabled", 1, Duration::from_secs(5))
        .await;
    let data = &announced[0].json()["data"];
    assert_eq!(data["webhookId"], id);
    assert_eq!(data["consecutiveFailures"], 3);
    assert_eq!(data["reason"], disabled["disabledReason"]);

    // Disabled: a new event makes no delivery for it.
    let published = app.publish(&key, &message(9)).await;
    assert_eq!(published["deliveries"], 0, "{published}");

    failing.answer_with(Answer::status(200));
    let enabled = app
        .update_webhook(&key, id, &json!({"status": "active"}))
        .await;
    assert_eq!(enabled["status"], "active");
    assert_eq!(enabled["consecutiveFailures"], 0);
    assert!(enabled.get("disabledReason").is_none(), "{enabled}");
    let announced = watcher
        .wait_for_event("webhook.enabled", 1, Duration::from_secs(5))
        .await;
    assert_eq!(announced[0].json()["data"]["webhookId"], id);

    app.publish(&key, &message(10)).await;
    failing
        .wait_for(1, Duration::from_secs(5), |r| {
            r.event() == "message.received" && r.json()["data"]["n"] == 10
        })
        .await;
    assert!(
        failing
            .received()
            .iter()
            .all(|r| r.event() != "webhook.enabled"),
        "a webhook is not told about its own enabling"
    );
    assert_eq!(
        watch["status"], "active",
        "the watcher itself was never touched"
    );
}

#[tokio::test]
async fn a_delivered_event_ends_a_streak_of_failures() {
    let app = spawn_app_with(AppOptions {
        retry_schedule: "none",
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(503));
    let hook = app
        .webhook_to(&key, &receiver.hook("flaky"), &["message.received"], None)
        .await;
    let id = hook["id"].as_str().unwrap();
    app.publish(&key, &message(0)).await;
    receiver
        .wait_for_event("message.received", 1, Duration::from_secs(5))
        .await;
    let mut failing = Value::Null;
    for _ in 0..100 {
        failing = webhook_state(&app, &key, id).await;
        if failing["consecutiveFailures"] == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(failing["consecutiveFailures"], 2, "{failing}");
    assert_eq!(failing["status"], "active", "the default policy waits 24 h");

    receiver.answer_with(Answer::status(200));
    app.publish(&key, &message(1)).await;
    for _ in 0..100 {
        let webhook = webhook_state(&app, &key, id).await;
        if webhook["consecutiveFailures"] == 0 {
            assert!(webhook.get("failingSince").is_none(), "{webhook}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the delivered event did not reset the count");
}

fn signature(secret: &str, body: &[u8]) -> String {
    kaanha_gateway::delivery::sign::kaanha_signature(secret, body)
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_new_one_until_the_overlap_ends() {
    let app = spawn_app_with(AppOptions {
        tweak: |config| config.secret_overlap = Duration::from_secs(4),
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let hook = app
        .webhook_to(
            &key,
            &receiver.hook("signed"),
            &["message.received"],
            Some("old-secret-1234"),
        )
        .await;
    let id = hook["id"].as_str().unwrap();
    let rotated = app
        .update_webhook(&key, id, &json!({"secret": "new-secret-5678"}))
        .await;
    assert!(rotated["previousSecretExpiresAt"].is_string(), "{rotated}");

    app.publish(&key, &message(1)).await;
    let during = receiver
        .wait_for_event("message.received", 1, Duration::from_secs(5))
        .await;
    let request = &during[0];
    assert_eq!(
        request.header("x-kaanha-signature"),
        signature("new-secret-5678", &request.body)
    );
    assert_eq!(
        request.header("x-kaanha-signature-previous"),
        signature("old-secret-1234", &request.body)
    );
    assert_eq!(
        request.header("webhook-signature").split(' ').count(),
        2,
        "Standard Webhooks lists both signatures"
    );

    tokio::time::sleep(Duration::from_millis(4100)).await;
    app.publish(&key, &message(2)).await;
    let after = receiver
        .wait_for_event("message.received", 2, Duration::from_secs(5))
        .await;
    let request = after
        .iter()
        .find(|r| r.json()["data"]["n"] == 2)
        .expect("the second message arrived");
    assert_eq!(
        request.header("x-kaanha-signature"),
        signature("new-secret-5678", &request.body)
    );
    assert_eq!(request.header("x-kaanha-signature-previous"), "");
    assert_eq!(request.header("webhook-signature").split(' ').count(), 1);
    let settled = webhook_state(&app, &key, id).await;
    assert!(
        settled.get("previousSecretExpiresAt").is_none(),
        "{settled}"
    );
}

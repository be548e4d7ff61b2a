//! Failures and their retries: the schedule, by hand, `Retry-After`, timeouts and redirects.

use std::time::Duration;

use serde_json::json;

use crate::{
    helpers::{AppOptions, expect_json, expect_problem, spawn_app, spawn_app_with},
    receiver::{Answer, Receiver},
    signing::WAIT,
};

#[tokio::test]
async fn a_failing_receiver_gets_exactly_the_scheduled_retries_then_the_delivery_fails() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(500));
    let hook = app
        .webhook_to(&key, &receiver.hook("down"), &["contact.created"], None)
        .await;
    app.publish(
        &key,
        &json!({"event": "contact.created", "id": "c1", "data": {}}),
    )
    .await;

    let attempts = receiver.wait_for_event("contact.created", 4, WAIT).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        receiver
            .received()
            .iter()
            .filter(|r| r.event() == "contact.created")
            .count(),
        4,
        "no fifth attempt"
    );
    for (gap, scheduled) in attempts.windows(2).zip([100, 200, 300]) {
        let waited = gap[1].at.duration_since(gap[0].at).as_millis();
        assert!(
            waited >= scheduled && waited < scheduled + 700,
            "waited {waited} ms for a {scheduled} ms retry"
        );
    }
    let delivery_ids: Vec<&str> = attempts
        .iter()
        .map(|a| a.header("x-kaanha-delivery"))
        .collect();
    assert!(
        delivery_ids.iter().all(|id| *id == delivery_ids[0]),
        "retries keep the delivery id"
    );
    assert!(
        attempts.iter().all(|a| a.body == attempts[0].body),
        "retries resend the same bytes"
    );

    app.wait_for_logs(
        &key,
        hook["id"].as_str().unwrap(),
        "status=failed&event=contact.created",
    )
    .await;
    let logs = app
        .logs(&key, hook["id"].as_str().unwrap(), "event=contact.created")
        .await;
    let rows: Vec<(i64, &str, i64)> = logs
        .iter()
        .map(|r| {
            (
                r["attempt"].as_i64().unwrap(),
                r["status"].as_str().unwrap(),
                r["responseCode"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (4, "failed", 500),
            (3, "pending", 500),
            (2, "pending", 500),
            (1, "pending", 500)
        ]
    );
    assert!(logs[0]["error"].as_str().unwrap().contains("500"));
    let failed = app
        .logs(
            &key,
            hook["id"].as_str().unwrap(),
            "status=failed&event=contact.created",
        )
        .await;
    assert_eq!(failed.len(), 1);
}

#[tokio::test]
async fn a_failed_delivery_can_be_retried_by_hand_once_the_receiver_recovers() {
    let app = spawn_app_with(AppOptions {
        retry_schedule: "none",
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(503));
    let hook = app
        .webhook_to(&key, &receiver.hook("flaky"), &["payment.completed"], None)
        .await;
    let hook_id = hook["id"].as_str().unwrap();
    app.publish(
        &key,
        &json!({"event": "payment.completed", "data": {"amount": 10}}),
    )
    .await;
    let first = receiver
        .wait_for_event("payment.completed", 1, WAIT)
        .await
        .remove(0);
    let delivery_id = first.header("x-kaanha-delivery").to_owned();
    let retry = format!("/api/webhooks/{hook_id}/deliveries/{delivery_id}/retry");

    app.wait_for_logs(&key, hook_id, "status=failed&event=payment.completed")
        .await;
    receiver.answer_with(Answer::status(200));
    let retried = expect_json(
        app.client
            .post(app.url(&retry))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
        202,
    )
    .await;
    assert_eq!(retried["status"], "pending");
    receiver.wait_for_event("payment.completed", 2, WAIT).await;
    app.wait_for_logs(&key, hook_id, "status=delivered&event=payment.completed")
        .await;
    let logs = app.logs(&key, hook_id, "event=payment.completed").await;
    assert_eq!(logs[0]["status"], "delivered");
    assert_eq!(logs[0]["attempt"], 2);
    // A delivered delivery cannot be retried; an unknown one is 404.
    expect_problem(
        app.client
            .post(app.url(&retry))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    let unknown = format!("/api/webhooks/{hook_id}/deliveries/dlv_nope/retry");
    expect_problem(
        app.client
            .post(app.url(&unknown))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}

#[tokio::test]
async fn retry_after_on_a_429_is_honoured() {
    let app = spawn_app_with(AppOptions {
        retry_schedule: "50ms",
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer {
        headers: vec![("retry-after", "1".into())],
        ..Answer::status(429)
    });
    app.webhook_to(&key, &receiver.hook("busy"), &["message.read"], None)
        .await;
    app.publish(&key, &json!({"event": "message.read", "data": {}}))
        .await;
    let attempts = receiver.wait_for_event("message.read", 2, WAIT).await;
    let waited = attempts[1].at.duration_since(attempts[0].at);
    assert!(
        waited >= Duration::from_millis(1000),
        "retried after {waited:?} despite Retry-After: 1"
    );
}

#[tokio::test]
async fn a_receiver_slower_than_the_timeout_fails_the_attempt_with_a_clear_error() {
    let app = spawn_app_with(AppOptions {
        retry_schedule: "none",
        delivery_timeout: Duration::from_millis(300),
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer {
        delay: Duration::from_secs(3),
        ..Answer::status(200)
    });
    let hook = app
        .webhook_to(&key, &receiver.hook("slow"), &["message.sent"], None)
        .await;
    app.publish(&key, &json!({"event": "message.sent", "data": {}}))
        .await;
    receiver.wait_for_event("message.sent", 1, WAIT).await;
    let logs = app
        .wait_for_logs(&key, hook["id"].as_str().unwrap(), "event=message.sent")
        .await;
    assert_eq!(logs[0]["status"], "failed");
    assert!(logs[0].get("responseCode").is_none());
    assert!(
        logs[0]["error"].as_str().unwrap().contains("timed out"),
        "{}",
        logs[0]
    );
    assert!(logs[0]["durationMs"].as_i64().unwrap() >= 300);
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let app = spawn_app_with(AppOptions {
        retry_schedule: "none",
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer {
        headers: vec![("location", receiver.hook("elsewhere"))],
        ..Answer::status(302)
    });
    let hook = app
        .webhook_to(&key, &receiver.hook("moved"), &["message.delivered"], None)
        .await;
    app.publish(&key, &json!({"event": "message.delivered", "data": {}}))
        .await;
    receiver.wait_for_event("message.delivered", 1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let paths: Vec<String> = receiver
        .received()
        .iter()
        .filter(|r| r.event() == "message.delivered")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(paths, ["/moved"]);
    let logs = app
        .logs(
            &key,
            hook["id"].as_str().unwrap(),
            "event=message.delivered",
        )
        .await;
    assert_eq!(logs[0]["responseCode"], 302);
    assert!(logs[0]["error"].as_str().unwrap().contains("redirect"));
}

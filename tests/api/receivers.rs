//! Receivers that go away or misbehave: 410 Gone, a dead receiver beside a healthy one, and a
//! name that resolves to a private address at delivery.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::{AppOptions, expect_json, spawn_app, spawn_app_with},
    receiver::{Answer, Receiver},
    signing::WAIT,
};

#[tokio::test]
async fn gone_removes_a_rest_hook_subscription_but_only_fails_an_ordinary_webhook() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(410));
    let db = app.db().await;
    let zap = crate::stored_rows::webhook_row(
        &db,
        "org_a",
        &receiver.hook("zap"),
        &["contact.updated"],
        "zapier",
    )
    .await;
    let plain = app
        .webhook_to(&key, &receiver.hook("plain"), &["contact.updated"], None)
        .await;
    app.publish(&key, &json!({"event": "contact.updated", "data": {}}))
        .await;

    let plain_attempts = receiver
        .wait_for(4, WAIT, |r| {
            r.path == "/plain" && r.event() == "contact.updated"
        })
        .await;
    assert_eq!(
        plain_attempts.len(),
        4,
        "an ordinary webhook is retried on 410"
    );
    let zap_path = format!("/api/webhooks/{zap}");
    app.wait_until_gone(&zap_path, &key).await;
    // The test event and the first event may both be in flight before the first 410 is
    // recorded; after the removal, nothing more goes to the hook.
    let to_zap = || {
        receiver
            .received()
            .iter()
            .filter(|r| r.path == "/zap")
            .count()
    };
    let before = to_zap();
    assert!(
        (1..=2).contains(&before),
        "{before} requests reached the hook"
    );
    app.publish(
        &key,
        &json!({"event": "contact.updated", "data": {"again": true}}),
    )
    .await;
    receiver
        .wait_for(8, WAIT, |r| {
            r.path == "/plain" && r.event() == "contact.updated"
        })
        .await;
    assert_eq!(
        to_zap(),
        before,
        "a REST hook that answered 410 is never called again"
    );
    let plain_id = plain["id"].as_str().unwrap();
    expect_json(
        app.get(&format!("/api/webhooks/{plain_id}"), &key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
}

#[tokio::test]
async fn a_dead_receiver_does_not_slow_a_healthy_one() {
    let app = spawn_app_with(AppOptions {
        retry_schedule: "none",
        delivery_timeout: Duration::from_secs(5),
        webhook_concurrency: 4,
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let dead = Receiver::start().await;
    dead.answer_with(Answer {
        delay: Duration::from_secs(5),
        ..Answer::status(200)
    });
    let healthy = Receiver::start().await;
    app.webhook_to(&key, &dead.hook("dead"), &["conversation.opened"], None)
        .await;
    app.webhook_to(&key, &healthy.hook("ok"), &["conversation.opened"], None)
        .await;
    let events: Vec<Value> = (0..40)
        .map(|i| json!({"event": "conversation.opened", "id": format!("c{i}"), "data": {}}))
        .collect();
    let started = std::time::Instant::now();
    expect_json(
        app.post("/api/events/batch", &key, &json!({"events": events}))
            .send()
            .await
            .unwrap(),
        202,
    )
    .await;
    healthy
        .wait_for_event("conversation.opened", 40, Duration::from_secs(4))
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the healthy receiver waited {:?}",
        started.elapsed()
    );
    assert!(
        dead.received()
            .iter()
            .filter(|r| r.event() == "conversation.opened")
            .count()
            <= 4,
        "the dead receiver holds at most its in-flight limit"
    );
}

#[tokio::test]
async fn private_addresses_are_refused_at_delivery_too_with_the_reason_logged() {
    let app = spawn_app_with(AppOptions {
        allow_private_targets: false,
        retry_schedule: "none",
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let port = receiver.url.rsplit(':').next().unwrap().to_owned();
    let db = app.db().await;
    // Rows as a since-changed policy or a rebinding name would leave them: the API refuses these.
    let mut ids = Vec::new();
    for url in [
        format!("https://127.0.0.1:{port}/a"),
        format!("https://localhost:{port}/b"),
        format!("http://93.184.216.34:{port}/c"),
    ] {
        ids.push(
            crate::stored_rows::webhook_row(&db, "org_a", &url, &["broadcast.completed"], "api")
                .await,
        );
    }
    app.publish(&key, &json!({"event": "broadcast.completed", "data": {}}))
        .await;
    for (id, expected) in ids
        .iter()
        .zip(["private or reserved", "resolves to", "https"])
    {
        let logs = app
            .wait_for_logs(&key, id, "event=broadcast.completed")
            .await;
        let error = logs[0]["error"].as_str().unwrap();
        assert!(error.contains(expected), "{id}: {error}");
        assert_eq!(logs[0]["status"], "failed");
    }
    assert!(
        receiver.received().is_empty(),
        "nothing reached the loopback receiver"
    );
}

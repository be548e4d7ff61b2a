//! `serve --role api|worker|all`: the API and the workers scale separately.

use std::time::Duration;

use kaanha_gateway::config::Role;
use serde_json::json;

use crate::{
    helpers::{AppOptions, expect_json, expect_problem, spawn_app_with},
    receiver::Receiver,
};

#[tokio::test]
async fn an_api_instance_stores_but_never_sends_and_a_worker_on_the_same_database_delivers() {
    let api = spawn_app_with(AppOptions {
        role: Role::Api,
        ..AppOptions::default()
    })
    .await;
    let key = api.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let hook = api
        .webhook_to(&key, &receiver.hook("split"), &["message.received"], None)
        .await;
    api.publish(
        &key,
        &json!({"event": "message.received", "id": "split-1", "data": {}}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(receiver.received().is_empty(), "the api role never sends");
    let pending = format!(
        "/api/webhooks/{}/deliveries?status=pending",
        hook["id"].as_str().unwrap()
    );
    let page = expect_json(api.get(&pending, &key).send().await.unwrap(), 200).await;
    assert_eq!(
        page["data"].as_array().unwrap().len(),
        2,
        "the test event and the event wait"
    );

    // A worker on the same database picks the work up; it serves no API.
    let worker = api
        .restart(AppOptions {
            role: Role::Worker,
            ..AppOptions::default()
        })
        .await;
    receiver
        .wait_for_event("message.received", 1, Duration::from_secs(10))
        .await;
    receiver
        .wait_for_event("webhook.test", 1, Duration::from_secs(10))
        .await;
    expect_problem(worker.get("/api/webhooks", &key).send().await.unwrap(), 404).await;
    for path in ["/healthz", "/readyz"] {
        expect_json(
            worker.client.get(worker.url(path)).send().await.unwrap(),
            200,
        )
        .await;
    }
    let metrics = worker.metrics().await;
    assert!(
        metrics.contains("kaanha_delivery_attempts_total{status=\"delivered\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn metrics_count_publishes_and_attempts() {
    let app = spawn_app_with(AppOptions::default()).await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let hook = app
        .webhook_to(&key, &receiver.hook("m"), &["message.received"], None)
        .await;
    app.publish(&key, &json!({"event": "message.received", "data": {}}))
        .await;
    receiver
        .wait_for_event("message.received", 1, Duration::from_secs(10))
        .await;
    app.wait_for_logs(&key, hook["id"].as_str().unwrap(), "event=message.received")
        .await;
    // The webhook's test event is claimed rather than handed over: on a loaded machine it may
    // be recorded a moment after the published event.
    let mut metrics = app.metrics().await;
    // The pending count is refreshed in the background, at most every 5 seconds.
    for _ in 0..200 {
        if metrics.contains("kaanha_delivery_attempts_total{status=\"delivered\"} 2\n")
            && metrics.contains("kaanha_deliveries_pending 0\n")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        metrics = app.metrics().await;
    }
    assert!(
        metrics.contains("kaanha_events_published_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kaanha_delivery_attempts_total{status=\"delivered\"} 2\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kaanha_deliveries_pending 0\n"),
        "{metrics}"
    );
}

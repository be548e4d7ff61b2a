//! The engine's timing and bookkeeping: woken by publishes, asleep until the next retry, pruning
//! old logs, and handing fresh deliveries over without a claim.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::{AppOptions, expect_json, spawn_app_with},
    receiver::{Answer, Receiver},
    signing::WAIT,
};

#[tokio::test]
async fn workers_wake_on_publish_and_sleep_only_until_the_next_retry_is_due() {
    // Polling every minute: anything faster than that is the wake-up and the due-time sleep.
    let app = spawn_app_with(AppOptions {
        poll_interval: Duration::from_secs(60),
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    app.webhook_to(&key, &receiver.hook("fast"), &["message.received"], None)
        .await;
    receiver
        .wait_for_event("webhook.test", 1, Duration::from_secs(2))
        .await;

    let started = std::time::Instant::now();
    app.publish(&key, &json!({"event": "message.received", "data": {}}))
        .await;
    receiver
        .wait_for_event("message.received", 1, Duration::from_secs(2))
        .await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "publish → receipt took {:?}",
        started.elapsed()
    );

    receiver.answer_with(Answer::status(500));
    app.publish(
        &key,
        &json!({"event": "message.received", "id": "again", "data": {}}),
    )
    .await;
    receiver
        .wait_for(4, Duration::from_secs(5), |r| r.json()["id"] == "again")
        .await;
}

#[tokio::test]
async fn retention_prunes_old_logs_and_finished_events_but_keeps_pending_work() {
    let app = spawn_app_with(AppOptions {
        retry_schedule: "1h",
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let ok = Receiver::start().await;
    let down = Receiver::start().await;
    down.answer_with(Answer::status(500));
    let ok_hook = app
        .webhook_to(&key, &ok.hook("ok"), &["message.read"], None)
        .await;
    let down_hook = app
        .webhook_to(&key, &down.hook("down"), &["contact.opted_out"], None)
        .await;
    app.publish(&key, &json!({"event": "message.read", "data": {}}))
        .await;
    app.publish(&key, &json!({"event": "contact.opted_out", "data": {}}))
        .await;
    ok.wait_for_event("message.read", 1, WAIT).await;
    down.wait_for_event("contact.opted_out", 1, WAIT).await;
    let (ok_id, down_id) = (
        ok_hook["id"].as_str().unwrap(),
        down_hook["id"].as_str().unwrap(),
    );
    app.wait_for_logs(&key, ok_id, "event=message.read").await;
    app.wait_for_logs(&key, down_id, "event=contact.opted_out")
        .await;

    let db = app.db().await;
    let (attempts, events) =
        kaanha_gateway::delivery::prune::prune(&db, Duration::ZERO, &Default::default())
            .await
            .unwrap();
    assert!(attempts >= 4, "pruned {attempts} log rows");
    // The healthy webhook's test event and message.read; the failing webhook's two events
    // still wait for their retry.
    assert_eq!(events, 2, "finished events pruned");
    assert!(app.logs(&key, ok_id, "").await.is_empty());
    let pending = format!("/api/webhooks/{down_id}/deliveries?status=pending");
    let page = expect_json(app.get(&pending, &key).send().await.unwrap(), 200).await;
    assert_eq!(
        page["data"][0]["event"], "contact.opted_out",
        "pending work survives pruning"
    );
}

/// The engine's two ways of taking a delivery, as `/metrics` counts them.
async fn taken(app: &crate::helpers::TestApp) -> (u64, u64) {
    (
        app.counter(r#"kaanha_deliveries_taken_total{by="handoff"}"#)
            .await,
        app.counter(r#"kaanha_deliveries_taken_total{by="claim"}"#)
            .await,
    )
}

#[tokio::test]
async fn a_publish_hands_what_the_engine_has_room_for_and_leaves_the_rest_to_claims() {
    // One request at a time per webhook, so its lane holds two: one sending, one queued.
    let app = spawn_app_with(AppOptions {
        webhook_concurrency: 1,
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let hook = app
        .webhook_to(&key, &receiver.hook("h"), &["message.received"], None)
        .await;
    let hook_id = hook["id"].as_str().unwrap();
    app.wait_for_logs(&key, hook_id, "event=webhook.test").await;
    assert_eq!(taken(&app).await, (0, 1), "the test event is claimed");

    // The lane is empty: a single publish goes straight to the engine.
    app.publish(
        &key,
        &json!({"event": "message.received", "data": {"n": 0}}),
    )
    .await;
    receiver.wait_for_event("message.received", 1, WAIT).await;
    app.wait_for_logs(&key, hook_id, "event=message.received")
        .await;
    assert_eq!(taken(&app).await, (1, 1));

    // Five at once: two fit the lane and are handed over, three wait in the database for a
    // claim once the receiver has answered.
    receiver.answer_with(Answer {
        delay: Duration::from_millis(200),
        ..Answer::status(200)
    });
    let events: Vec<Value> = (1..=5)
        .map(|n| json!({"event": "message.received", "data": {"n": n}}))
        .collect();
    let response = app
        .post("/api/events/batch", &key, &json!({"events": events}))
        .send()
        .await
        .unwrap();
    expect_json(response, 202).await;
    let received = receiver.wait_for_event("message.received", 6, WAIT).await;
    let mut numbers: Vec<i64> = received
        .iter()
        .filter(|r| r.event() == "message.received")
        .map(|r| r.json()["data"]["n"].as_i64().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [0, 1, 2, 3, 4, 5], "each event exactly once");
    for _ in 0..100 {
        if app
            .logs(&key, hook_id, "event=message.received")
            .await
            .len()
            == 6
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let logged = app.logs(&key, hook_id, "event=message.received").await;
    assert_eq!(logged.len(), 6, "one attempt logged per event: {logged:?}");
    assert!(logged.iter().all(|row| row["status"] == "delivered"));
    assert_eq!(taken(&app).await, (3, 4));
}

#[tokio::test]
async fn a_stop_never_waits_for_a_prune_pass_held_up_by_a_lock() {
    use sea_orm::{ConnectionTrait, TransactionTrait};

    let app = spawn_app_with(AppOptions::default()).await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let hook = app
        .webhook_to(&key, &receiver.hook("h"), &["message.read"], None)
        .await;
    app.publish(&key, &json!({"event": "message.read", "data": {}}))
        .await;
    app.wait_for_logs(&key, hook["id"].as_str().unwrap(), "event=message.read")
        .await;

    // Another connection holds the log rows (PostgreSQL) or the write lock (SQLite): the pass's
    // first delete waits on it.
    let holder = app.db().await;
    let held = holder.begin().await.unwrap();
    held.execute_unprepared("UPDATE delivery_attempts SET attempt = attempt")
        .await
        .unwrap();

    let db = app.db().await;
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let pass = tokio::spawn(async move {
        let metrics = Default::default();
        kaanha_gateway::delivery::prune::pass_or_stop(&db, Duration::ZERO, &metrics, &mut stopped)
            .await
            .is_none()
    });
    // A head start, so the stop usually finds the pass waiting on the lock; a stop that comes
    // earlier must end it just the same.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(true).unwrap();
    // SQLite's busy timeout is 10 s, and PostgreSQL's row lock has none.
    let stopped = tokio::time::timeout(Duration::from_secs(5), pass).await;
    held.rollback().await.unwrap();
    assert!(
        stopped.expect("the pass held up the stop").unwrap(),
        "the pass finished instead of stopping"
    );
}

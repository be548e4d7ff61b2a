//! Recover and replay: what a webhook missed, sent again for a time range.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::{
    helpers::{
        AppOptions, TestApp, expect_json, expect_problem, invalid_fields, spawn_app, spawn_app_with,
    },
    receiver::{Answer, Receiver},
    signing::WAIT,
};

fn ago(duration: chrono::Duration) -> String {
    (Utc::now() - duration).to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn hour_ago() -> String {
    ago(chrono::Duration::hours(1))
}

/// POSTs `body` to `path`, expecting 202; returns the answer.
async fn accepted(app: &TestApp, key: &str, path: &str, body: &Value) -> Value {
    expect_json(app.post(path, key, body).send().await.unwrap(), 202).await
}

/// Requests of this event type the receiver has had.
fn count_arrived(receiver: &Receiver, event: &str) -> usize {
    receiver
        .received()
        .iter()
        .filter(|r| r.event() == event)
        .count()
}

async fn deliveries(app: &TestApp, key: &str, webhook: &str, status: &str) -> Vec<Value> {
    let path = format!("/api/webhooks/{webhook}/deliveries?limit=100&status={status}");
    let page = expect_json(app.get(&path, key).send().await.unwrap(), 200).await;
    page["data"].as_array().unwrap().clone()
}

async fn wait_for_deliveries(app: &TestApp, key: &str, webhook: &str, status: &str, count: usize) {
    for _ in 0..200 {
        if deliveries(app, key, webhook, status).await.len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} deliveries {status} within 10 s");
}

#[tokio::test]
async fn recover_after_a_receiver_outage_delivers_everything_that_failed_once_more() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(503));
    let hook = app
        .webhook_to(&key, &receiver.hook("down"), &["contact.created"], None)
        .await;
    let id = hook["id"].as_str().unwrap();
    for n in 0..3 {
        app.publish(
            &key,
            &json!({"event": "contact.created", "id": format!("c{n}"), "data": {}}),
        )
        .await;
    }
    // Each delivery: the first attempt and three retries, all refused; the webhook's test event
    // (sent when it was created) failed too.
    wait_for_deliveries(&app, &key, id, "failed", 4).await;
    assert_eq!(count_arrived(&receiver, "contact.created"), 12);

    // The receiver is back.
    receiver.answer_with(Answer::status(204));
    let path = format!("/api/webhooks/{id}/recover");
    let answer = accepted(&app, &key, &path, &json!({"since": hour_ago()})).await;
    assert_eq!(answer, json!({"requeued": 4}));
    wait_for_deliveries(&app, &key, id, "delivered", 4).await;
    let arrived = receiver.wait_for_event("contact.created", 15, WAIT).await;
    let mut ids: Vec<String> = arrived[12..]
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids, ["c0", "c1", "c2"], "each failed event once more");
    let rows = app.logs(&key, id, "status=delivered").await;
    assert_eq!(rows.len(), 4);
    assert!(
        rows.iter().all(|r| r["attempt"] == 5),
        "attempts keep their numbers across a recover (4 before it, this the 5th): {rows:?}"
    );

    // Nothing failed is left: a second call queues nothing, and nothing more arrives.
    let again = accepted(&app, &key, &path, &json!({"since": hour_ago()})).await;
    assert_eq!(again, json!({"requeued": 0}));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count_arrived(&receiver, "contact.created"), 15);
}

#[tokio::test]
async fn a_recovered_delivery_gets_the_whole_schedule_again_numbered_on_from_its_last_attempt() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(503));
    let hook = app
        .webhook_to(&key, &receiver.hook("down"), &["contact.created"], None)
        .await;
    let id = hook["id"].as_str().unwrap();
    wait_for_deliveries(&app, &key, id, "failed", 1).await;
    let path = format!("/api/webhooks/{id}/recover");
    accepted(&app, &key, &path, &json!({"since": hour_ago()})).await;
    // Still down: the first attempt and three retries again, numbered 5 to 8, then failed.
    receiver.wait_for_event("webhook.test", 8, WAIT).await;
    wait_for_deliveries(&app, &key, id, "failed", 1).await;
    let rows = app.wait_for_logs(&key, id, "status=failed").await;
    let numbers: Vec<i64> = app
        .logs(&key, id, "")
        .await
        .iter()
        .map(|r| r["attempt"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [8, 7, 6, 5, 4, 3, 2, 1], "{rows:?}");
}

#[tokio::test]
async fn recover_takes_only_the_range_asked_for() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(500));
    let hook = app
        .webhook_to(&key, &receiver.hook("down"), &["contact.created"], None)
        .await;
    let id = hook["id"].as_str().unwrap();
    app.publish(&key, &json!({"event": "contact.created", "data": {}}))
        .await;
    wait_for_deliveries(&app, &key, id, "failed", 2).await;
    receiver.answer_with(Answer::status(204));

    // A range that ended before the delivery failed.
    let path = format!("/api/webhooks/{id}/recover");
    let body = json!({"since": hour_ago(), "until": ago(chrono::Duration::minutes(30))});
    let answer = accepted(&app, &key, &path, &body).await;
    assert_eq!(answer, json!({"requeued": 0}));
    let all = deliveries(&app, &key, id, "failed").await;
    assert_eq!(
        all.len(),
        2,
        "{all:?} {:?}",
        deliveries(&app, &key, id, "pending").await
    );
}

#[tokio::test]
async fn recover_and_replay_refuse_what_they_cannot_do_and_change_nothing() {
    let app = spawn_app_with(AppOptions {
        tweak: |config| config.limits.replay_max_events = 2,
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let other = app.api_key("org_b", &["webhooks"]).await;
    let receiver = Receiver::start().await;
    let hook = app
        .webhook_to(&key, &receiver.hook("ok"), &["contact.created"], None)
        .await;
    let id = hook["id"].as_str().unwrap();
    for _ in 0..3 {
        app.publish(&key, &json!({"event": "contact.created", "data": {}}))
            .await;
    }
    receiver.wait_for_event("contact.created", 3, WAIT).await;
    // Every delivery (the test event's too) recorded as delivered first: what is pending at
    // the end can then only come from the calls below. (An outcome is written just after the
    // receiver answers, and on a loaded machine an attempt may time out and be retried.)
    wait_for_deliveries(&app, &key, id, "delivered", 4).await;
    let arrived = count_arrived(&receiver, "contact.created");
    let recover = format!("/api/webhooks/{id}/recover");
    let replay = format!("/api/webhooks/{id}/replay");
    let refused = |path: &str, body: Value, status: u16, field: &'static str| {
        let request = app.post(path, &key, &body);
        async move {
            let problem = expect_problem(request.send().await.unwrap(), status).await;
            if status == 422 {
                assert!(
                    invalid_fields(&problem).contains(&field.to_owned()),
                    "{problem}"
                );
            }
            problem
        }
    };

    let wide = refused(
        &recover,
        json!({"since": ago(chrono::Duration::days(15))}),
        422,
        "until",
    )
    .await;
    assert!(
        wide["detail"].as_str().unwrap().contains("14 days"),
        "{wide}"
    );
    refused(
        &recover,
        json!({"since": ago(chrono::Duration::hours(-1))}),
        422,
        "since",
    )
    .await;
    refused(
        &recover,
        json!({"since": hour_ago(), "until": ago(chrono::Duration::hours(2))}),
        422,
        "until",
    )
    .await;
    let garbled = expect_problem(
        app.post(&recover, &key, &json!({"since": "yesterday"}))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert!(
        garbled["detail"].as_str().unwrap().contains("since"),
        "{garbled}"
    );

    refused(
        &replay,
        json!({"since": hour_ago(), "events": ["payment.completed"]}),
        422,
        "events[0]",
    )
    .await;
    refused(
        &replay,
        json!({"since": hour_ago(), "events": ["no.such"]}),
        422,
        "events[0]",
    )
    .await;
    refused(
        &replay,
        json!({"since": ago(chrono::Duration::days(40))}),
        422,
        "since",
    )
    .await;
    let many = refused(&replay, json!({"since": hour_ago()}), 422, "since").await;
    assert!(
        many["detail"].as_str().unwrap().contains("3 events"),
        "{many}"
    );

    // Another organization's webhook does not exist for it.
    for path in [&recover, &replay] {
        let response = app
            .post(path, &other, &json!({"since": hour_ago()}))
            .send()
            .await
            .unwrap();
        expect_problem(response, 404).await;
    }
    // A disabled webhook's deliveries would fail without a request.
    app.update_webhook(&key, id, &json!({"status": "disabled"}))
        .await;
    for (path, body) in [
        (&recover, json!({"since": hour_ago()})),
        (
            &replay,
            json!({"since": hour_ago(), "events": ["contact.created"]}),
        ),
    ] {
        let response = app.post(path, &key, &body).send().await.unwrap();
        expect_problem(response, 409).await;
    }
    assert_eq!(
        deliveries(&app, &key, id, "pending").await.len(),
        0,
        "nothing was queued by a refused call"
    );
    assert_eq!(count_arrived(&receiver, "contact.created"), arrived);
}

#[tokio::test]
async fn replay_sends_a_range_again_marked_as_replays_with_the_original_ids() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let hook = app
        .webhook_to(
            &key,
            &receiver.hook("crm"),
            &["contact.created", "message.received"],
            Some("replay-secret-123"),
        )
        .await;
    let id = hook["id"].as_str().unwrap();
    for n in 0..2 {
        app.publish(
            &key,
            &json!({"event": "contact.created", "id": format!("c{n}"), "data": {"n": n}}),
        )
        .await;
    }
    app.publish(
        &key,
        &json!({"event": "message.received", "id": "m0", "data": {}}),
    )
    .await;
    // Another organization's event of the same type and id is not this one's to replay.
    let other = app.api_key("org_b", &["webhooks", "events:publish"]).await;
    app.publish(
        &other,
        &json!({"event": "contact.created", "id": "c0", "data": {"org": "b"}}),
    )
    .await;
    let originals = receiver.wait_for_event("contact.created", 2, WAIT).await;
    receiver.wait_for_event("message.received", 1, WAIT).await;
    assert!(
        originals
            .iter()
            .all(|r| r.header("x-kaanha-replay").is_empty())
    );

    let path = format!("/api/webhooks/{id}/replay");
    let body = json!({"since": hour_ago(), "events": ["contact.created"]});
    let answer = accepted(&app, &key, &path, &body).await;
    assert_eq!(answer, json!({"queued": 2}));
    let all = receiver.wait_for_event("contact.created", 4, WAIT).await;
    let replayed: Vec<_> = all
        .iter()
        .filter(|r| r.header("x-kaanha-replay") == "true")
        .collect();
    assert_eq!(replayed.len(), 2);
    for copy in &replayed {
        let original = originals
            .iter()
            .find(|o| o.json()["id"] == copy.json()["id"])
            .expect("a replay carries an original event id");
        assert_eq!(copy.body, original.body, "the same bytes as the original");
        assert_ne!(
            copy.header("x-kaanha-delivery"),
            original.header("x-kaanha-delivery")
        );
        let expected =
            kaanha_gateway::delivery::sign::kaanha_signature("replay-secret-123", &copy.body);
        assert_eq!(
            copy.header("x-kaanha-signature"),
            expected,
            "signed as any delivery"
        );
    }

    // Without a list: every type the webhook subscribes to, but not what was replayed already
    // (a repeated call used to queue the whole range again, each time).
    let answer = accepted(&app, &key, &path, &json!({"since": hour_ago()})).await;
    assert_eq!(answer, json!({"queued": 1}));
    receiver.wait_for_event("message.received", 2, WAIT).await;
    let again = accepted(&app, &key, &path, &json!({"since": hour_ago()})).await;
    assert_eq!(again, json!({"queued": 0}));
    assert_eq!(count_arrived(&receiver, "contact.created"), 4);
    let rows = app
        .wait_for_logs(&key, id, "event=message.received&status=delivered")
        .await;
    assert!(!rows.is_empty());
}

/// 20 replays queued 200,000 POSTs in seconds: calls were counted, not the deliveries they
/// queue, and recover had no bound at all.
#[tokio::test]
async fn redelivery_is_metered_by_the_deliveries_it_queues_and_recover_is_bounded() {
    let app = spawn_app_with(AppOptions {
        retry_schedule: "10ms",
        tweak: |config| {
            config.limits.redeliveries_per_hour = 5;
            config.limits.recover_max_deliveries = 3;
        },
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(503));
    let hook = app
        .webhook_to(&key, &receiver.hook("m"), &["contact.created"], None)
        .await;
    let id = hook["id"].as_str().unwrap();
    let events = (0..4)
        .map(|n| json!({"event": "contact.created", "id": format!("c{n}"), "data": {}}))
        .collect();
    app.publish_batch(&key, events).await;
    wait_for_deliveries(&app, &key, id, "failed", 5).await;

    // Five failed (four events and the test event): more than recover may take at once.
    let recover = format!("/api/webhooks/{id}/recover");
    let problem = expect_problem(
        app.post(&recover, &key, &json!({"since": hour_ago()}))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["since"], "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("the most one call may recover")
    );

    // Four events replayed: within the hour's five.
    let replay = format!("/api/webhooks/{id}/replay");
    let answer = accepted(&app, &key, &replay, &json!({"since": hour_ago()})).await;
    assert_eq!(answer, json!({"queued": 4}));
    // Two more would pass the budget: refused whole, with when to come back.
    let publish_two = (4..6)
        .map(|n| json!({"event": "contact.created", "id": format!("c{n}"), "data": {}}))
        .collect();
    app.publish_batch(&key, publish_two).await;
    let refused = app
        .post(&replay, &key, &json!({"since": hour_ago()}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    let problem = expect_problem(refused, 429).await;
    assert!(problem["detail"].as_str().unwrap().contains("per hour"));
    // Counted once every one has ended: counted by state while they move, one could be counted
    // twice, or not at all.
    for _ in 0..400 {
        if deliveries(&app, &key, id, "pending").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let replays = deliveries(&app, &key, id, "failed").await.len()
        + deliveries(&app, &key, id, "delivered").await.len();
    assert_eq!(replays, 5 + 2 + 4, "nothing queued by the refused call");
}

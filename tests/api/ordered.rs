//! Ordered delivery: one at a time, in publish order, a retrying delivery holding back the
//! rest, a failed one releasing the next.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, expect_json, spawn_app},
    receiver::{Answer, Receiver},
    signing::WAIT,
};

async fn ordered_webhook(app: &TestApp, key: &str, receiver: &Receiver) -> String {
    let body = json!({
        "name": "ledger",
        "url": receiver.hook("ledger"),
        "events": ["payment.completed"],
        "ordered": true,
    });
    let hook = app.create_webhook(key, &body).await;
    assert_eq!(hook["ordered"], true, "{hook}");
    hook["id"].as_str().unwrap().to_owned()
}

async fn publish_payments(app: &TestApp, key: &str, ids: &[&str]) {
    let events: Vec<Value> = ids
        .iter()
        .map(|id| json!({"event": "payment.completed", "id": id, "data": {"paymentId": id}}))
        .collect();
    app.publish_batch(key, events).await;
}

/// The payment ids the receiver got, in arrival order.
fn arrivals(receiver: &Receiver) -> Vec<String> {
    receiver
        .received()
        .iter()
        .filter(|r| r.event() == "payment.completed")
        .map(|r| r.json()["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_webhook_whose_first_delivery_fails_twice_still_receives_the_rest_in_publish_order() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let id = ordered_webhook(&app, &key, &receiver).await;
    receiver.wait_for_event("webhook.test", 1, WAIT).await;

    // The receiver is down for the first two attempts of the first payment.
    receiver.answer_with(Answer::status(503));
    publish_payments(&app, &key, &["p1", "p2", "p3", "p4", "p5"]).await;
    receiver.wait_for_event("payment.completed", 2, WAIT).await;
    // The second attempt is answered 503 before the receiver comes back; the third is due
    // 200 ms after it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Slower than each answer, so a second request in flight would show.
    receiver.answer_with(Answer {
        delay: Duration::from_millis(30),
        ..Answer::status(200)
    });
    receiver.wait_for_event("payment.completed", 7, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        arrivals(&receiver),
        ["p1", "p1", "p1", "p2", "p3", "p4", "p5"],
        "the rest waited for p1's retries, then came in publish order, once each"
    );
    // One at a time: each request arrived after the one before was answered.
    let payments: Vec<_> = receiver
        .received()
        .into_iter()
        .filter(|r| r.event() == "payment.completed")
        .collect();
    for pair in payments[2..].windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= Duration::from_millis(30),
            "two in flight: {gap:?} apart"
        );
    }
    let delivered = app
        .logs(&key, &id, "status=delivered&event=payment.completed")
        .await;
    assert_eq!(delivered.len(), 5);
}

#[tokio::test]
async fn a_delivery_that_finally_fails_releases_the_next_and_the_log_says_so() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let id = ordered_webhook(&app, &key, &receiver).await;
    receiver.wait_for_event("webhook.test", 1, WAIT).await;
    receiver.answer_with(Answer::status(500));
    publish_payments(&app, &key, &["p1", "p2"]).await;
    // While p1 is retried, p2 waits in line, with no attempt time of its own.
    receiver.wait_for_event("payment.completed", 1, WAIT).await;
    let waiting = expect_json(
        app.get(
            &format!("/api/webhooks/{id}/deliveries?status=pending"),
            &key,
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    let queued = waiting["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["eventId"] == "p2")
        .expect("p2 is pending while p1 is retried");
    assert!(queued.get("nextAttemptAt").is_none(), "{queued}");

    // p1: the first attempt and three retries, all refused; only then p2.
    receiver.wait_for_event("payment.completed", 4, WAIT).await;
    receiver.answer_with(Answer::status(200));
    let failed = app
        .wait_for_logs(&key, &id, "status=failed&event=payment.completed")
        .await;
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("the next delivery in order was released"),
        "{failed:?}"
    );
    app.wait_for_logs(&key, &id, "status=delivered&event=payment.completed")
        .await;
    let order = arrivals(&receiver);
    assert_eq!(order[..4], ["p1", "p1", "p1", "p1"], "{order:?}");
    assert!(
        order[4..].iter().all(|id| id == "p2") && order.len() > 4,
        "{order:?}"
    );
}

#[tokio::test]
async fn turning_ordering_off_sends_what_waited_in_line_at_once() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let id = ordered_webhook(&app, &key, &receiver).await;
    receiver.wait_for_event("webhook.test", 1, WAIT).await;
    // p1 is held by a receiver that answers slowly; p2 and p3 wait behind it.
    receiver.answer_with(Answer {
        delay: Duration::from_millis(1500),
        ..Answer::status(200)
    });
    publish_payments(&app, &key, &["p1", "p2", "p3"]).await;
    receiver.wait_for_event("payment.completed", 1, WAIT).await;
    let changed = app
        .update_webhook(&key, &id, &json!({"ordered": false}))
        .await;
    assert_eq!(changed["ordered"], false);
    // Both arrive while p1 is still being answered.
    receiver
        .wait_for_event("payment.completed", 3, Duration::from_millis(1000))
        .await;
}

//! Per-webhook rate limits: measured at the receiver, with one gateway and with two on the same
//! database.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{
    helpers::{
        AppOptions, TestApp, expect_json, expect_problem, invalid_fields, spawn_app, spawn_app_with,
    },
    receiver::{Answer, Received, Receiver},
};

const LIMIT: usize = 20;
const EVENTS: usize = 60;

/// How much later than the gateway sent it this test's receiver may note a request: the
/// receiver shares the machine's two cores with the gateways and the database, and a busy core
/// wakes it late. Windows are that much shorter than a second, so a request noted late cannot
/// make a second look fuller than it was sent.
const RECEIVER_JITTER: Duration = Duration::from_millis(30);

/// Most requests that arrived within any one second (`[t, t + 1 s)`), less the receiver's own
/// jitter.
fn most_in_one_second(arrived: &[Received]) -> usize {
    let mut at: Vec<Instant> = arrived.iter().map(|r| r.at).collect();
    at.sort();
    (0..at.len())
        .map(|first| {
            at[first..]
                .iter()
                .take_while(|t| {
                    t.duration_since(at[first]) < Duration::from_secs(1) - RECEIVER_JITTER
                })
                .count()
        })
        .max()
        .unwrap_or(0)
}

async fn limited_webhook(app: &TestApp, key: &str, receiver: &Receiver) -> Value {
    let body = json!({
        "name": "ledger",
        "url": receiver.hook("ledger"),
        "events": ["payment.completed"],
        "rateLimit": LIMIT,
    });
    let hook = app.create_webhook(key, &body).await;
    assert_eq!(hook["rateLimit"], LIMIT, "shown on read: {hook}");
    hook
}

async fn publish_batch(app: &TestApp, key: &str, count: usize, first: usize) {
    let events: Vec<Value> = (first..first + count)
        .map(|n| json!({"event": "payment.completed", "id": format!("pay_{n}"), "data": {"n": n}}))
        .collect();
    app.publish_batch(key, events).await;
}

/// Every request the receiver got (the test event too) stays within the limit, and the events
/// arrive paced rather than all at once.
async fn assert_paced(receiver: &Receiver) {
    let payments = receiver
        .wait_for_event("payment.completed", EVENTS, Duration::from_secs(30))
        .await;
    let all = receiver.received();
    let most = most_in_one_second(&all);
    assert!(
        most <= LIMIT,
        "{most} requests within one second, over the limit of {LIMIT}"
    );
    let first = payments.iter().map(|r| r.at).min().unwrap();
    let last = payments.iter().map(|r| r.at).max().unwrap();
    let spread = last.duration_since(first);
    let paced = Duration::from_secs_f64((EVENTS - 1) as f64 / LIMIT as f64 * 0.95);
    assert!(spread >= paced, "{EVENTS} events arrived within {spread:?}");
}

#[tokio::test]
async fn a_receiver_is_never_sent_more_than_its_rate_limit() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let hook = limited_webhook(&app, &key, &receiver).await;
    publish_batch(&app, &key, EVENTS, 0).await;
    assert_paced(&receiver).await;

    // Waiting for its turn is not a failure: every delivery went out once and was delivered.
    let id = hook["id"].as_str().unwrap();
    let path = format!("/api/webhooks/{id}/logs?limit=100&status=failed");
    let failed = expect_json(app.get(&path, &key).send().await.unwrap(), 200).await;
    assert_eq!(failed["data"], json!([]));
    let read = expect_json(
        app.get(&format!("/api/webhooks/{id}"), &key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(read["consecutiveFailures"], 0);
}

#[tokio::test]
async fn two_instances_on_one_database_share_the_rate_limit() {
    let app = spawn_app().await;
    let other = app.beside(AppOptions::default()).await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    limited_webhook(&app, &key, &receiver).await;
    // Half the events through each instance, at once: both engines claim and send.
    tokio::join!(
        publish_batch(&app, &key, EVENTS / 2, 0),
        publish_batch(&other, &key, EVENTS / 2, EVENTS / 2),
    );
    assert_paced(&receiver).await;
}

#[tokio::test]
async fn a_rate_limit_is_checked_changed_and_removed() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks"]).await;
    let receiver = Receiver::start().await;
    for bad in [json!(0), json!(10_001), json!(-5)] {
        let body = json!({"name": "x", "url": receiver.hook("x"), "events": ["contact.created"], "rateLimit": bad});
        let problem = expect_problem(
            app.post("/api/webhooks", &key, &body).send().await.unwrap(),
            422,
        )
        .await;
        assert_eq!(invalid_fields(&problem), ["rateLimit"], "{problem}");
    }
    let hook = app
        .webhook_to(&key, &receiver.hook("x"), &["contact.created"], None)
        .await;
    assert!(hook.get("rateLimit").is_none(), "no limit unless asked");
    let id = hook["id"].as_str().unwrap();
    let limited = app.update_webhook(&key, id, &json!({"rateLimit": 5})).await;
    assert_eq!(limited["rateLimit"], 5);
    let path = format!("/api/webhooks/{id}");
    let problem = expect_problem(
        app.patch(&path, &key, &json!({"rateLimit": 0}))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["rateLimit"]);
    let removed = app
        .update_webhook(&key, id, &json!({"rateLimit": null}))
        .await;
    assert!(removed.get("rateLimit").is_none(), "{removed}");
}

/// A rate-limited webhook's lane here is full while its request is out (or while its next
/// deliveries wait for their turns). That must not make every other delivery answered
/// meanwhile wake the engine to claim: it used to, and each claim found nothing, a transaction
/// per delivery of everyone else.
#[tokio::test]
async fn a_full_rate_limited_webhook_does_not_turn_other_deliveries_into_claims() {
    const LIVE: usize = 100;
    let app = spawn_app_with(AppOptions {
        delivery_timeout: Duration::from_secs(60),
        poll_interval: Duration::from_secs(5),
        ..AppOptions::default()
    })
    .await;
    let keys = ["webhooks", "events:publish"];
    let paced = app.api_key("org_paced", &keys).await;
    let live = app.api_key("org_live", &keys).await;
    let slow = Receiver::start().await;
    slow.answer_with(Answer {
        delay: Duration::from_secs(20),
        ..Answer::status(200)
    });
    let fast = Receiver::start().await;
    let body = json!({"name": "paced", "url": slow.hook("paced"),
                      "events": ["payment.completed"], "rateLimit": 1});
    app.create_webhook(&paced, &body).await;
    app.webhook_to(&live, &fast.hook("live"), &["contact.created"], None)
        .await;
    // The paced webhook's test event is out, unanswered: its lane here is full, and payments
    // wait behind it.
    slow.wait_for_event("webhook.test", 1, Duration::from_secs(30))
        .await;
    publish_batch(&app, &paced, 2, 0).await;
    fast.wait_for_event("webhook.test", 1, Duration::from_secs(30))
        .await;

    let before = app.counter("kaanha_claims_total").await;
    for n in 0..LIVE {
        app.publish(
            &live,
            &json!({"event": "contact.created", "data": {"n": n}}),
        )
        .await;
    }
    fast.wait_for_event("contact.created", LIVE, Duration::from_secs(30))
        .await;
    let made = app.counter("kaanha_claims_total").await - before;
    assert!(
        made < (LIVE / 4) as u64,
        "{made} claims while {LIVE} deliveries were handed over beside a full rate-limited webhook"
    );
}

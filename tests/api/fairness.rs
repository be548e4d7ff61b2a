//! Noisy neighbours: an organization with a backlog at slow receivers gets its share of the
//! workers, never all of them, and another organization's deliveries arrive as fast as alone.

use std::time::{Duration, Instant};

use kaanha_gateway::config::Role;
use serde_json::json;

use crate::{
    helpers::{AppOptions, TestApp, spawn_app_with},
    receiver::{Answer, Receiver},
};

const SLOW: Duration = Duration::from_secs(2);

/// Most requests the receiver was answering at any one time (each took `SLOW`).
fn most_at_once(arrivals: &[Instant]) -> usize {
    arrivals
        .iter()
        .map(|start| {
            arrivals
                .iter()
                .filter(|other| **other <= *start && *start < **other + SLOW)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_backlog_at_slow_receivers_does_not_delay_another_organization() {
    let app = spawn_app_with(AppOptions {
        delivery_timeout: Duration::from_secs(5),
        webhook_concurrency: 2,
        tweak: |config| {
            config.worker_concurrency = 16;
            config.limits.org_concurrency = 8;
        },
        ..AppOptions::default()
    })
    .await;
    let slow = Receiver::start().await;
    slow.answer_with(Answer {
        delay: SLOW,
        ..Answer::status(200)
    });
    let fast = Receiver::start().await;
    let noisy = app
        .api_key("org_noisy", &["webhooks", "events:publish"])
        .await;
    let quiet = app
        .api_key("org_quiet", &["webhooks", "events:publish"])
        .await;
    for n in 0..20 {
        let url = slow.hook(&format!("slow-{n}"));
        app.webhook_to(&noisy, &url, &["message.received"], None)
            .await;
    }
    app.webhook_to(&quiet, &fast.hook("quiet"), &["contact.created"], None)
        .await;
    // The noisy organization's backlog: 20 webhooks x 10 events at a 2-second receiver.
    let batch: Vec<_> = (0..10)
        .map(|_| json!({"event": "message.received", "data": {}}))
        .collect();
    app.post("/api/events/batch", &noisy, &json!({"events": batch}))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut waits = Vec::new();
    for n in 0..10 {
        let published = Instant::now();
        app.publish(
            &quiet,
            &json!({"event": "contact.created", "data": {"n": n}}),
        )
        .await;
        fast.wait_for_event("contact.created", n + 1, Duration::from_secs(30))
            .await;
        waits.push(published.elapsed());
    }
    let worst = waits.iter().max().unwrap();
    eprintln!("quiet organization beside a noisy one: worst of 10 deliveries {worst:?}");
    assert!(
        *worst < Duration::from_millis(500),
        "the quiet organization waited {worst:?} (its deliveries: {waits:?})"
    );
    let arrivals: Vec<Instant> = slow.received().iter().map(|r| r.at).collect();
    let at_once = most_at_once(&arrivals);
    assert!(
        (1..=8).contains(&at_once),
        "the noisy organization had {at_once} requests at once; its share is 8"
    );
}

/// Due deliveries in the noisy organization's backlog.
const BACKLOG: usize = 5_000;
/// How soon another organization's deliveries must arrive beside that backlog.
const AT_ONCE: Duration = Duration::from_secs(5);

/// One organization has `BACKLOG` due deliveries on a webhook limited to one request a second.
/// Then another organization makes a webhook (its test event goes through a claim) and
/// publishes to it, and the noisy organization makes a second, unlimited webhook: every one of
/// those deliveries arrives within `AT_ONCE`. Claims used to read the oldest due deliveries of
/// every organization, so the backlog filled every claim and the others waited for minutes.
async fn a_rate_limited_backlog_holds_back_only_its_own_webhook(publisher: &TestApp) {
    let noisy = publisher
        .api_key("org_noisy", &["webhooks", "events:publish"])
        .await;
    let quiet = publisher
        .api_key("org_quiet", &["webhooks", "events:publish"])
        .await;
    let limited = Receiver::start().await;
    let body = json!({"name": "ledger", "url": limited.hook("ledger"),
        "events": ["payment.completed"], "rateLimit": 1});
    publisher.create_webhook(&noisy, &body).await;
    for batch in 0..BACKLOG / 1_000 {
        let events = (0..1_000)
            .map(|n| json!({"event": "payment.completed", "id": format!("pay_{batch}_{n}"), "data": {}}))
            .collect();
        publisher.publish_batch(&noisy, events).await;
    }
    // The backlog is being worked through, one request a second.
    limited.wait_for(1, Duration::from_secs(30), |_| true).await;

    let started = Instant::now();
    let quiet_receiver = Receiver::start().await;
    publisher
        .webhook_to(
            &quiet,
            &quiet_receiver.hook("quiet"),
            &["contact.created"],
            None,
        )
        .await;
    publisher
        .publish(
            &quiet,
            &json!({"event": "contact.created", "id": "c-1", "data": {}}),
        )
        .await;
    let own = Receiver::start().await;
    publisher
        .webhook_to(&noisy, &own.hook("own"), &["message.received"], None)
        .await;
    quiet_receiver
        .wait_for_event("webhook.test", 1, AT_ONCE)
        .await;
    quiet_receiver
        .wait_for_event("contact.created", 1, AT_ONCE)
        .await;
    own.wait_for_event("webhook.test", 1, AT_ONCE).await;
    eprintln!(
        "beside a rate-limited backlog of {BACKLOG}: the others' deliveries took {:?}",
        started.elapsed()
    );
    let sent = limited.received().len();
    assert!(
        sent < 60,
        "the limited webhook kept its limit of one a second: {sent} requests"
    );
}

#[tokio::test]
async fn a_rate_limited_backlog_holds_back_only_its_own_webhook_in_one_instance() {
    let app = spawn_app_with(AppOptions::default()).await;
    a_rate_limited_backlog_holds_back_only_its_own_webhook(&app).await;
}

#[tokio::test]
async fn a_rate_limited_backlog_holds_back_only_its_own_webhook_with_api_and_workers_split() {
    let api = spawn_app_with(AppOptions {
        role: Role::Api,
        ..AppOptions::default()
    })
    .await;
    let _worker = api
        .beside(AppOptions {
            role: Role::Worker,
            ..AppOptions::default()
        })
        .await;
    a_rate_limited_backlog_holds_back_only_its_own_webhook(&api).await;
}

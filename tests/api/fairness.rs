//! Noisy neighbours: an organization with a backlog at slow receivers gets its share of the
//! workers, never all of them, and another organization's deliveries arrive as fast as alone.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{
    helpers::{AppOptions, spawn_app_with},
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

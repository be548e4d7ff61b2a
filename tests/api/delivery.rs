use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{
    helpers::{AppOptions, expect_json, expect_problem, spawn_app, spawn_app_with},
    receiver::{Answer, Receiver},
};

const SECRET: &str = "whsec-doc-style-secret";
const WAIT: Duration = Duration::from_secs(10);

fn hmac_hex(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Runs the document's Node.js `verifyWebhook`, verbatim, on the bytes received.
fn node_verifies(body: &[u8], signature: &str, secret: &str) -> Option<bool> {
    let dir = tempfile::tempdir().unwrap();
    let body_path = dir.path().join("body");
    std::fs::write(&body_path, body).unwrap();
    let script = r#"
const crypto = require('crypto');

function verifyWebhook(rawBody, signature, secret) {
  const expected = 'sha256=' + crypto
    .createHmac('sha256', secret)
    .update(rawBody)
    .digest('hex');

  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(expected)
  );
}
const [bodyPath, signature, secret] = process.argv.slice(1);
process.exit(verifyWebhook(require('fs').readFileSync(bodyPath), signature, secret) ? 0 : 1);
"#;
    let output = std::process::Command::new("node")
        .args(["-e", script, body_path.to_str().unwrap(), signature, secret])
        .output();
    match output {
        Ok(output) => Some(output.status.success()),
        Err(_) => {
            eprintln!("node is not installed: the document's verifyWebhook was not run");
            None
        }
    }
}

#[tokio::test]
async fn a_published_event_arrives_signed_byte_for_byte_as_the_document_promises() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let hook = app
        .webhook_to(
            &key,
            &receiver.hook("kaanha"),
            &["message.received"],
            Some(SECRET),
        )
        .await;
    let data = json!({
        "text": "Namaste 🙏 — «quotes» \"escaped\" \\ back\u{2028}line\u{2029}para </script> \u{0007}",
        "nested": {"tags": ["vip", "ü"], "n": 1.5, "none": null},
        "big": "x".repeat(200 * 1024),
    });
    let published = app
        .publish(&key, &json!({"event": "message.received", "id": "evt_unicode", "data": data, "timestamp": "2026-03-24T16:00:00.123456+05:30"}))
        .await;
    assert_eq!(published["deliveries"], 1);

    let got = receiver
        .wait_for_event("message.received", 1, WAIT)
        .await
        .remove(0);
    let envelope = got.json();
    assert_eq!(envelope["id"], "evt_unicode");
    assert_eq!(envelope["event"], "message.received");
    assert_eq!(envelope["organizationId"], "org_a");
    assert_eq!(envelope["timestamp"], "2026-03-24T10:30:00.123Z");
    assert_eq!(envelope["data"], data);
    let keys: Vec<&str> = envelope
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["id", "event", "organizationId", "timestamp", "data"]);

    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(got.header("x-kaanha-event"), "message.received");
    assert!(got.header("x-kaanha-delivery").starts_with("dlv_"));
    assert_eq!(
        got.header("user-agent"),
        concat!("kaanha-gateway/", env!("CARGO_PKG_VERSION"))
    );
    let signature = got.header("x-kaanha-signature");
    assert_eq!(
        signature,
        format!("sha256={}", hmac_hex(SECRET.as_bytes(), &got.body))
    );
    if let Some(verified) = node_verifies(&got.body, signature, SECRET) {
        assert!(
            verified,
            "the document's verifyWebhook rejected the delivery"
        );
    }
    // Standard Webhooks: id.timestamp.body, base64, with the event id as the message id.
    assert_eq!(got.header("webhook-id"), "evt_unicode");
    let ts = got.header("webhook-timestamp");
    let mut signed = format!("evt_unicode.{ts}.").into_bytes();
    signed.extend_from_slice(&got.body);
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&signed);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(got.header("webhook-signature"), format!("v1,{expected}"));

    let logs = app
        .wait_for_logs(&key, hook["id"].as_str().unwrap(), "event=message.received")
        .await;
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["status"], "delivered");
    assert_eq!(logs[0]["responseCode"], 200);
    assert_eq!(logs[0]["attempt"], 1);
    assert!(logs[0]["durationMs"].as_i64().unwrap() >= 0);
    assert_eq!(logs[0]["deliveryId"], got.header("x-kaanha-delivery"));
}

#[tokio::test]
async fn a_new_webhook_gets_a_test_event_at_once_and_on_demand() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let receiver = Receiver::start().await;
    let hook = app
        .webhook_to(&key, &receiver.hook("t"), &["message.received"], None)
        .await;
    let first = receiver.wait_for_event("webhook.test", 1, WAIT).await;
    assert_eq!(first[0].json()["data"]["webhookId"], hook["id"]);
    assert!(
        !first[0].headers.contains_key("x-kaanha-signature"),
        "no secret, no signature"
    );

    let path = format!("/api/webhooks/{}/test", hook["id"].as_str().unwrap());
    let sent = expect_json(
        app.client
            .post(app.url(&path))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
        202,
    )
    .await;
    let both = receiver.wait_for_event("webhook.test", 2, WAIT).await;
    assert_eq!(both[1].header("x-kaanha-delivery"), sent["deliveryId"]);
}

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

#[tokio::test]
async fn gone_removes_a_rest_hook_subscription_but_only_fails_an_ordinary_webhook() {
    use kaanha_gateway::{
        org::OrgId,
        webhooks::{self, NewWebhook, WebhookSource, WebhookStatus},
    };

    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(410));
    let db = app.db().await;
    let zap = webhooks::insert(
        &db,
        &OrgId::parse("org_a").unwrap(),
        NewWebhook {
            name: "Zapier".into(),
            url: receiver.hook("zap"),
            events: vec!["contact.updated"],
            secret: None,
            status: WebhookStatus::Active,
            source: WebhookSource::Zapier,
            filters: None,
        },
        (u64::MAX, &Default::default()),
    )
    .await
    .unwrap();
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
    let zap_path = format!("/api/webhooks/{}", zap.row.id);
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
    use kaanha_gateway::{
        org::OrgId,
        webhooks::{self, NewWebhook, WebhookSource, WebhookStatus},
    };

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
    let org = OrgId::parse("org_a").unwrap();
    // Rows as a since-changed policy or a rebinding name would leave them: the API refuses these.
    let mut ids = Vec::new();
    for url in [
        format!("https://127.0.0.1:{port}/a"),
        format!("https://localhost:{port}/b"),
        format!("http://93.184.216.34:{port}/c"),
    ] {
        let new = NewWebhook {
            name: "sneaky".into(),
            url,
            events: vec!["broadcast.completed"],
            secret: None,
            status: WebhookStatus::Active,
            source: WebhookSource::Api,
            filters: None,
        };
        ids.push(
            webhooks::insert(&db, &org, new, (u64::MAX, &Default::default()))
                .await
                .unwrap()
                .row
                .id,
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
    let (attempts, events) = kaanha_gateway::delivery::prune::prune(&db, Duration::ZERO)
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

#[tokio::test]
async fn the_last_day_counts_attempts_per_hour_by_outcome_with_duration_percentiles() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let hook = app
        .webhook_to(&key, &receiver.hook("stats"), &["contact.updated"], None)
        .await;
    let id = hook["id"].as_str().unwrap();
    for n in 0..3 {
        app.publish(&key, &json!({"event": "contact.updated", "data": {"n": n}}))
            .await;
    }
    receiver.wait_for_event("contact.updated", 3, WAIT).await;
    let mut stats = Value::Null;
    for _ in 0..50 {
        stats = expect_json(
            app.get(&format!("/api/webhooks/{id}/stats"), &key)
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        if stats["attempts"] == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hours = stats["hours"].as_array().unwrap();
    assert_eq!(hours.len(), 24);
    assert_eq!(stats["attempts"], 4, "3 events and the test event: {stats}");
    assert_eq!(
        hours[23]["delivered"], 4,
        "all in the current hour: {stats}"
    );
    assert!(hours[..23].iter().all(|h| h["delivered"] == 0));
    assert!(stats["durationP50Ms"].as_i64().is_some() && stats["durationP99Ms"].as_i64().is_some());
    assert!(stats["durationP50Ms"].as_i64() <= stats["durationP99Ms"].as_i64());

    let quiet = app
        .webhook_to(&key, &receiver.hook("quiet"), &["payment.completed"], None)
        .await;
    let quiet_id = quiet["id"].as_str().unwrap();
    // Only its test event, if that was recorded yet; no percentiles without attempts.
    let empty = expect_json(
        app.get(&format!("/api/webhooks/{quiet_id}/stats"), &key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    if empty["attempts"] == 0 {
        assert!(empty.get("durationP50Ms").is_none(), "{empty}");
    }
}

#[tokio::test]
async fn an_attempts_request_shows_its_exact_body_and_signature_but_never_the_secret() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let secret = "request-view-secret-123";
    let hook = app
        .webhook_to(
            &key,
            &receiver.hook("view"),
            &["contact.updated"],
            Some(secret),
        )
        .await;
    let id = hook["id"].as_str().unwrap();
    app.publish(
        &key,
        &json!({"event": "contact.updated", "data": {"name": "Ravi"}}),
    )
    .await;
    let got = receiver
        .wait_for_event("contact.updated", 1, WAIT)
        .await
        .remove(0);
    let logs = app.wait_for_logs(&key, id, "event=contact.updated").await;
    let attempt = logs[0]["id"].as_str().unwrap();
    let request = expect_json(
        app.get(&format!("/api/webhooks/{id}/logs/{attempt}/request"), &key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(request["method"], "POST");
    assert_eq!(request["url"], hook["url"]);
    assert_eq!(
        request["body"].as_str().unwrap().as_bytes(),
        got.body.as_slice()
    );
    let header = |name: &str| {
        request["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"] == name)
            .map(|h| h["value"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    for name in [
        "x-kaanha-signature",
        "x-kaanha-event",
        "x-kaanha-delivery",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "user-agent",
    ] {
        assert_eq!(header(name), got.header(name), "{name} as sent");
    }
    assert!(
        !request.to_string().contains(secret),
        "the secret is never shown"
    );
}

/// The engine's two ways of taking a delivery, as `/metrics` counts them.
async fn taken(app: &crate::helpers::TestApp) -> (u64, u64) {
    let metrics = app.metrics().await;
    let count = |by: &str| {
        let prefix = format!("kaanha_deliveries_taken_total{{by=\"{by}\"}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no {prefix} in {metrics}"))
            .parse::<u64>()
            .unwrap()
    };
    (count("handoff"), count("claim"))
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

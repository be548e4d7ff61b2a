//! What a receiver gets: the document's envelope and signature byte for byte (checked by the
//! document's own Node.js `verifyWebhook`), the test event, and a request as sent in the log.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::{
    helpers::{expect_json, spawn_app},
    receiver::Receiver,
};

pub const SECRET: &str = "whsec-doc-style-secret";
pub const WAIT: Duration = Duration::from_secs(10);

pub fn hmac_hex(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Runs the document's Node.js `verifyWebhook`, verbatim, on the bytes received.
pub fn node_verifies(body: &[u8], signature: &str, secret: &str) -> Option<bool> {
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

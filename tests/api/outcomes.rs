//! Every outcome lands: what a receiver answers is stored whatever bytes it holds, and a delivery
//! whose outcomes cannot be written ends instead of being sent at every lease's end forever.

use std::time::Duration;

use kaanha_gateway::config::Role;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::{
    helpers::{AppOptions, expect_problem, invalid_fields, spawn_app, spawn_app_with},
    receiver::{Answer, Receiver},
};

/// PostgreSQL refuses NUL in text: the attempt's insert failed, and the delivery stayed pending
/// with no log row, sent again at every lease's end.
#[tokio::test]
async fn an_answer_holding_nul_and_control_bytes_is_logged_without_them() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::body(500, "bad\0\u{1b}[31m thing\r\nline two\t."));
    let hook = app
        .webhook_to(&key, &receiver.hook("nul"), &["message.received"], None)
        .await;
    let id = hook["id"].as_str().unwrap();
    app.publish(
        &key,
        &json!({"event": "message.received", "id": "nul-1", "data": {}}),
    )
    .await;
    let rows = app
        .wait_for_logs(&key, id, "event=message.received&status=failed")
        .await;
    assert_eq!(rows[0]["responseCode"], 500, "{rows:?}");
    assert_eq!(
        rows[0]["responseBody"], "bad[31m thing\r\nline two\t.",
        "{rows:?}"
    );
    let all = app.logs(&key, id, "event=message.received").await;
    assert_eq!(all.len(), 4, "every attempt is logged: {all:?}");
}

#[tokio::test]
async fn nul_in_any_json_string_is_refused_with_a_422_naming_the_field() {
    let app = spawn_app().await;
    let key = app
        .api_key("org_a", &["webhooks", "events:publish", "integrations"])
        .await;
    let cases = [
        (
            "/api/events",
            json!({"event": "message.received", "data": {"note": "a\u{0}b"}}),
            "data.note",
        ),
        (
            "/api/webhooks",
            json!({"name": "a\u{0}", "url": "https://example.com/h", "events": ["message.received"]}),
            "name",
        ),
        (
            "/api/integrations/zapier/hooks",
            json!({"target_url": "https://example.com/h", "event": "message.received",
                   "filters": {"contact_tag": "x\u{0}"}}),
            "filters.contact_tag",
        ),
        (
            "/api/events/batch",
            json!({"events": [{"event": "message.received", "data": {}},
                              {"event": "message.received", "data": {"tags": ["ok", "\u{0}"]}}]}),
            "events[1].data.tags[1]",
        ),
    ];
    for (path, body, field) in cases {
        let problem = expect_problem(app.post(path, &key, &body).send().await.unwrap(), 422).await;
        assert_eq!(invalid_fields(&problem), [field], "{path}: {problem}");
    }
    // A backslash followed by `u0000` is text, not NUL.
    let text = json!({"event": "message.received", "data": {"note": "C:\\u0000"}});
    let published = app.post("/api/events", &key, &text).send().await.unwrap();
    assert_eq!(published.status(), 202);
    let webhooks = app.get("/api/webhooks", &key).send().await.unwrap();
    let listed: serde_json::Value = webhooks.json().await.unwrap();
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        0,
        "nothing half-written"
    );
}

/// A delivery leased again and again with no attempt recorded (each lease ran out: its outcomes
/// could not be written) is failed with the reason, and not sent again.
#[tokio::test]
async fn a_delivery_leased_again_and_again_without_an_outcome_is_failed_not_sent() {
    let api = spawn_app_with(AppOptions {
        role: Role::Api,
        ..AppOptions::default()
    })
    .await;
    let key = api.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let hook = api
        .webhook_to(&key, &receiver.hook("again"), &["message.received"], None)
        .await;
    let id = hook["id"].as_str().unwrap();
    api.publish(
        &key,
        &json!({"event": "message.received", "id": "again-1", "data": {}}),
    )
    .await;
    // Three leases that ended with nothing recorded.
    let db = api.db().await;
    db.execute_unprepared("UPDATE deliveries SET leases = 3 WHERE event_id = 'again-1'")
        .await
        .unwrap();
    let _worker = api
        .beside(AppOptions {
            role: Role::Worker,
            ..AppOptions::default()
        })
        .await;
    let rows = api
        .wait_for_logs(&key, id, "event=message.received&status=failed")
        .await;
    let error = rows[0]["error"].as_str().unwrap();
    assert!(error.starts_with("not sent again"), "{error}");
    receiver
        .wait_for_event("webhook.test", 1, Duration::from_secs(10))
        .await;
    assert!(
        receiver
            .received()
            .iter()
            .all(|r| r.event() != "message.received"),
        "the delivery was sent"
    );
}

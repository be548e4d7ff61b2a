//! A webhook's last day, per hour by outcome, with duration percentiles.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::{expect_json, spawn_app},
    receiver::Receiver,
    signing::WAIT,
};

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
    // Each of the four is delivered in the end; on a loaded machine one may first time out
    // (an attempt left pending) and be retried, so the count waits for the deliveries.
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
        if stats["hours"][23]["delivered"] == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hours = stats["hours"].as_array().unwrap();
    assert_eq!(hours.len(), 24);
    assert_eq!(
        hours[23]["delivered"], 4,
        "3 events and the test event, all in the current hour: {stats}"
    );
    assert!(hours[..23].iter().all(|h| h["delivered"] == 0));
    assert!(stats["attempts"].as_u64().unwrap() >= 4, "{stats}");
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

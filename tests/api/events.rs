use serde_json::json;

use crate::helpers::{expect_json, expect_problem, invalid_fields, spawn_app};

#[tokio::test]
async fn publishing_needs_the_events_publish_scope() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks"]).await;
    let event = json!({"event": "message.received", "data": {}});
    expect_problem(
        app.post("/api/events", &key, &event).send().await.unwrap(),
        403,
    )
    .await;
}

#[tokio::test]
async fn a_repeated_event_id_creates_nothing_new_and_says_so() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    app.webhook(&key, "one").await;
    let event = json!({"event": "message.received", "id": "evt-42", "data": {"n": 1}});

    let first = app.post("/api/events", &key, &event).send().await.unwrap();
    assert_eq!(first.status(), 202);
    let first: serde_json::Value = first.json().await.unwrap();
    assert_eq!(
        first,
        json!({"id": "evt-42", "deliveries": 1, "duplicate": false})
    );

    let again = app.post("/api/events", &key, &event).send().await.unwrap();
    assert_eq!(again.status(), 200);
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(
        again,
        json!({"id": "evt-42", "deliveries": 1, "duplicate": true})
    );
}

#[tokio::test]
async fn event_ids_are_unique_per_organization_and_one_never_blocks_another() {
    let app = spawn_app().await;
    let receiver = crate::receiver::Receiver::start().await;
    let a = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let b = app.api_key("org_b", &["webhooks", "events:publish"]).await;
    let mut hooks = Vec::new();
    for (key, path) in [(&a, "a"), (&b, "b")] {
        let hook = app
            .webhook_to(
                key,
                &receiver.hook(path),
                &["message.received"],
                Some("s3cret-s3cret"),
            )
            .await;
        hooks.push(hook["id"].as_str().unwrap().to_owned());
    }
    // B publishes A's id first: neither is told about the other, and both are delivered.
    let by_b = json!({"event": "message.received", "id": "wamid.123", "data": {"from": "b"}});
    let answer = expect_json(
        app.post("/api/events", &b, &by_b).send().await.unwrap(),
        202,
    )
    .await;
    assert_eq!(answer["duplicate"], false);
    let batch = json!({"events": [
        {"event": "message.received", "id": "wamid.123", "data": {"from": "a"}},
        {"event": "message.received", "id": "wamid.124", "data": {"from": "a"}},
    ]});
    let answer = expect_json(
        app.post("/api/events/batch", &a, &batch)
            .send()
            .await
            .unwrap(),
        202,
    )
    .await;
    assert!(
        answer["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["duplicate"] == false),
        "{answer}"
    );
    let got = receiver
        .wait_for_event("message.received", 3, std::time::Duration::from_secs(10))
        .await;
    let seen = |path: &str, id: &str| {
        got.iter()
            .filter(|r| r.path == path && r.json()["id"] == id)
            .map(|r| r.json()["data"]["from"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        seen("/a", "wamid.123"),
        [json!("a")],
        "A's own event, not B's"
    );
    assert_eq!(seen("/b", "wamid.123"), [json!("b")]);
    // Repeating it is still a duplicate, within each organization.
    let again = expect_json(
        app.post("/api/events", &b, &by_b).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(again["duplicate"], true);
    // A's log shows the request as sent with A's own event.
    let logs = app
        .wait_for_logs(&a, &hooks[0], "event=message.received")
        .await;
    let attempt = logs.iter().find(|l| l["eventId"] == "wamid.123").unwrap();
    let path = format!(
        "/api/webhooks/{}/logs/{}/request",
        hooks[0],
        attempt["id"].as_str().unwrap()
    );
    let sent = expect_json(app.get(&path, &a).send().await.unwrap(), 200).await;
    assert!(
        sent["body"].as_str().unwrap().contains(r#""from":"a""#),
        "{sent}"
    );
}

#[tokio::test]
async fn a_batch_is_stored_whole_with_duplicates_marked() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    app.webhook(&key, "one").await;
    app.publish(
        &key,
        &json!({"event": "message.received", "id": "old", "data": {}}),
    )
    .await;
    let batch = json!({"events": [
        {"event": "message.received", "id": "a", "data": {}},
        {"event": "contact.created", "id": "b", "data": {}},
        {"event": "message.received", "id": "old", "data": {}},
        {"event": "message.received", "id": "a", "data": {}},
        {"event": "message.received", "data": {}},
    ]});
    let answer = expect_json(
        app.post("/api/events/batch", &key, &batch)
            .send()
            .await
            .unwrap(),
        202,
    )
    .await;
    let data = answer["data"].as_array().unwrap();
    let summary: Vec<(bool, u64)> = data
        .iter()
        .map(|r| {
            (
                r["duplicate"].as_bool().unwrap(),
                r["deliveries"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [(false, 1), (false, 0), (true, 1), (true, 1), (false, 1)]
    );
    assert!(data[4]["id"].as_str().unwrap().starts_with("evt_"));
}

#[tokio::test]
async fn invalid_events_are_named_field_by_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let hook = app.webhook(&key, "one").await;
    let batch = json!({"events": [
        {"event": "message.received", "id": "fine", "data": {}},
        {"event": "message.exploded", "data": {}},
        {"event": "message.received", "data": [1, 2]},
        {"event": "webhook.test", "data": {}},
        {"event": "message.received", "data": {}, "timestamp": "yesterday"},
        {"event": "message.received", "data": {}, "organizationId": "org_b"},
        {"event": "message.received", "data": {}, "id": "has space"},
    ]});
    let problem = expect_problem(
        app.post("/api/events/batch", &key, &batch)
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(
        invalid_fields(&problem),
        [
            "events[1].event",
            "events[2].data",
            "events[3].event",
            "events[4].timestamp",
            "events[5].organizationId",
            "events[6].id"
        ]
    );
    // Nothing of the batch was stored: "fine" is still new.
    let fine = app
        .publish(
            &key,
            &json!({"event": "message.received", "id": "fine", "data": {}}),
        )
        .await;
    assert_eq!(fine["duplicate"], false);
    let deliveries = format!("/api/webhooks/{}/deliveries", hook["id"].as_str().unwrap());
    let page = expect_json(app.get(&deliveries, &key).send().await.unwrap(), 200).await;
    let message_deliveries = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["event"] == "message.received")
        .count();
    assert_eq!(message_deliveries, 1);

    let missing = json!({"data": {}});
    let problem = expect_problem(
        app.post("/api/events", &key, &missing)
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["event"]);
    let too_many = json!({"events": vec![json!({"event": "message.received", "data": {}}); 1001]});
    let problem = expect_problem(
        app.post("/api/events/batch", &key, &too_many)
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["events"]);
}

#[tokio::test]
async fn only_active_webhooks_subscribed_to_the_type_of_the_same_organization_get_deliveries() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let other = app.api_key("org_b", &["webhooks", "events:publish"]).await;
    app.webhook(&key, "subscribed").await;
    let disabled = app.webhook(&key, "disabled").await;
    let path = format!("/api/webhooks/{}", disabled["id"].as_str().unwrap());
    expect_json(
        app.patch(&path, &key, &json!({"status": "disabled"}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    app.webhook_to(&key, "http://127.0.0.1:9/", &["contact.created"], None)
        .await;
    app.webhook(&other, "other org").await;

    let published = app
        .publish(&key, &json!({"event": "message.received", "data": {}}))
        .await;
    assert_eq!(published["deliveries"], 1);
}

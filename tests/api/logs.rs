//! Finding deliveries in the log: one event or delivery by its id (on one webhook, or across
//! every webhook of the organization), and a time range.

use serde_json::json;

use crate::{
    helpers::{AppOptions, expect_json, expect_problem, spawn_app, spawn_app_with},
    receiver::{Answer, Receiver},
    signing::WAIT,
};

#[tokio::test]
async fn the_log_finds_every_attempt_of_one_event_or_one_delivery() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(500));
    let hook = app
        .webhook_to(&key, &receiver.hook("down"), &["contact.created"], None)
        .await;
    let id = hook["id"].as_str().unwrap();
    for event_id in ["wamid.1", "wamid.2"] {
        app.publish(
            &key,
            &json!({"event": "contact.created", "id": event_id, "data": {}}),
        )
        .await;
    }
    receiver.wait_for_event("contact.created", 8, WAIT).await;
    app.wait_for_logs(&key, id, "status=failed&search=wamid.2")
        .await;

    let found = app.logs(&key, id, "search=wamid.2").await;
    assert_eq!(
        found.len(),
        4,
        "the first attempt and three retries: {found:?}"
    );
    assert!(found.iter().all(|row| row["eventId"] == "wamid.2"));
    let delivery = found[0]["deliveryId"].as_str().unwrap();
    let by_delivery = app.logs(&key, id, &format!("search={delivery}")).await;
    assert_eq!(by_delivery, found, "the same attempts by delivery id");
    assert!(app.logs(&key, id, "search=wamid.9").await.is_empty());
}

#[tokio::test]
async fn one_search_finds_an_event_at_every_webhook_it_went_to_and_never_another_organizations() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let other = app.api_key("org_b", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let crm = app
        .webhook_to(&key, &receiver.hook("crm"), &["contact.created"], None)
        .await;
    let sheet = app
        .webhook_to(&key, &receiver.hook("sheet"), &["contact.created"], None)
        .await;
    let theirs = app
        .webhook_to(&other, &receiver.hook("theirs"), &["contact.created"], None)
        .await;
    // Both organizations use the same event id (ids are the producers' own).
    for (token, id) in [(&key, "wamid.42"), (&key, "wamid.43"), (&other, "wamid.42")] {
        app.publish(
            token,
            &json!({"event": "contact.created", "id": id, "data": {}}),
        )
        .await;
    }
    receiver.wait_for_event("contact.created", 5, WAIT).await;
    for (token, hook) in [(&key, &crm), (&key, &sheet), (&other, &theirs)] {
        let id = hook["id"].as_str().unwrap();
        while app.logs(token, id, "event=contact.created").await.len()
            < 1 + (token == &key) as usize
        {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    let search = |token: &str, query: &str| {
        let request = app.get(&format!("/api/logs?{query}"), token);
        async move { expect_json(request.send().await.unwrap(), 200).await }
    };
    let found = search(&key, "search=wamid.42").await;
    let rows = found["data"].as_array().unwrap();
    let mut webhooks: Vec<&str> = rows
        .iter()
        .map(|r| r["webhookId"].as_str().unwrap())
        .collect();
    webhooks.sort_unstable();
    let mut expected = vec![crm["id"].as_str().unwrap(), sheet["id"].as_str().unwrap()];
    expected.sort_unstable();
    assert_eq!(
        webhooks, expected,
        "one attempt at each of its webhooks: {rows:?}"
    );
    assert!(
        rows.iter()
            .all(|r| r["eventId"] == "wamid.42" && r["status"] == "delivered")
    );

    // The other organization's event with the same id is its own, and only its own.
    let theirs_found = search(&other, "search=wamid.42").await;
    let theirs_rows = theirs_found["data"].as_array().unwrap();
    assert_eq!(theirs_rows.len(), 1);
    assert_eq!(theirs_rows[0]["webhookId"], theirs["id"]);

    // By delivery id: that delivery only; another organization's delivery id finds nothing.
    let delivery = rows[0]["deliveryId"].as_str().unwrap();
    let by_delivery = search(&key, &format!("search={delivery}")).await;
    assert_eq!(by_delivery["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_delivery["data"][0]["deliveryId"], delivery);
    let intruder = search(&other, &format!("search={delivery}")).await;
    assert!(intruder["data"].as_array().unwrap().is_empty());

    // Paged like every list.
    let first = search(&key, "search=wamid.42&limit=1").await;
    let cursor = first["nextCursor"].as_str().unwrap();
    let second = search(&key, &format!("search=wamid.42&limit=1&cursor={cursor}")).await;
    assert_ne!(first["data"][0]["id"], second["data"][0]["id"]);
    assert!(second.get("nextCursor").is_none());

    // The search is required, and a webhooks scope with it.
    let missing = expect_problem(app.get("/api/logs", &key).send().await.unwrap(), 400).await;
    assert!(
        missing["detail"].as_str().unwrap().contains("search"),
        "{missing}"
    );
    let publisher = app.api_key("org_a", &["events:publish"]).await;
    expect_problem(
        app.get("/api/logs?search=wamid.42", &publisher)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
}

#[tokio::test]
async fn a_time_range_narrows_a_webhooks_log() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(200));
    let hook = app
        .webhook_to(&key, &receiver.hook("crm"), &["contact.created"], None)
        .await;
    let id = hook["id"].as_str().unwrap();
    app.publish(
        &key,
        &json!({"event": "contact.created", "id": "early", "data": {}}),
    )
    .await;
    app.wait_for_logs(&key, id, "search=early").await;
    let early = app.logs(&key, id, "search=early").await[0]["timestamp"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let middle = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    app.publish(
        &key,
        &json!({"event": "contact.created", "id": "late", "data": {}}),
    )
    .await;
    app.wait_for_logs(&key, id, "search=late").await;

    let event_ids = |rows: Vec<serde_json::Value>| -> Vec<String> {
        rows.iter()
            .filter(|r| r["event"] == "contact.created")
            .map(|r| r["eventId"].as_str().unwrap().to_owned())
            .collect()
    };
    let encode = |t: &str| t.replace('+', "%2B");
    assert_eq!(
        event_ids(
            app.logs(&key, id, &format!("since={}", encode(&middle)))
                .await
        ),
        ["late"]
    );
    assert_eq!(
        event_ids(
            app.logs(&key, id, &format!("until={}", encode(&middle)))
                .await
        ),
        ["early"]
    );
    // `since` is inclusive: the first attempt's own time finds it.
    assert_eq!(
        event_ids(
            app.logs(
                &key,
                id,
                &format!("since={}&until={}", encode(&early), encode(&middle))
            )
            .await
        ),
        ["early"]
    );

    // Backwards or malformed, a problem naming the parameter.
    let backwards = expect_problem(
        app.get(
            &format!(
                "/api/webhooks/{id}/logs?since={}&until={}",
                encode(&middle),
                encode(&early)
            ),
            &key,
        )
        .send()
        .await
        .unwrap(),
        422,
    )
    .await;
    assert_eq!(backwards["errors"][0]["field"], "until", "{backwards}");
    let malformed = expect_problem(
        app.get(&format!("/api/webhooks/{id}/logs?since=yesterday"), &key)
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    let detail = malformed["detail"].as_str().unwrap();
    assert!(
        detail.contains("since") && detail.contains("RFC 3339"),
        "{detail}"
    );
}

/// An attempt is logged when it ends: a slow one (4 s) made before `since` is logged after the quick
/// ones made since. It stays out of the range, and the page it is dropped from still says
/// where to go on, so no attempt in the range is skipped.
#[tokio::test]
async fn a_slow_attempt_from_before_the_range_never_cuts_its_pages_short() {
    // The slow answer comes well within the timeout: one attempt, never a retry.
    let app = spawn_app_with(AppOptions {
        delivery_timeout: std::time::Duration::from_secs(10),
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(200));
    let hook = app
        .webhook_to(&key, &receiver.hook("crm"), &["contact.created"], None)
        .await;
    let id = hook["id"].as_str().unwrap();
    app.wait_for_logs(&key, id, "event=webhook.test").await;
    receiver.answer_with(Answer {
        delay: std::time::Duration::from_millis(4000),
        ..Answer::status(200)
    });
    let event = |id: &str| json!({"event": "contact.created", "id": id, "data": {}});
    app.publish(&key, &event("slow")).await;
    receiver.wait_for_event("contact.created", 1, WAIT).await;
    receiver.answer_with(Answer::status(200));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    for quick in ["q1", "q2", "q3"] {
        app.publish(&key, &event(quick)).await;
        app.wait_for_logs(&key, id, &format!("search={quick}"))
            .await;
    }
    app.wait_for_logs(&key, id, "search=slow").await;
    let newest = app.logs(&key, id, "").await;
    assert_eq!(newest[0]["eventId"], "slow", "logged last: {newest:?}");

    let page = |query: String| {
        let path = format!("/api/webhooks/{id}/logs?limit=2&since={since}{query}");
        let request = app.get(&path.replace('+', "%2B"), &key);
        async move { expect_json(request.send().await.unwrap(), 200).await }
    };
    let event_ids = |page: &serde_json::Value| -> Vec<String> {
        let rows = page["data"].as_array().unwrap();
        rows.iter()
            .map(|r| r["eventId"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = page(String::new()).await;
    assert_eq!(event_ids(&first), ["q3", "q2"], "{first}");
    let cursor = first["nextCursor"].as_str().expect("a cursor past q2");
    let second = page(format!("&cursor={cursor}")).await;
    assert_eq!(event_ids(&second), ["q1"], "{second}");
    assert!(second.get("nextCursor").is_none(), "{second}");
}

/// A filter no index answers (an event type, `status=delivered`, a delivery's status) looks
/// through a bounded stretch of a busy webhook's rows per page: a page where nothing matched
/// still says where to go on, and the match turns up further on, never by reading the whole log.
#[tokio::test]
async fn a_rare_filter_on_a_busy_webhook_reads_a_bounded_stretch_per_page() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(200));
    let events = ["contact.created", "message.received"];
    let hook = app
        .webhook_to(&key, &receiver.hook("busy"), &events, None)
        .await;
    let id = hook["id"].as_str().unwrap();
    app.publish(
        &key,
        &json!({"event": "contact.created", "id": "rare", "data": {}}),
    )
    .await;
    app.wait_for_logs(&key, id, "search=rare").await;
    // More than a stretch of newer rows above the rare one.
    let busy = 1_200;
    for batch in 0..2 {
        let events = (0..busy / 2)
            .map(|i| json!({"event": "message.received", "id": format!("busy-{batch}-{i}"), "data": {}}))
            .collect();
        app.publish_batch(&key, events).await;
    }
    receiver
        .wait_for_event("message.received", busy, WAIT)
        .await;
    wait_for_attempts(&app, id, busy as u64 + 1).await;

    let page = |query: String| {
        let path = format!("/api/webhooks/{id}/{query}");
        let request = app.get(&path, &key);
        async move { expect_json(request.send().await.unwrap(), 200).await }
    };
    let first = page("logs?event=contact.created&limit=10".into()).await;
    assert_eq!(first["data"], json!([]), "nothing in the newest stretch");
    let cursor = first["nextCursor"].as_str().expect("a cursor to go on");
    let second = page(format!(
        "logs?event=contact.created&limit=10&cursor={cursor}"
    ))
    .await;
    assert_eq!(second["data"].as_array().unwrap().len(), 1, "{second}");
    assert_eq!(second["data"][0]["eventId"], "rare");
    assert!(
        second.get("nextCursor").is_none(),
        "the log's end: {second}"
    );

    // A filter matching nearly every row still fills its pages.
    let delivered = page("logs?status=delivered&limit=100".into()).await;
    assert_eq!(delivered["data"].as_array().unwrap().len(), 100);
    assert!(delivered["nextCursor"].is_string());

    // The deliveries' status filter likewise: none failed, said in two bounded pages.
    let failed = page("deliveries?status=failed".into()).await;
    assert_eq!(failed["data"], json!([]));
    let cursor = failed["nextCursor"].as_str().expect("a cursor to go on");
    let rest = page(format!("deliveries?status=failed&cursor={cursor}")).await;
    assert_eq!(rest["data"], json!([]));
    assert!(rest.get("nextCursor").is_none(), "{rest}");
}

/// Waits until the webhook's log holds `count` rows (each is written just after its answer);
/// fails only when no row is added for `WAIT`.
async fn wait_for_attempts(app: &crate::helpers::TestApp, webhook_id: &str, count: u64) {
    use entity::delivery_attempt;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let db = app.db().await;
    let webhook =
        kaanha_gateway::infra::ids::parse(kaanha_gateway::infra::ids::WEBHOOK, webhook_id)
            .expect("an id the API showed");
    let (mut seen, mut since) = (0, std::time::Instant::now());
    loop {
        let rows = delivery_attempt::Entity::find()
            .filter(delivery_attempt::Column::WebhookId.eq(webhook))
            .count(&db)
            .await
            .unwrap();
        if rows >= count {
            return;
        }
        if rows > seen {
            (seen, since) = (rows, std::time::Instant::now());
        }
        assert!(
            since.elapsed() < WAIT,
            "{rows} of {count} log rows, none more for {WAIT:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, expect_json, expect_problem, invalid_fields, service_token, spawn_app,
    spawn_app_with,
};

fn crm_sync() -> Value {
    json!({
        "name": "CRM Sync",
        "url": "http://127.0.0.1:9/kaanha",
        "events": ["message.received", "contact.created"],
        "secret": "whsec-test-secret",
    })
}

#[tokio::test]
async fn creating_a_webhook_answers_201_with_its_location_and_never_its_secret() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;

    let response = app
        .post("/api/webhooks", &key, &crm_sync())
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created = expect_json(response, 201).await;

    assert!(created["id"].as_str().unwrap().starts_with("wh_"));
    assert_eq!(
        location,
        format!("/api/webhooks/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(created["name"], "CRM Sync");
    assert_eq!(
        created["events"],
        json!(["message.received", "contact.created"])
    );
    assert_eq!(created["hasSecret"], true);
    assert_eq!(created["status"], "active");
    assert_eq!(created["source"], "api");
    assert!(created.get("secret").is_none(), "{created}");
    let created_at = created["createdAt"].as_str().unwrap();
    assert!(
        created_at.ends_with('Z') && created_at.len() == "2026-03-24T10:30:00.000Z".len(),
        "{created_at}"
    );
}

#[tokio::test]
async fn a_webhook_can_be_listed_fetched_updated_and_deleted() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let created = expect_json(
        app.post("/api/webhooks", &key, &crm_sync())
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let path = format!("/api/webhooks/{}", created["id"].as_str().unwrap());

    let mut list = expect_json(app.get("/api/webhooks", &key).send().await.unwrap(), 200).await;
    // A list also says how the newest attempt went, once its test event has been tried.
    let listed = list["data"][0]
        .as_object_mut()
        .unwrap()
        .remove("lastAttempt");
    assert!(
        listed.is_none_or(|last| last["status"].is_string()),
        "{list}"
    );
    assert_eq!(list["data"], json!([created.clone()]));
    assert!(list.get("nextCursor").is_none());
    assert_eq!(
        expect_json(app.get(&path, &key).send().await.unwrap(), 200).await,
        created
    );

    let patch = json!({"name": "CRM Sync v2", "events": ["payment.completed"], "secret": null, "status": "disabled"});
    let updated = expect_json(app.patch(&path, &key, &patch).send().await.unwrap(), 200).await;
    assert_eq!(updated["name"], "CRM Sync v2");
    assert_eq!(updated["events"], json!(["payment.completed"]));
    assert_eq!(updated["hasSecret"], false);
    assert_eq!(updated["status"], "disabled");
    assert_eq!(updated["url"], created["url"]);
    assert_eq!(updated["createdAt"], created["createdAt"]);
    assert_eq!(
        expect_json(app.get(&path, &key).send().await.unwrap(), 200).await,
        updated
    );

    let deleted = app.delete(&path, &key).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    expect_problem(app.get(&path, &key).send().await.unwrap(), 404).await;
    expect_problem(app.delete(&path, &key).send().await.unwrap(), 404).await;
}

#[tokio::test]
async fn every_invalid_field_is_named_in_one_422_and_nothing_is_written() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let bad = json!({
        "name": "",
        "url": "ftp://files.example.com/",
        "events": ["message.received", "message.exploded", "webhook.test"],
        "secret": "short",
    });

    let problem = expect_problem(
        app.post("/api/webhooks", &key, &bad).send().await.unwrap(),
        422,
    )
    .await;

    assert_eq!(
        invalid_fields(&problem),
        ["name", "url", "events[1]", "events[2]", "secret"]
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("message.exploded")
    );
    let list = expect_json(app.get("/api/webhooks", &key).send().await.unwrap(), 200).await;
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn a_missing_field_or_an_empty_event_list_is_named() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let missing_url = json!({"name": "x", "events": ["message.received"]});
    let problem = expect_problem(
        app.post("/api/webhooks", &key, &missing_url)
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["url"]);

    let no_events = json!({"name": "x", "url": "http://127.0.0.1:9/", "events": []});
    let problem = expect_problem(
        app.post("/api/webhooks", &key, &no_events)
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["events"]);

    let wrong_type = json!({"name": "x", "url": "http://127.0.0.1:9/", "events": [7]});
    let problem = expect_problem(
        app.post("/api/webhooks", &key, &wrong_type)
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["events[0]"]);
}

#[tokio::test]
async fn urls_must_be_https_and_public_unless_private_targets_are_allowed() {
    let app = spawn_app_with(AppOptions {
        allow_private_targets: false,
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &[]).await;
    for url in [
        "http://93.184.216.34/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://user:pass@93.184.216.34/hook",
        "not a url",
    ] {
        let body = json!({"name": "x", "url": url, "events": ["message.received"]});
        let problem = expect_problem(
            app.post("/api/webhooks", &key, &body).send().await.unwrap(),
            422,
        )
        .await;
        assert_eq!(invalid_fields(&problem), ["url"], "{url}");
        assert!(
            problem["errors"][0]["message"].as_str().unwrap().len() > 10,
            "{problem}"
        );
    }
    let public =
        json!({"name": "x", "url": "https://93.184.216.34/hook", "events": ["message.received"]});
    expect_json(
        app.post("/api/webhooks", &key, &public)
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
}

#[tokio::test]
async fn an_invalid_update_changes_nothing() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let created = expect_json(
        app.post("/api/webhooks", &key, &crm_sync())
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let path = format!("/api/webhooks/{}", created["id"].as_str().unwrap());

    for patch in [
        json!({"name": "renamed", "events": ["nope"]}),
        json!({"url": "ftp://x"}),
        json!({"secret": "short"}),
        json!({"status": "paused"}),
        json!({}),
    ] {
        let response = app.patch(&path, &key, &patch).send().await.unwrap();
        assert_eq!(response.status(), 422, "{patch}");
    }
    assert_eq!(
        expect_json(app.get(&path, &key).send().await.unwrap(), 200).await,
        created
    );
}

#[tokio::test]
async fn lists_are_newest_first_and_walk_every_webhook_once_by_cursor() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(
            app.webhook(&key, &format!("hook {i}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    created.reverse();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/webhooks?limit=2&cursor={c}"),
            None => "/api/webhooks?limit=2".to_owned(),
        };
        let page = expect_json(app.get(&path, &key).send().await.unwrap(), 200).await;
        let ids: Vec<String> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(ids.len() <= 2);
        seen.extend(ids);
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, created);
}

#[tokio::test]
async fn another_organizations_webhook_answers_404_and_stays_untouched() {
    let app = spawn_app().await;
    let key_a = app.api_key("org_a", &[]).await;
    let key_b = app.api_key("org_b", &[]).await;
    let theirs = app.webhook(&key_a, "A's hook").await;
    let path = format!("/api/webhooks/{}", theirs["id"].as_str().unwrap());

    expect_problem(app.get(&path, &key_b).send().await.unwrap(), 404).await;
    expect_problem(
        app.patch(&path, &key_b, &json!({"name": "mine now"}))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    expect_problem(app.delete(&path, &key_b).send().await.unwrap(), 404).await;
    let b_list = expect_json(app.get("/api/webhooks", &key_b).send().await.unwrap(), 200).await;
    assert_eq!(b_list["data"], json!([]));

    // A service JWT for org_b is held to the same boundary.
    let jwt_b = service_token("org_b", "webhooks");
    expect_problem(app.get(&path, &jwt_b).send().await.unwrap(), 404).await;
    assert_eq!(
        expect_json(app.get(&path, &key_a).send().await.unwrap(), 200).await,
        theirs
    );
}

#[tokio::test]
async fn a_service_jwt_with_the_webhooks_scope_manages_webhooks() {
    let app = spawn_app().await;
    let jwt = service_token("org_a", "webhooks");
    let created = expect_json(
        app.post("/api/webhooks", &jwt, &crm_sync())
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let key = app.api_key("org_a", &[]).await;
    let list = expect_json(app.get("/api/webhooks", &key).send().await.unwrap(), 200).await;
    assert_eq!(list["data"][0]["id"], created["id"]);
}

/// Deleting a webhook was one cascading `DELETE` of all its deliveries and attempts: seconds
/// with a big one, during which every other tenant's write waited (SQLite has one writer).
/// Now it answers at once; the webhook is gone for every route and claim, what it had is
/// purged behind, and nothing it had pending is sent.
#[tokio::test]
async fn a_deleted_webhook_is_gone_at_once_sends_nothing_more_and_is_purged_behind() {
    use std::time::Duration;

    use crate::receiver::{Answer, Receiver};

    let app = spawn_app_with(AppOptions {
        retry_schedule: "300ms,300ms,300ms",
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(503));
    let hook = app
        .webhook_to(&key, &receiver.hook("gone"), &["contact.created"], None)
        .await;
    let id = hook["id"].as_str().unwrap();
    let events = (0..1000)
        .map(|n| json!({"event": "contact.created", "id": format!("c{n}"), "data": {}}))
        .collect();
    app.publish_batch(&key, events).await;
    receiver
        .wait_for(1, Duration::from_secs(10), |r| {
            r.event() == "contact.created"
        })
        .await;

    let path = format!("/api/webhooks/{id}");
    let deleted = app.delete(&path, &key).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    expect_problem(app.get(&path, &key).send().await.unwrap(), 404).await;
    expect_problem(
        app.get(&format!("{path}/logs"), &key).send().await.unwrap(),
        404,
    )
    .await;
    let listed = expect_json(app.get("/api/webhooks", &key).send().await.unwrap(), 200).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 0);
    expect_problem(app.delete(&path, &key).send().await.unwrap(), 404).await;

    // Its rows go in the background.
    let db = app.db().await;
    // Waited for while it makes progress: a loaded machine purges slower, not never.
    let (mut left, mut last_progress) = (u64::MAX, std::time::Instant::now());
    while left > 0 {
        let now_left = crate::stored_rows::deliveries_and_attempts(&db, id).await;
        if now_left < left {
            (left, last_progress) = (now_left, std::time::Instant::now());
        }
        assert!(
            last_progress.elapsed() < Duration::from_secs(30),
            "{left} deliveries and attempts left unpurged"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Requests in flight at the delete may still land; after that, nothing.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = receiver.received().len();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        receiver.received().len(),
        settled,
        "nothing sent after the delete"
    );
}

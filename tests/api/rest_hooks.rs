//! REST-hook subscriptions as Zapier, Make and n8n run them: lifecycles, repeats, filters and
//! refusals.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    discovery::WAIT,
    helpers::{AppOptions, expect_json, expect_problem, invalid_fields, spawn_app, spawn_app_with},
    receiver::{Answer, Receiver},
};

/// Zapier: performSubscribe → delivery → performList → performUnsubscribe → 410 handling.
#[tokio::test]
async fn the_zapier_lifecycle_works_as_zapier_runs_it() {
    let app = spawn_app().await;
    let key = app
        .api_key("org_a", &["integrations", "events:publish", "webhooks"])
        .await;
    let zapier = Receiver::start().await;
    let target = zapier.hook("hooks/standard/1/abc");
    // performSubscribe: Zapier's body keys, plus extras it may carry.
    let subscribe = json!({"target_url": target, "event": "contact_created", "platform": "zapier", "zap_id": 77});
    let response = app
        .post("/api/integrations/zapier/hooks", &key, &subscribe)
        .send()
        .await
        .unwrap();
    let subscribe_data = expect_json(response, 201).await;
    let id = subscribe_data["id"].as_str().unwrap().to_owned();
    assert_eq!(subscribe_data["event"], "contact.created");
    assert_eq!(subscribe_data["targetUrl"], target);
    assert_eq!(subscribe_data["platform"], "zapier");

    // It is a webhook like any other, with source zapier, and gets no test event.
    let webhook = expect_json(
        app.get(&format!("/api/webhooks/{id}"), &key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(webhook["source"], "zapier");

    app.publish(
        &key,
        &json!({"event": "contact.created", "id": "ct-1", "data": {"contact": {"id": "c1"}}}),
    )
    .await;
    let delivered = zapier.wait_for_event("contact.created", 1, WAIT).await;
    assert_eq!(
        delivered[0].json()["id"],
        "ct-1",
        "perform returns the body; Zapier de-duplicates on id"
    );
    assert!(
        zapier
            .received()
            .iter()
            .all(|r| r.event() != "webhook.test")
    );

    // performList: an array, newest first, exactly as delivered.
    app.publish(
        &key,
        &json!({"event": "contact.created", "id": "ct-2", "data": {"contact": {"id": "c2"}}}),
    )
    .await;
    let samples = expect_json(
        app.get("/api/integrations/triggers/contact_created/samples", &key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let ids: Vec<&str> = samples
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ct-2", "ct-1"]);
    zapier.wait_for_event("contact.created", 2, WAIT).await;
    assert_eq!(samples[1], delivered[0].json());

    // performUnsubscribe (also on pause): repeatable; afterwards nothing is sent.
    let path = format!("/api/integrations/zapier/hooks/{id}");
    assert_eq!(app.delete(&path, &key).send().await.unwrap().status(), 204);
    assert_eq!(app.delete(&path, &key).send().await.unwrap().status(), 204);
    expect_problem(app.get(&path, &key).send().await.unwrap(), 404).await;
    app.publish(
        &key,
        &json!({"event": "contact.created", "id": "ct-3", "data": {}}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(zapier.received().len(), 2);

    // A hook Zapier dropped on its side answers 410: the subscription is removed.
    let again = expect_json(
        app.post("/api/integrations/zapier/hooks", &key, &subscribe)
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    zapier.answer_with(Answer::status(410));
    app.publish(
        &key,
        &json!({"event": "contact.created", "id": "ct-4", "data": {}}),
    )
    .await;
    zapier.wait_for(1, WAIT, |r| r.json()["id"] == "ct-4").await;
    let gone = format!(
        "/api/integrations/zapier/hooks/{}",
        again["id"].as_str().unwrap()
    );
    app.wait_until_gone(&gone, &key).await;
}

/// Make: attach (webhook URL, id kept for detach) → deliveries → detach.
#[tokio::test]
async fn the_make_lifecycle_works_as_make_runs_it() {
    let app = spawn_app().await;
    let key = app
        .api_key("org_a", &["integrations", "events:publish"])
        .await;
    let make = Receiver::start().await;
    let attach = json!({"url": make.hook("make-token"), "events": ["payment.completed", "payment_completed"], "secret": "make-signing-secret"});
    let attached = expect_json(
        app.post("/api/integrations/make/hooks", &key, &attach)
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_eq!(attached["events"], json!(["payment.completed"]));
    let external_hook_id = attached["id"].as_str().unwrap();

    for i in 0..3 {
        app.publish(
            &key,
            &json!({"event": "payment.completed", "data": {"amount": i}}),
        )
        .await;
    }
    let got = make.wait_for_event("payment.completed", 3, WAIT).await;
    assert!(
        got.iter()
            .all(|r| r.header("x-kaanha-signature").starts_with("sha256="))
    );

    let detach = format!("/api/integrations/make/hooks/{external_hook_id}");
    assert_eq!(
        app.delete(&detach, &key).send().await.unwrap().status(),
        204
    );
    let listed = expect_json(
        app.get("/api/integrations/make/hooks", &key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(listed, json!([]));
}

/// n8n: checkExists → create → delivery → checkExists after a restart → delete.
#[tokio::test]
async fn the_n8n_lifecycle_survives_a_gateway_restart() {
    let app = spawn_app().await;
    let key = app
        .api_key("org_a", &["integrations", "events:publish"])
        .await;
    let n8n = Receiver::start().await;
    let hook_url = n8n.hook("webhook/2f0e9c1a-9d7e-4c57-8f0a-3b1c2d4e5f60/webhook");

    expect_problem(
        app.get("/api/integrations/n8n/hooks/wh_never", &key)
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    let created = expect_json(
        app.post("/api/integrations/n8n/hooks", &key, &json!({"hookUrl": hook_url, "event": "message.received", "filters": {"message_type": "", "contact_tag": ""}}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(
        created.get("filters").is_none(),
        "blank n8n defaults set no filter"
    );
    app.publish(
        &key,
        &json!({"event": "message.received", "data": {"message": {"type": "text"}}}),
    )
    .await;
    n8n.wait_for_event("message.received", 1, WAIT).await;

    let app = app.restart(AppOptions::default()).await;
    let path = format!("/api/integrations/n8n/hooks/{id}");
    let exists = expect_json(app.get(&path, &key).send().await.unwrap(), 200).await;
    assert_eq!(exists["targetUrl"], hook_url);
    let listed = expect_json(
        app.get(
            &format!("/api/integrations/n8n/hooks?target_url={hook_url}"),
            &key,
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(app.delete(&path, &key).send().await.unwrap().status(), 204);
    expect_problem(app.get(&path, &key).send().await.unwrap(), 404).await;
}

#[tokio::test]
async fn subscribing_twice_returns_the_same_subscription_and_delivers_once() {
    let app = spawn_app().await;
    let key = app
        .api_key("org_a", &["integrations", "events:publish"])
        .await;
    let hook = Receiver::start().await;
    let body = json!({"targetUrl": hook.hook("dup"), "event": "message.sent"});
    let first = expect_json(
        app.post("/api/integrations/zapier/hooks", &key, &body)
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let second = expect_json(
        app.post("/api/integrations/zapier/hooks", &key, &body)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(first["id"], second["id"]);
    let published = app
        .publish(&key, &json!({"event": "message.sent", "data": {}}))
        .await;
    assert_eq!(published["deliveries"], 1);
}

#[tokio::test]
async fn filters_pick_which_events_a_subscription_receives() {
    let app = spawn_app().await;
    let key = app
        .api_key("org_a", &["integrations", "events:publish"])
        .await;
    let hook = Receiver::start().await;
    let body = json!({"target_url": hook.hook("texts"), "event": "message.received", "filters": {"message_type": "text", "contact_tag": "vip"}});
    expect_json(
        app.post("/api/integrations/zapier/hooks", &key, &body)
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let message = |kind: &str, tags: Value| json!({"event": "message.received", "data": {"message": {"type": kind}, "contact": {"tags": tags}}});
    assert_eq!(
        app.publish(&key, &message("image", json!(["vip"]))).await["deliveries"],
        0
    );
    assert_eq!(
        app.publish(&key, &message("text", json!([]))).await["deliveries"],
        0
    );
    assert_eq!(
        app.publish(&key, &message("text", json!(["new", "vip"])))
            .await["deliveries"],
        1
    );
    hook.wait_for_event("message.received", 1, WAIT).await;

    let bad = json!({"target_url": hook.hook("x"), "event": "message.received", "filters": {"currency": "INR", "message_type": "fax"}});
    let problem = expect_problem(
        app.post("/api/integrations/zapier/hooks", &key, &bad)
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(
        invalid_fields(&problem),
        ["filters.currency", "filters.message_type"]
    );
}

#[tokio::test]
async fn bad_subscriptions_get_clear_4xx_answers_and_organizations_stay_apart() {
    let app = spawn_app_with(AppOptions {
        allow_private_targets: false,
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["integrations"]).await;
    let good = json!({"target_url": "https://93.184.216.34/hook", "event": "message.received"});

    let unknown_platform = app
        .post("/api/integrations/ifttt/hooks", &key, &good)
        .send()
        .await
        .unwrap();
    let problem = expect_problem(unknown_platform, 400).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("platform"),
        "{problem}"
    );
    let unknown_event =
        json!({"target_url": "https://93.184.216.34/hook", "event": "message.exploded"});
    let problem = expect_problem(
        app.post("/api/integrations/zapier/hooks", &key, &unknown_event)
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["event"]);
    for url in [
        "ftp://93.184.216.34/",
        "https://127.0.0.1/hook",
        "not a url",
    ] {
        let bad_url = json!({"target_url": url, "event": "message.received"});
        let problem = expect_problem(
            app.post("/api/integrations/n8n/hooks", &key, &bad_url)
                .send()
                .await
                .unwrap(),
            422,
        )
        .await;
        assert_eq!(invalid_fields(&problem), ["target_url"], "{url}");
    }
    let nothing = expect_problem(
        app.post("/api/integrations/make/hooks", &key, &json!({}))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(invalid_fields(&nothing), ["target_url", "event"]);

    let created = expect_json(
        app.post("/api/integrations/zapier/hooks", &key, &good)
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let path = format!(
        "/api/integrations/zapier/hooks/{}",
        created["id"].as_str().unwrap()
    );
    let other = app.api_key("org_b", &["integrations"]).await;
    expect_problem(app.get(&path, &other).send().await.unwrap(), 404).await;
    assert_eq!(
        app.delete(&path, &other).send().await.unwrap().status(),
        204
    );
    expect_json(app.get(&path, &key).send().await.unwrap(), 200).await;
    // The same id under another platform is not that platform's subscription.
    let as_make = format!(
        "/api/integrations/make/hooks/{}",
        created["id"].as_str().unwrap()
    );
    expect_problem(app.get(&as_make, &key).send().await.unwrap(), 404).await;

    let no_scope = app.api_key("org_a", &["webhooks"]).await;
    expect_problem(
        app.post("/api/integrations/zapier/hooks", &no_scope, &good)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    expect_problem(
        app.get("/api/integrations/triggers/nope/samples", &key)
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}

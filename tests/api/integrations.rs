use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::{
        AppOptions, JWT_SECRET, TestApp, UPSTREAM_JWT_SECRET, expect_json, expect_problem,
        invalid_fields, spawn_app, spawn_app_with,
    },
    receiver::{Answer, Receiver},
};

const WAIT: Duration = Duration::from_secs(10);

async fn describe(app: &TestApp, key: &str) -> Value {
    expect_json(
        app.get("/api/integrations/describe", key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

fn is_platform_key(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key.len() >= 2
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[tokio::test]
async fn describe_tells_a_client_everything_and_every_name_suits_every_platform() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let doc = describe(&app, &key).await;

    assert_eq!(doc["auth"]["type"], "bearer");
    assert_eq!(
        doc["auth"]["test"],
        json!({"method": "GET", "path": "/api/integrations/me"})
    );
    assert_eq!(doc["platform"]["baseUrl"], app.address);
    assert_eq!(
        doc["subscriptions"]["subscribe"]["path"],
        "/api/integrations/{platform}/hooks"
    );
    assert_eq!(doc["delivery"]["signatureHeader"], "X-Kaanha-Signature");
    assert_eq!(doc["delivery"]["goneStatus"], 410);
    assert_eq!(doc["delivery"]["retryDelaysMs"], json!([100, 200, 300]));
    assert_eq!(doc["actionsAvailable"], false);

    let triggers = doc["triggers"].as_array().unwrap();
    assert_eq!(
        triggers.len(),
        13,
        "the document's 11 and webhook.disabled / webhook.enabled"
    );
    let received = triggers
        .iter()
        .find(|t| t["event"] == "message.received")
        .unwrap();
    assert_eq!(received["key"], "message_received");
    assert_eq!(received["noun"], "Message");
    assert_eq!(
        received["sample"]["data"]["message"]["text"],
        "Hi, I need help with my order"
    );
    assert!(
        received["outputFields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["key"] == "data.contact.phone")
    );
    assert_eq!(
        received["samples"]["path"],
        "/api/integrations/triggers/message.received/samples"
    );
    let actions = doc["actions"].as_array().unwrap();
    let keys: Vec<&str> = actions.iter().map(|a| a["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "send_message",
            "create_contact",
            "update_contact",
            "tag_contact",
            "resolve_conversation",
            "create_payment_link"
        ]
    );

    for item in triggers.iter().chain(actions) {
        assert!(
            is_platform_key(item["key"].as_str().unwrap()),
            "{}",
            item["key"]
        );
        let label = item["label"].as_str().unwrap();
        assert!((2..=64).contains(&label.len()), "{label}");
        for field in item["inputFields"].as_array().unwrap() {
            assert!(is_platform_key(field["key"].as_str().unwrap()), "{field}");
            assert!(
                field.get("default").is_some(),
                "n8n needs a default: {field}"
            );
            if field["type"] == "enum" {
                let values: Vec<&Value> = field["choices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| &c["value"])
                    .collect();
                assert!(
                    values.contains(&&field["default"]),
                    "the default is a choice: {field}"
                );
            }
        }
        let primary = item["outputFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["primary"] == true)
            .count();
        assert!(primary <= 1);
    }
}

#[tokio::test]
async fn describe_is_cached_with_an_etag_and_needs_the_integrations_scope() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let first = app
        .get("/api/integrations/describe", &key)
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .get("/api/integrations/describe", &key)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    let stale = app
        .get("/api/integrations/describe", &key)
        .header("if-none-match", "\"old\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);

    let webhooks_only = app.api_key("org_a", &["webhooks"]).await;
    expect_problem(
        app.get("/api/integrations/describe", &webhooks_only)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    expect_problem(
        app.client
            .get(app.url("/api/integrations/describe"))
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
}

#[tokio::test]
async fn me_names_the_organization_and_the_key() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let me = expect_json(
        app.get("/api/integrations/me", &key).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(me["organizationId"], "org_a");
    assert_eq!(me["credential"], "apiKey");
    assert_eq!(me["keyName"], "test key");
    assert!(me["label"].as_str().unwrap().contains("org_a"));
}

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

#[tokio::test]
async fn without_an_upstream_actions_are_listed_as_unavailable_and_answer_503() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let send = json!({"phone": "+919876543210", "text": "hi"});
    let problem = expect_problem(
        app.post("/api/integrations/actions/send_message", &key, &send)
            .send()
            .await
            .unwrap(),
        503,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("KAANHA_UPSTREAM_URL")
    );
    // Validation still comes first, so a client learns what is wrong with its input.
    let problem = expect_problem(
        app.post(
            "/api/integrations/actions/send_message",
            &key,
            &json!({"text": 5}),
        )
        .send()
        .await
        .unwrap(),
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["phone", "text"]);
    expect_problem(
        app.post("/api/integrations/actions/launch_rocket", &key, &json!({}))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}

#[tokio::test]
async fn actions_are_forwarded_upstream_with_a_short_lived_token_naming_org_and_key() {
    let upstream = Receiver::start().await;
    upstream.answer_with(Answer {
        body: r#"{"id": "clx9", "tags": ["vip"]}"#.into(),
        ..Answer::status(200)
    });
    let app = spawn_app_with(AppOptions {
        upstream_url: Some(upstream.url.clone()),
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &[]).await;
    let me = expect_json(
        app.get("/api/integrations/me", &key).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(describe(&app, &key).await["actionsAvailable"], true);

    let input = json!({"contactId": "clx9", "tags": ["vip"]});
    let answer = expect_json(
        app.post("/api/integrations/actions/tag_contact", &key, &input)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(answer, json!({"id": "clx9", "tags": ["vip"]}));
    let call = upstream.wait_for(1, WAIT, |_| true).await.remove(0);
    assert_eq!(call.path, "/api/contacts/clx9/tags");
    assert_eq!(
        call.json(),
        json!({"contactId": "clx9", "tags": ["vip"], "mode": "add"}),
        "defaults filled in"
    );
    let token = call
        .header("authorization")
        .strip_prefix("Bearer ")
        .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "aud"]);
    validation.set_audience(&["kaanha-platform-api"]);
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(UPSTREAM_JWT_SECRET.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims;
    let signed_with_the_service_secret = jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(JWT_SECRET.as_bytes()),
        &validation,
    );
    assert!(
        signed_with_the_service_secret.is_err(),
        "the upstream token has its own secret"
    );
    assert_eq!(claims["org"], "org_a");
    assert_eq!(claims["sub"], me["keyId"]);
    assert_eq!(claims["action"], "tag_contact");
    assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() <= 60);

    upstream.answer_with(Answer {
        body: "contact not found".into(),
        ..Answer::status(404)
    });
    let problem = expect_problem(
        app.post("/api/integrations/actions/tag_contact", &key, &input)
            .send()
            .await
            .unwrap(),
        502,
    )
    .await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("404") && detail.contains("contact not found"),
        "{detail}"
    );
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502_with_the_reason() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(AppOptions {
        upstream_url: Some(format!("http://127.0.0.1:{closed}")),
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &[]).await;
    let input = json!({"amount": 10.5});
    let problem = expect_problem(
        app.post(
            "/api/integrations/actions/create_payment_link",
            &key,
            &input,
        )
        .send()
        .await
        .unwrap(),
        502,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{problem}"
    );
}

/// A value of the described type, as a generic client would make one up.
fn value_for(field: &Value) -> Value {
    match field["type"].as_str().unwrap() {
        "integer" => json!(7),
        "number" => json!(12.5),
        "boolean" => json!(true),
        "datetime" => json!("2026-03-24T10:30:00.000Z"),
        "array" => json!(["vip"]),
        "json" => json!({}),
        "enum" => field["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["value"].clone())
            .find(|v| v != "")
            .unwrap(),
        _ => json!("clx1"),
    }
}

/// The issue's "done when": a client that knows only the describe document subscribes,
/// receives signed deliveries, lists samples, runs an action and unsubscribes — as each platform.
#[tokio::test]
async fn a_client_knowing_only_describe_does_everything_on_every_platform() {
    let upstream = Receiver::start().await;
    upstream.answer_with(Answer {
        body: r#"{"messageId": "wamid.1", "status": "queued"}"#.into(),
        ..Answer::status(200)
    });
    let app = spawn_app_with(AppOptions {
        upstream_url: Some(upstream.url.clone()),
        ..AppOptions::default()
    })
    .await;
    let key = app
        .api_key("org_a", &["integrations", "events:publish"])
        .await;
    let doc = describe(&app, &key).await;
    let base = doc["platform"]["baseUrl"].as_str().unwrap().to_owned();
    let call = |method: &str, path: &str| {
        let url = format!("{base}{path}");
        let request = match method {
            "GET" => app.client.get(url),
            "POST" => app.client.post(url),
            "DELETE" => app.client.delete(url),
            other => panic!("describe named method {other}"),
        };
        request.header(
            doc["auth"]["header"].as_str().unwrap(),
            format!("{} {key}", doc["auth"]["scheme"].as_str().unwrap()),
        )
    };
    let test = &doc["auth"]["test"];
    let me = expect_json(
        call(
            test["method"].as_str().unwrap(),
            test["path"].as_str().unwrap(),
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert!(me[doc["auth"]["connectionLabel"].as_str().unwrap()].is_string());

    let trigger = &doc["triggers"][0];
    let subs = &doc["subscriptions"];
    for platform in subs["platforms"].as_array().unwrap() {
        let platform = platform.as_str().unwrap();
        let receiver = Receiver::start().await;
        let secret = format!("{platform}-secret-value");
        let subscribe_path = subs["subscribe"]["path"]
            .as_str()
            .unwrap()
            .replace("{platform}", platform);
        let body = json!({"targetUrl": receiver.hook(platform), "event": trigger["event"], "secret": secret});
        let created = expect_json(
            call(
                subs["subscribe"]["method"].as_str().unwrap(),
                &subscribe_path,
            )
            .json(&body)
            .send()
            .await
            .unwrap(),
            201,
        )
        .await;
        for field in subs["response"].as_array().unwrap() {
            assert!(
                created.get(field.as_str().unwrap()).is_some(),
                "{platform}: {field} missing from {created}"
            );
        }

        let event_id = format!("{platform}-evt");
        app.publish(
            &key,
            &json!({"event": trigger["event"], "id": event_id, "data": trigger["sample"]["data"]}),
        )
        .await;
        let got = receiver
            .wait_for_event(trigger["event"].as_str().unwrap(), 1, WAIT)
            .await
            .remove(0);
        let header = doc["delivery"]["signatureHeader"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase();
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
        hmac::Mac::update(&mut mac, &got.body);
        let expected = format!(
            "sha256={}",
            hex::encode(hmac::Mac::finalize(mac).into_bytes())
        );
        assert_eq!(got.header(&header), expected, "{platform}");
        let envelope = got.json();
        for field in doc["delivery"]["envelope"].as_array().unwrap() {
            assert!(envelope.get(field.as_str().unwrap()).is_some(), "{field}");
        }
        assert_eq!(
            envelope[doc["delivery"]["idempotencyKey"].as_str().unwrap()],
            event_id.as_str()
        );

        let samples = &trigger["samples"];
        let listed = expect_json(
            call(
                samples["method"].as_str().unwrap(),
                samples["path"].as_str().unwrap(),
            )
            .send()
            .await
            .unwrap(),
            200,
        )
        .await;
        assert_eq!(
            listed[0]["id"],
            event_id.as_str(),
            "{platform}: newest sample first"
        );

        let action = &doc["actions"][0];
        let input: serde_json::Map<String, Value> = action["inputFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["required"] == true)
            .map(|f| (f["key"].as_str().unwrap().to_owned(), value_for(f)))
            .collect();
        let ran = expect_json(
            call(
                action["method"].as_str().unwrap(),
                action["path"].as_str().unwrap(),
            )
            .json(&input)
            .send()
            .await
            .unwrap(),
            200,
        )
        .await;
        assert_eq!(ran["status"], "queued");

        let id = created["id"].as_str().unwrap();
        let unsubscribe = subs["unsubscribe"]["path"]
            .as_str()
            .unwrap()
            .replace("{platform}", platform)
            .replace("{id}", id);
        assert_eq!(
            call(
                subs["unsubscribe"]["method"].as_str().unwrap(),
                &unsubscribe
            )
            .send()
            .await
            .unwrap()
            .status(),
            204
        );
        let get = subs["get"]["path"]
            .as_str()
            .unwrap()
            .replace("{platform}", platform)
            .replace("{id}", id);
        expect_problem(
            call(subs["get"]["method"].as_str().unwrap(), &get)
                .send()
                .await
                .unwrap(),
            404,
        )
        .await;
    }
    assert_eq!(
        upstream.received().len(),
        3,
        "one action per platform reached the upstream"
    );
}

#[test]
fn the_committed_platform_apps_are_what_the_generator_writes_now() {
    use kaanha_gateway::integrations::{self, Platform};

    let config = kaanha_gateway::config::Config::for_database("sqlite::memory:");
    let describe = integrations::describe(&config, integrations::DEFAULT_BASE_URL);
    for platform in Platform::ALL {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("integrations")
            .join(platform.dir_name());
        for file in integrations::generate(platform, &describe) {
            let committed = std::fs::read_to_string(dir.join(&file.path)).unwrap_or_default();
            assert!(
                committed == file.contents,
                "integrations/{dir}/{path} is stale; regenerate with `cargo run -- integrations \
                 export --platform {dir} --out integrations/{dir}` and commit it",
                dir = platform.dir_name(),
                path = file.path,
            );
        }
    }
}

/// Whether `openapi/openapi.json` has a route for this method and path (`{{...}}` segments and
/// `{param}` segments match anything).
fn spec_has_route(spec: &Value, method: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let wanted: Vec<&str> = path.trim_matches('/').split('/').collect();
    spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .any(|(route, operations)| {
            let segments: Vec<&str> = route.trim_matches('/').split('/').collect();
            segments.len() == wanted.len()
                && segments
                    .iter()
                    .zip(&wanted)
                    .all(|(s, w)| s == w || s.starts_with('{') || w.starts_with("{{"))
                && operations.get(method.to_lowercase()).is_some()
        })
}

#[test]
fn the_make_app_attaches_detaches_and_calls_only_routes_the_gateway_serves() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("integrations/make");
    let read = |path: &str| -> Value {
        let text = std::fs::read_to_string(dir.join(path)).unwrap_or_else(|_| panic!("{path}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let spec: Value = serde_json::from_str(&kaanha_gateway::api::spec_json()).unwrap();
    let config = kaanha_gateway::config::Config::for_database("sqlite::memory:");
    let describe = kaanha_gateway::integrations::describe(&config, "https://gateway.example.com");

    let base = read("base.imljson");
    assert_eq!(
        base["headers"]["Authorization"],
        "Bearer {{connection.apiKey}}"
    );
    assert!(base["response"]["error"]["message"].is_string());
    let check = read("connections/kaanha/api.imljson");
    let check_url = check["url"].as_str().unwrap();
    let check_path = check_url.trim_start_matches("{{parameters.baseUrl}}");
    assert!(spec_has_route(
        &spec,
        check["method"].as_str().unwrap(),
        check_path
    ));
    let parameters = read("connections/kaanha/parameters.imljson");
    let names: Vec<&str> = parameters
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["apiKey", "baseUrl"]);

    let mut routes = 1;
    for trigger in describe["triggers"].as_array().unwrap() {
        let key = trigger["key"].as_str().unwrap();
        let attach = read(&format!("webhooks/{key}/attach.imljson"));
        assert_eq!(attach["method"], "POST", "{key}");
        assert_eq!(attach["url"], "/api/integrations/make/hooks", "{key}");
        assert_eq!(attach["body"]["targetUrl"], "{{webhook.url}}", "{key}");
        assert_eq!(attach["body"]["event"], trigger["event"], "{key}");
        assert_eq!(
            attach["response"]["data"]["externalHookId"], "{{body.id}}",
            "{key}"
        );
        let detach = read(&format!("webhooks/{key}/detach.imljson"));
        assert_eq!(detach["method"], "DELETE", "{key}");
        assert!(
            detach["url"]
                .as_str()
                .unwrap()
                .ends_with("/{{webhook.externalHookId}}"),
            "{key}"
        );
        for call in [&attach, &detach] {
            let (method, url) = (
                call["method"].as_str().unwrap(),
                call["url"].as_str().unwrap(),
            );
            assert!(spec_has_route(&spec, method, url), "{key}: {method} {url}");
            routes += 1;
        }
        let module = read(&format!("modules/{key}/module.json"));
        assert_eq!(module["typeFunction"], "instant", "{key}");
        assert_eq!(module["webhook"], key, "{key}");
        let interface = read(&format!("modules/{key}/interface.imljson"));
        assert!(
            interface
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["name"] == "id"),
            "{key}: the interface has the event id"
        );
        assert!(read(&format!("modules/{key}/samples.imljson")).is_object());
    }
    for action in describe["actions"].as_array().unwrap() {
        let key = action["key"].as_str().unwrap();
        let call = read(&format!("modules/{key}/api.imljson"));
        let (method, url) = (
            call["method"].as_str().unwrap(),
            call["url"].as_str().unwrap(),
        );
        assert!(spec_has_route(&spec, method, url), "{key}: {method} {url}");
        routes += 1;
        assert_eq!(
            read(&format!("modules/{key}/module.json"))["typeFunction"],
            "action"
        );
        assert!(
            !read(&format!("modules/{key}/expect.imljson"))
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert!(
            !read(&format!("modules/{key}/interface.imljson"))
                .as_array()
                .unwrap()
                .is_empty()
        );
    }
    eprintln!("the Make app's {routes} calls all name routes of the spec");
}

//! Isolation between organizations: every route that takes an object's id, tried by another
//! organization with full scopes, answers 404 and changes nothing. The routes come from the
//! served OpenAPI document, so a new one cannot be forgotten here.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    helpers::{expect_json, expect_problem, spawn_app},
    receiver::Receiver,
};

const ALL_SCOPES: &[&str] = &["webhooks", "integrations", "events:publish", "api-keys"];

#[tokio::test]
async fn another_organizations_ids_answer_404_on_every_route_and_change_nothing() {
    let app = spawn_app().await;
    let owner = app.api_key("org_owner", ALL_SCOPES).await;
    let intruder = app.api_key("org_intruder", ALL_SCOPES).await;
    let receiver = Receiver::start().await;

    // The owner's objects: a webhook with a delivery, a Zapier subscription, a second key.
    let webhook = app
        .webhook_to(&owner, &receiver.hook("owner"), &["contact.created"], None)
        .await;
    let webhook_id = webhook["id"].as_str().unwrap().to_owned();
    app.publish(&owner, &json!({"event": "contact.created", "data": {}}))
        .await;
    let delivered = receiver
        .wait_for_event("contact.created", 1, Duration::from_secs(5))
        .await;
    let delivery_id = delivered[0].header("x-kaanha-delivery").to_owned();
    let hook = expect_json(
        app.post(
            "/api/integrations/zapier/hooks",
            &owner,
            &json!({"hookUrl": receiver.hook("zap"), "event": "contact.created"}),
        )
        .send()
        .await
        .unwrap(),
        201,
    )
    .await;
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    let second_key = expect_json(
        app.post("/api/api-keys", &owner, &json!({"name": "second"}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let key_id = second_key["id"].as_str().unwrap().to_owned();
    let attempt_id = app.wait_for_logs(&owner, &webhook_id, "").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The intruder's own webhook: the owner's delivery under the intruder's webhook is 404 too.
    let own = app
        .webhook_to(
            &intruder,
            &receiver.hook("intruder"),
            &["contact.created"],
            None,
        )
        .await;
    let own_id = own["id"].as_str().unwrap();

    let tries: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/webhooks/{webhook_id}"), None),
        (
            Method::PATCH,
            format!("/api/webhooks/{webhook_id}"),
            Some(json!({"name": "taken over"})),
        ),
        (Method::DELETE, format!("/api/webhooks/{webhook_id}"), None),
        (
            Method::POST,
            format!("/api/webhooks/{webhook_id}/test"),
            None,
        ),
        (
            Method::GET,
            format!("/api/webhooks/{webhook_id}/logs"),
            None,
        ),
        (
            Method::POST,
            format!("/api/webhooks/{webhook_id}/recover"),
            Some(json!({"since": "2026-01-01T00:00:00Z"})),
        ),
        (
            Method::POST,
            format!("/api/webhooks/{webhook_id}/replay"),
            Some(json!({"since": "2026-01-01T00:00:00Z"})),
        ),
        (
            Method::GET,
            format!("/api/webhooks/{webhook_id}/deliveries"),
            None,
        ),
        (
            Method::GET,
            format!("/api/webhooks/{webhook_id}/stats"),
            None,
        ),
        (
            Method::GET,
            format!("/api/webhooks/{webhook_id}/logs/{attempt_id}/request"),
            None,
        ),
        (
            Method::POST,
            format!("/api/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"),
            None,
        ),
        (
            Method::POST,
            format!("/api/webhooks/{own_id}/deliveries/{delivery_id}/retry"),
            None,
        ),
        (
            Method::GET,
            format!("/api/integrations/zapier/hooks/{hook_id}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/integrations/zapier/hooks/{hook_id}"),
            None,
        ),
        (Method::DELETE, format!("/api/api-keys/{key_id}"), None),
    ];

    // Every operation of the spec that names an object by id is tried above.
    let spec = expect_json(
        app.client
            .get(app.url("/api/openapi.json"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        if !path.contains("{id}") {
            continue;
        }
        for method in operations.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let shape = |tried: &str| {
                tried.split('/').count() == path.split('/').count()
                    && tried
                        .split('/')
                        .zip(path.split('/'))
                        .all(|(t, p)| p.starts_with('{') || t == p || p == "{platform}")
            };
            assert!(
                tries
                    .iter()
                    .any(|(m, tried, _)| *m == method && shape(tried)),
                "{method} {path} takes an id but is not tried by another organization"
            );
        }
    }

    for (method, path, body) in &tries {
        let mut request = app
            .client
            .request(method.clone(), app.url(path))
            .bearer_auth(&intruder);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        if *method == Method::DELETE && path.starts_with("/api/integrations/") {
            // REST-hook unsubscribe answers 204 whether or not the subscription existed (so a
            // platform's retry never fails): the same answer for "not yours" as for "gone",
            // and the owner's subscription is checked below to be still there.
            assert_eq!(response.status(), 204, "{path}");
            continue;
        }
        let problem = expect_problem(response, 404).await;
        assert!(
            !problem.to_string().contains("org_owner"),
            "{method} {path} named the other organization: {problem}"
        );
    }

    // Untouched: the webhook, its name and its log; the subscription; the second key.
    let still = expect_json(
        app.get(&format!("/api/webhooks/{webhook_id}"), &owner)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(still["name"], webhook["name"]);
    expect_json(
        app.get(&format!("/api/integrations/zapier/hooks/{hook_id}"), &owner)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let second = second_key["key"].as_str().unwrap();
    expect_json(app.get("/api/webhooks", second).send().await.unwrap(), 200).await;
    // The owner's own test event (sent when its webhook was made) arrives; no other does.
    let owner_tests =
        |r: &crate::receiver::Received| r.path == "/owner" && r.event() == "webhook.test";
    receiver
        .wait_for(1, Duration::from_secs(10), owner_tests)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver
            .received()
            .iter()
            .filter(|r| owner_tests(r))
            .count(),
        1,
        "no test event was sent on the intruder's behalf"
    );
}

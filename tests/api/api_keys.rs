use serde_json::json;

use crate::helpers::{expect_json, expect_problem, invalid_fields, service_token, spawn_app};

#[tokio::test]
async fn a_created_key_is_shown_once_authenticates_and_lists_without_the_key() {
    let app = spawn_app().await;
    let jwt = service_token("org_a", "api-keys");

    let response = app
        .post("/api/api-keys", &jwt, &json!({"name": "Zapier"}))
        .send()
        .await
        .unwrap();
    let created = expect_json(response, 201).await;
    let key = created["key"].as_str().unwrap();
    assert!(key.starts_with("kgw_"));
    assert!(key.starts_with(created["prefix"].as_str().unwrap()));
    assert_eq!(created["scopes"], json!(["webhooks", "integrations"]));

    expect_json(app.get("/api/webhooks", key).send().await.unwrap(), 200).await;

    let list = expect_json(app.get("/api/api-keys", &jwt).send().await.unwrap(), 200).await;
    let listed = &list["data"][0];
    assert_eq!(listed["id"], created["id"]);
    assert_eq!(listed["prefix"], created["prefix"]);
    assert!(listed.get("key").is_none(), "{listed}");
    assert!(
        !list.to_string().contains(key),
        "the key must never be listed"
    );
    assert!(
        listed["lastUsedAt"].is_string(),
        "the key was used: {listed}"
    );
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once_even_when_its_check_was_cached() {
    let app = spawn_app().await;
    let jwt = service_token("org_a", "api-keys");
    let created = expect_json(
        app.post("/api/api-keys", &jwt, &json!({"name": "k"}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let key = created["key"].as_str().unwrap();
    expect_json(app.get("/api/webhooks", key).send().await.unwrap(), 200).await;

    let path = format!("/api/api-keys/{}", created["id"].as_str().unwrap());
    assert_eq!(app.delete(&path, &jwt).send().await.unwrap().status(), 204);

    let problem = expect_problem(app.get("/api/webhooks", key).send().await.unwrap(), 401).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("revoked"),
        "{problem}"
    );
    let list = expect_json(app.get("/api/api-keys", &jwt).send().await.unwrap(), 200).await;
    assert!(list["data"][0]["revokedAt"].is_string());
    // Revoking again is harmless; another organization cannot see the key at all.
    assert_eq!(app.delete(&path, &jwt).send().await.unwrap().status(), 204);
    expect_problem(
        app.delete(&path, &service_token("org_b", "api-keys"))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}

#[tokio::test]
async fn managing_keys_needs_the_api_keys_scope_and_a_key_cannot_grant_more_than_it_has() {
    let app = spawn_app().await;
    let plain = app.api_key("org_a", &[]).await;
    expect_problem(app.get("/api/api-keys", &plain).send().await.unwrap(), 403).await;
    expect_problem(
        app.get("/api/api-keys", &service_token("org_a", "webhooks"))
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;

    let admin = app.api_key("org_a", &["api-keys", "webhooks"]).await;
    let escalate = json!({"name": "x", "scopes": ["events:publish"]});
    let problem = expect_problem(
        app.post("/api/api-keys", &admin, &escalate)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("events:publish")
    );
    let same = json!({"name": "x", "scopes": ["webhooks"]});
    expect_json(
        app.post("/api/api-keys", &admin, &same)
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
}

/// A key holding only `api-keys` could revoke the back end's `events:publish` key.
#[tokio::test]
async fn a_key_may_revoke_only_keys_whose_scopes_it_holds_and_a_service_token_any() {
    let app = spawn_app().await;
    let jwt = service_token("org_a", "api-keys");
    let publisher = json!({"name": "back end", "scopes": ["events:publish"]});
    let created = expect_json(
        app.post("/api/api-keys", &jwt, &publisher)
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let publisher_id = created["id"].as_str().unwrap();
    let keys_only = app.api_key("org_a", &["api-keys"]).await;
    let path = format!("/api/api-keys/{publisher_id}");
    let problem = expect_problem(app.delete(&path, &keys_only).send().await.unwrap(), 403).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("events:publish"),
        "{problem}"
    );
    let still = app
        .post(
            "/api/events",
            created["key"].as_str().unwrap(),
            &json!({"event": "message.received", "data": {}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 202, "the back end's key still works");

    // A key may revoke one with fewer scopes, and itself.
    let admin = app.api_key("org_a", &["api-keys", "webhooks"]).await;
    let lesser = json!({"name": "lesser", "scopes": ["webhooks"]});
    let lesser = expect_json(
        app.post("/api/api-keys", &admin, &lesser)
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let lesser_path = format!("/api/api-keys/{}", lesser["id"].as_str().unwrap());
    assert_eq!(
        app.delete(&lesser_path, &admin)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    // A service token may revoke any key of its organization.
    assert_eq!(app.delete(&path, &jwt).send().await.unwrap().status(), 204);
}

#[tokio::test]
async fn unknown_scopes_and_empty_names_are_named_in_a_422() {
    let app = spawn_app().await;
    let jwt = service_token("org_a", "api-keys");
    let bad = json!({"name": " ", "scopes": ["webhooks", "admin"]});
    let problem = expect_problem(
        app.post("/api/api-keys", &jwt, &bad).send().await.unwrap(),
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["name", "scopes[1]"]);
    let list = expect_json(app.get("/api/api-keys", &jwt).send().await.unwrap(), 200).await;
    assert_eq!(list["data"], json!([]));
}

use serde_json::json;

use crate::helpers::{
    AppOptions, expect_json, expect_problem, invalid_fields, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn malformed_json_is_a_400_and_a_wrong_content_type_a_415() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let post = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/api/webhooks"))
            .bearer_auth(&key)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    expect_problem(post("{\"name\": ", "application/json").await.unwrap(), 400).await;
    expect_problem(post("", "application/json").await.unwrap(), 400).await;
    expect_problem(post("{} trailing", "application/json").await.unwrap(), 400).await;
    expect_problem(
        post("{\"name\": \"\u{fffd}\"", "application/json")
            .await
            .unwrap(),
        400,
    )
    .await;
    expect_problem(
        post("name=x", "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        415,
    )
    .await;
    let no_type = app
        .client
        .post(app.url("/api/webhooks"))
        .bearer_auth(&key)
        .body("{}")
        .send()
        .await
        .unwrap();
    expect_problem(no_type, 415).await;
}

#[tokio::test]
async fn unknown_and_duplicate_fields_are_named() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let unknown = json!({"name": "x", "url": "http://127.0.0.1:9/", "events": ["message.received"], "colour": "red"});
    let problem = expect_problem(
        app.post("/api/webhooks", &key, &unknown)
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["colour"]);

    let duplicate = r#"{"name": "x", "name": "y", "url": "http://127.0.0.1:9/", "events": ["message.received"]}"#;
    let response = app
        .client
        .post(app.url("/api/webhooks"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(duplicate)
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 422).await;
    assert_eq!(invalid_fields(&problem), ["name"]);
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_whether_or_not_its_length_is_declared() {
    let app = spawn_app_with(AppOptions {
        max_body_bytes: Some(1024),
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &[]).await;
    let big = json!({"name": "x".repeat(2000), "url": "http://127.0.0.1:9/", "events": ["message.received"]}).to_string();

    let declared = app
        .client
        .post(app.url("/api/webhooks"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    expect_problem(declared, 413).await;

    let chunks: Vec<Result<String, std::io::Error>> = big
        .as_bytes()
        .chunks(100)
        .map(|c| Ok(String::from_utf8(c.to_vec()).unwrap()))
        .collect();
    let streamed = app
        .client
        .post(app.url("/api/webhooks"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    expect_problem(streamed, 413).await;
    let list = expect_json(app.get("/api/webhooks", &key).send().await.unwrap(), 200).await;
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn unknown_routes_wrong_methods_and_absurd_pages_are_problems_too() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    expect_problem(
        app.get("/api/nothing-here", &key).send().await.unwrap(),
        404,
    )
    .await;
    expect_problem(
        app.client
            .put(app.url("/api/webhooks"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
        405,
    )
    .await;
    for query in [
        "limit=0",
        "limit=-1",
        "limit=101",
        "limit=99999999999999999999",
        "limit=ten",
    ] {
        let path = format!("/api/webhooks?{query}");
        let problem = expect_problem(app.get(&path, &key).send().await.unwrap(), 400).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("limit"),
            "{query}: {problem}"
        );
    }
    let long_id = format!("/api/webhooks/{}", "x".repeat(500));
    expect_problem(app.get(&long_id, &key).send().await.unwrap(), 400).await;
}

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

#[tokio::test]
async fn deep_nesting_huge_arrays_invalid_utf8_and_hostile_cursors_are_clear_4xx() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let raw = |path: &'static str, body: Vec<u8>| {
        app.client
            .post(app.url(path))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // 100,000 levels of nesting fit in the body limit; the parser's depth limit stops them.
    let deep = format!(
        r#"{{"event":"message.received","data":{{"a":{}{}}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    expect_problem(raw("/api/events", deep.into_bytes()).await.unwrap(), 400).await;
    let nested_data = format!(
        r#"{{"event":"message.received","data":{}1{}}}"#,
        r#"{"a":"#.repeat(300),
        "}".repeat(300)
    );
    expect_problem(
        raw("/api/events", nested_data.into_bytes()).await.unwrap(),
        400,
    )
    .await;
    // 5,000 events in one batch: over the batch's 1,000, named.
    let events: Vec<_> = (0..5000)
        .map(|_| json!({"event": "message.received", "data": {}}))
        .collect();
    let problem = expect_problem(
        app.post("/api/events/batch", &key, &json!({"events": events}))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert!(problem.to_string().contains("1000"), "{problem}");
    // Ten thousand entries where a short list is expected.
    let huge_events = format!(
        r#"{{"name":"x","url":"http://127.0.0.1:9/","events":[{}"message.received"]}}"#,
        r#""message.received","#.repeat(10_000)
    );
    let answer = raw("/api/webhooks", huge_events.into_bytes())
        .await
        .unwrap();
    assert!(answer.status().is_client_error(), "{}", answer.status());
    let problem = answer.text().await.unwrap();
    assert!(problem.contains("events"), "{problem}");
    // Bytes that are not UTF-8.
    expect_problem(
        raw("/api/webhooks", b"{\"name\": \"\xff\xfe\xfd\"}".to_vec())
            .await
            .unwrap(),
        400,
    )
    .await;
    // Cursors are ids: anything else is refused, naming the cursor, and nothing is
    // interpreted.
    for cursor in ["%27%20OR%201%3D1%20--", "wh_", "zzzz", "%FF%FE"] {
        let answer = app
            .get(&format!("/api/webhooks?cursor={cursor}"), &key)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        assert!(status == 422 || status == 400, "cursor {cursor}: {status}");
        let problem: serde_json::Value = answer.json().await.unwrap();
        assert!(problem.to_string().contains("cursor"), "{problem}");
    }
    for path in [
        "/api/webhooks/wh_%00",
        "/api/webhooks?cursor=%00",
        "/api/api-keys?cursor=a%00b",
    ] {
        let problem = expect_problem(app.get(path, &key).send().await.unwrap(), 400).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("NUL"),
            "{path}"
        );
    }
    let long_cursor = format!("/api/webhooks?cursor={}", "c".repeat(5000));
    let status = app.get(&long_cursor, &key).send().await.unwrap().status();
    assert!(status.is_client_error() || status == 200, "{status}");
}

/// A 200 KB subscribe naming 50,000 unknown events answered a 30 MB problem (each error repeated
/// the catalog): 32 at once took the process to 950 MB with only an `integrations` key.
#[tokio::test]
async fn long_lists_are_refused_whole_and_a_problem_stays_small() {
    let app = spawn_app().await;
    let key = app
        .api_key("org_a", &["webhooks", "integrations", "api-keys"])
        .await;
    let unknown = vec!["x"; 50_000];
    let subscribe = json!({"target_url": "https://example.com/h", "events": unknown});
    let answer = app
        .post("/api/integrations/zapier/hooks", &key, &subscribe)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 422);
    let text = answer.text().await.unwrap();
    assert!(text.len() < 2_000, "{} bytes: {text}", text.len());
    assert!(text.contains("at most 64"), "{text}");

    // Within the bound, each bad item is named, the first 20 of them, without the catalog.
    let bad: Vec<String> = (0..64).map(|n| format!("no.such_{n}")).collect();
    let webhook = json!({"name": "x", "url": "https://example.com/h", "events": bad});
    let problem = expect_problem(
        app.post("/api/webhooks", &key, &webhook)
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 20, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.ends_with("and 44 more invalid fields"), "{detail}");
    assert!(detail.contains("/api/integrations/describe"), "{detail}");
    assert!(
        !detail.contains("contact.created"),
        "the catalog is repeated: {detail}"
    );

    let scopes: Vec<&str> = vec!["webhooks"; 17];
    let problem = expect_problem(
        app.post(
            "/api/api-keys",
            &key,
            &json!({"name": "k", "scopes": scopes}),
        )
        .send()
        .await
        .unwrap(),
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "scopes", "{problem}");

    let hook = app
        .webhook_to(&key, "http://127.0.0.1:9/h", &["message.received"], None)
        .await;
    let since = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let replay = json!({"since": since, "events": vec!["message.received"; 65]});
    let path = format!("/api/webhooks/{}/replay", hook["id"].as_str().unwrap());
    let problem = expect_problem(app.post(&path, &key, &replay).send().await.unwrap(), 422).await;
    assert_eq!(problem["errors"][0]["field"], "events", "{problem}");
}

#[tokio::test]
async fn a_cursor_no_list_gave_is_named_and_an_id_of_nothing_is_not_found() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &[]).await;
    let webhook = app.webhook(&key, "cursors").await;
    let id = webhook["id"].as_str().unwrap();
    let attempt_cursor = "att_0190f5a2c3b47d8e9f0a1b2c3d4e5f60";
    for (list, cursor) in [
        ("logs", "not-a-cursor"),
        ("logs", "att_0190f5a2"),
        // A cursor of the log is no cursor of the deliveries.
        ("deliveries", attempt_cursor),
    ] {
        let path = format!("/api/webhooks/{id}/{list}?cursor={cursor}");
        let problem = expect_problem(app.get(&path, &key).send().await.unwrap(), 422).await;
        assert_eq!(invalid_fields(&problem), ["cursor"], "{path}: {problem}");
    }
    let page = app.get(
        &format!("/api/webhooks/{id}/logs?cursor={attempt_cursor}"),
        &key,
    );
    expect_json(page.send().await.unwrap(), 200).await;
    for path in [
        format!("/api/webhooks/{id}/deliveries/dlv_nothing/retry"),
        format!("/api/webhooks/{id}/deliveries/{}/retry", attempt_cursor),
    ] {
        let answer = app.post(&path, &key, &json!({})).send().await.unwrap();
        expect_problem(answer, 404).await;
    }
}

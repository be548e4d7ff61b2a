//! Actions: listed only with an upstream, forwarded with a short-lived token of their own, and
//! kept from leaving their path, their size or their route (no ambient proxy).

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::{
    crash::{BIN, free_port, wait_ready},
    database::TestDatabase,
    discovery::{WAIT, describe},
    helpers::{
        AppOptions, JWT_SECRET, UPSTREAM_JWT_SECRET, expect_json, expect_problem, http_client,
        invalid_fields, spawn_app, spawn_app_with,
    },
    receiver::{Answer, Receiver},
};

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
            .contains("not connected to the platform's API")
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
    let (app, key) = gateway_before(&upstream).await;
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

#[tokio::test]
async fn path_parameters_that_would_leave_their_segment_are_refused() {
    let upstream = Receiver::start().await;
    upstream.answer_with(Answer {
        body: "{}".into(),
        ..Answer::status(200)
    });
    let app = spawn_app_with(AppOptions {
        upstream_url: Some(format!("{}/v1", upstream.url)),
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &[]).await;
    for contact in ["..", ".", "a/b", "..%2f", "a\\b", "%2e%2e", "a?b", "a#b"] {
        let input = json!({"contactId": contact, "name": "x"});
        let problem = expect_problem(
            app.post("/api/integrations/actions/update_contact", &key, &input)
                .send()
                .await
                .unwrap(),
            422,
        )
        .await;
        assert_eq!(
            invalid_fields(&problem),
            ["contactId"],
            "{contact}: {problem}"
        );
    }
    assert!(upstream.received().is_empty(), "nothing went upstream");
    // A good one lands in its own segment, below the base path.
    let input = json!({"contactId": "clx.9~a:b-c_d", "name": "x"});
    let answer = app
        .post("/api/integrations/actions/update_contact", &key, &input)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        upstream.received()[0].path,
        "/v1/api/contacts/clx.9~a:b-c_d"
    );
}

#[tokio::test]
async fn an_upstream_answer_over_the_cap_is_a_502_saying_so() {
    let upstream = Receiver::start().await;
    upstream.answer_with(Answer {
        body: format!("{{\"padding\": \"{}\"}}", "x".repeat(64 * 1024)),
        ..Answer::status(200)
    });
    let app = spawn_app_with(AppOptions {
        upstream_url: Some(upstream.url.clone()),
        tweak: |config| config.security.upstream_max_body_bytes = 16 * 1024,
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &[]).await;
    let problem = expect_problem(
        app.post(
            "/api/integrations/actions/create_payment_link",
            &key,
            &json!({"amount": 10}),
        )
        .send()
        .await
        .unwrap(),
        502,
    )
    .await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("larger than the 16384 bytes"), "{detail}");
}

#[tokio::test]
async fn the_upstream_token_ignores_proxy_variables_and_goes_straight_to_the_platform() {
    let upstream = Receiver::start().await;
    upstream.answer_with(Answer {
        body: "{}".into(),
        ..Answer::status(200)
    });
    let proxy = Receiver::start().await;
    let database = TestDatabase::new().await;
    let created = Command::new(BIN)
        .args([
            "api-key",
            "create",
            "--org",
            "org_a",
            "--name",
            "proxy test",
        ])
        .env("KAANHA_DATABASE_URL", &database.url)
        .output()
        .unwrap();
    let key = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut gateway = Command::new(BIN)
        .env("KAANHA_DATABASE_URL", &database.url)
        .env("KAANHA_BIND", format!("127.0.0.1:{port}"))
        .env("KAANHA_UPSTREAM_URL", &upstream.url)
        .env(
            "KAANHA_UPSTREAM_JWT_SECRET",
            "an-upstream-secret-of-32-bytes-or-more",
        )
        .env("HTTP_PROXY", &proxy.url)
        .env("http_proxy", &proxy.url)
        .env("HTTPS_PROXY", &proxy.url)
        .env("ALL_PROXY", &proxy.url)
        .env("KAANHA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = http_client();
    wait_ready(&client, &base).await;
    let answer = client
        .post(format!(
            "{base}/api/integrations/actions/create_payment_link"
        ))
        .bearer_auth(&key)
        .json(&json!({"amount": 10}))
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let _ = gateway.kill();
    let _ = gateway.wait();
    assert_eq!(status, 200);
    assert_eq!(upstream.received().len(), 1, "the platform got the action");
    assert!(proxy.received().is_empty(), "the proxy saw nothing");
}

/// A gateway forwarding to `upstream`, and a key of `org_a` (default scopes).
async fn gateway_before(upstream: &Receiver) -> (crate::helpers::TestApp, String) {
    let app = spawn_app_with(AppOptions {
        upstream_url: Some(upstream.url.clone()),
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &[]).await;
    (app, key)
}

/// The upstream's claims in a request's token.
fn upstream_claims(call: &crate::receiver::Received) -> Value {
    let token = call.header("authorization").trim_start_matches("Bearer ");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["kaanha-platform-api"]);
    let key = jsonwebtoken::DecodingKey::from_secret(UPSTREAM_JWT_SECRET.as_bytes());
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn searches_ask_the_platform_with_a_get_and_always_answer_a_list() {
    let upstream = Receiver::start().await;
    let (app, key) = gateway_before(&upstream).await;
    let search = |input: Value| {
        app.post("/api/integrations/actions/find_contact", &key, &input)
            .send()
    };
    // The platform wraps its list: the gateway answers the list itself.
    upstream.answer_with(Answer::body(
        200,
        r#"{"data": [{"id": "c1", "email": "jane@example.com"}]}"#,
    ));
    let found = expect_json(
        search(json!({"email": "jane@example.com"})).await.unwrap(),
        200,
    )
    .await;
    assert_eq!(found, json!([{"id": "c1", "email": "jane@example.com"}]));
    let call = upstream.wait_for(1, WAIT, |_| true).await.remove(0);
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("GET", "/api/contacts")
    );
    assert_eq!(call.query, "email=jane%40example.com");
    assert!(call.body.is_empty());
    assert_eq!(upstream_claims(&call)["action"], "find_contact");

    // Nothing found is an empty list, not an error.
    upstream.answer_with(Answer::body(200, "[]"));
    let none = expect_json(search(json!({"phone": "+15550000"})).await.unwrap(), 200).await;
    assert_eq!(none, json!([]));

    let problem = expect_problem(search(json!({})).await.unwrap(), 422).await;
    assert_eq!(invalid_fields(&problem), ["body"]);
}

#[tokio::test]
async fn dropdowns_read_pages_of_choices_from_the_platform() {
    let upstream = Receiver::start().await;
    let (app, key) = gateway_before(&upstream).await;
    upstream.answer_with(Answer::body(200, r#"{"data": [{"id": "c1", "name": "Jane"}, {"id": "c2", "phone": "+9199"}, {"name": "no id"}], "nextCursor": "p2"}"#));
    let page = app.get("/api/integrations/lists/contacts?q=ja&limit=2", &key);
    let page = expect_json(page.send().await.unwrap(), 200).await;
    assert_eq!(
        page,
        json!({"items": [{"value": "c1", "label": "Jane"}, {"value": "c2", "label": "+9199"}], "nextCursor": "p2"})
    );
    let call = upstream.wait_for(1, WAIT, |_| true).await.remove(0);
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("GET", "/api/contacts")
    );
    assert_eq!(call.query, "q=ja&limit=2");
    let claims = upstream_claims(&call);
    assert_eq!(
        (claims["org"].as_str(), claims["action"].as_str()),
        (Some("org_a"), Some("list:contacts"))
    );

    // Tags are listed by name; the last page has no cursor.
    upstream.answer_with(Answer::body(
        200,
        r#"[{"name": "vip"}, {"name": "wholesale"}]"#,
    ));
    let tags = app.get("/api/integrations/lists/tags?cursor=p2", &key);
    let tags = expect_json(tags.send().await.unwrap(), 200).await;
    assert_eq!(
        tags,
        json!({"items": [{"value": "vip", "label": "vip"}, {"value": "wholesale", "label": "wholesale"}]})
    );

    let missing = app
        .get("/api/integrations/lists/passwords", &key)
        .send()
        .await
        .unwrap();
    expect_problem(missing, 404).await;
}

#[tokio::test]
async fn the_generic_call_reaches_only_allowed_paths_of_the_platform() {
    let upstream = Receiver::start().await;
    upstream.answer_with(Answer::body(201, r#"{"id": "c1", "name": "Jane"}"#));
    let (app, key) = gateway_before(&upstream).await;
    let call = |body: Value| app.post("/api/integrations/call", &key, &body).send();
    let answer = expect_json(
        call(json!({"method": "post", "path": "/api/contacts", "query": {"notify": true, "tags": ["a", "b"]}, "body": {"name": "Jane"}}))
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        answer,
        json!({"status": 201, "body": {"id": "c1", "name": "Jane"}})
    );
    let sent = upstream.wait_for(1, WAIT, |_| true).await.remove(0);
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/api/contacts")
    );
    assert_eq!(sent.query, "notify=true&tags=a%2Cb");
    assert_eq!(sent.json(), json!({"name": "Jane"}));
    let claims = upstream_claims(&sent);
    assert_eq!(
        (claims["org"].as_str(), claims["action"].as_str()),
        (Some("org_a"), Some("call"))
    );

    // The platform's refusal is an answer like any other, with its status.
    upstream.answer_with(Answer::body(404, "no such contact"));
    let missing = expect_json(
        call(json!({"method": "GET", "path": "/api/contacts/zz"}))
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(missing, json!({"status": 404, "body": "no such contact"}));

    // Nothing outside the allowed prefixes, and nothing that could walk out of them.
    let before = upstream.received().len();
    for path in [
        "/api/admin/users",
        "/api/contacts/../admin",
        "/api/contacts/%2e%2e",
        "//evil.example/api/contacts",
        "http://evil.example/api/contacts",
    ] {
        let problem = expect_problem(
            call(json!({"method": "GET", "path": path})).await.unwrap(),
            422,
        )
        .await;
        assert_eq!(invalid_fields(&problem), ["path"], "{path}");
    }
    let problem = expect_problem(
        call(json!({"method": "TRACE", "path": "/api/contacts"}))
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(invalid_fields(&problem), ["method"]);
    assert_eq!(
        upstream.received().len(),
        before,
        "nothing refused reached the platform"
    );

    // Without a platform API: 503, as for actions.
    let bare = spawn_app().await;
    let bare_key = bare.api_key("org_a", &[]).await;
    let body = json!({"method": "GET", "path": "/api/contacts"});
    let unavailable = bare
        .post("/api/integrations/call", &bare_key, &body)
        .send()
        .await
        .unwrap();
    expect_problem(unavailable, 503).await;
}

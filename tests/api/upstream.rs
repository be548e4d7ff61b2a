//! Actions on their way to the platform's API: no path escapes its template, no answer is held
//! whole past its cap, and the signed token goes nowhere the operator did not name.

use std::process::{Command, Stdio};

use serde_json::json;

use crate::{
    crash::{BIN, free_port, wait_ready},
    database::TestDatabase,
    helpers::{AppOptions, expect_problem, http_client, invalid_fields, spawn_app_with},
    receiver::{Answer, Receiver},
};

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
    assert!(detail.contains("larger than 16384 bytes"), "{detail}");
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

use base64::Engine;
use serde_json::json;

use crate::helpers::{expect_problem, service_token, sign_claims, spawn_app, unix_now};

#[tokio::test]
async fn missing_malformed_expired_and_forged_credentials_get_401_problems() {
    let app = spawn_app().await;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"})),
        b64(json!({"org": "org_a", "scope": "webhooks", "exp": unix_now() + 300}))
    );
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"org": "org_a", "scope": "webhooks", "exp": unix_now() + 300}),
        &jsonwebtoken::EncodingKey::from_secret(b"not-the-gateway-secret"),
    )
    .unwrap();
    let cases = [
        ("no header", None),
        ("not a credential", Some("hello".to_owned())),
        (
            "unknown key",
            Some("kgw_000000000000000000000000000000000000000000000000".to_owned()),
        ),
        (
            "expired",
            Some(sign_claims(
                &json!({"org": "org_a", "scope": "webhooks", "exp": unix_now() - 3600}),
            )),
        ),
        (
            "not yet valid",
            Some(sign_claims(
                &json!({"org": "org_a", "scope": "webhooks", "exp": unix_now() + 7200, "nbf": unix_now() + 3600}),
            )),
        ),
        (
            "no exp",
            Some(sign_claims(&json!({"org": "org_a", "scope": "webhooks"}))),
        ),
        (
            "no org",
            Some(sign_claims(
                &json!({"scope": "webhooks", "exp": unix_now() + 300}),
            )),
        ),
        ("alg none", Some(unsigned)),
        ("wrong key", Some(forged)),
    ];
    for (case, token) in cases {
        let mut request = app.client.get(app.url("/api/webhooks"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap()),
            Some("Bearer"),
            "{case}"
        );
        let problem = expect_problem(response, 401).await;
        assert!(!problem["detail"].as_str().unwrap().is_empty(), "{case}");
    }
}

#[tokio::test]
async fn a_credential_without_the_needed_scope_gets_403() {
    let app = spawn_app().await;
    let publisher = app.api_key("org_a", &["events:publish"]).await;
    let problem = expect_problem(
        app.get("/api/webhooks", &publisher).send().await.unwrap(),
        403,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("webhooks"));
    let jwt = service_token("org_a", "integrations");
    expect_problem(app.get("/api/webhooks", &jwt).send().await.unwrap(), 403).await;
}

#[tokio::test]
async fn an_address_that_keeps_guessing_keys_gets_429_with_retry_after_even_for_a_right_one() {
    let app = crate::helpers::spawn_app_with(crate::helpers::AppOptions {
        tweak: |config| config.auth_failures_per_minute = 5,
        ..crate::helpers::AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks"]).await;
    for guess in 0..5 {
        let wrong = format!("kgw_guess{guess:0>40}");
        expect_problem(app.get("/api/webhooks", &wrong).send().await.unwrap(), 401).await;
    }
    let blocked = app.get("/api/webhooks", &key).send().await.unwrap();
    let retry_after: u64 = blocked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    let problem = expect_problem(blocked, 429).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Too many failed authentications"),
        "{problem}"
    );
}

use std::time::{Duration, Instant};

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
async fn an_address_that_keeps_failing_gets_429_yet_a_valid_key_from_it_still_passes() {
    let app = crate::helpers::spawn_app_with(crate::helpers::AppOptions {
        tweak: |config| {
            config.security.auth_failures_per_minute = 5;
            config.security.auth_failure_delay = Duration::from_millis(150);
        },
        ..crate::helpers::AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks"]).await;
    let started = Instant::now();
    for guess in 0..5 {
        let wrong = format!("kgw_guess{guess:0>40}");
        expect_problem(app.get("/api/webhooks", &wrong).send().await.unwrap(), 401).await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(5 * 150),
        "each failure is answered after the delay"
    );
    // Expired tokens count as failures too, as they did for a whole no-code cloud's address.
    let expired =
        sign_claims(&json!({"org": "org_b", "scope": "webhooks", "exp": unix_now() - 3600}));
    let throttled = app.get("/api/webhooks", &expired).send().await.unwrap();
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    let problem = expect_problem(throttled, 429).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Too many failed authentications"),
        "{problem}"
    );
    // The customers behind the same address are not locked out.
    let valid = app.get("/api/webhooks", &key).send().await.unwrap();
    assert_eq!(
        valid.status(),
        200,
        "a valid key is never refused by the throttle"
    );
    let jwt = service_token("org_c", "webhooks");
    assert_eq!(
        app.get("/api/webhooks", &jwt)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_failures_count_per_forwarded_client() {
    let app = crate::helpers::spawn_app_with(crate::helpers::AppOptions {
        tweak: |config| {
            config.security.auth_failures_per_minute = 3;
            config.security.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        },
        ..crate::helpers::AppOptions::default()
    })
    .await;
    let wrong = "kgw_000000000000000000000000000000000000000000000000";
    let from = |client: &str| {
        app.get("/api/webhooks", wrong)
            .header("x-forwarded-for", format!("1.1.1.1, {client}"))
    };
    for _ in 0..3 {
        expect_problem(from("198.51.100.1").send().await.unwrap(), 401).await;
    }
    expect_problem(from("198.51.100.1").send().await.unwrap(), 429).await;
    // Another client behind the same proxy has its own count.
    expect_problem(from("198.51.100.2").send().await.unwrap(), 401).await;
}

#[tokio::test]
async fn tokens_living_too_long_for_another_issuer_audience_or_for_the_upstream_are_refused() {
    let app = crate::helpers::spawn_app_with(crate::helpers::AppOptions {
        tweak: |config| {
            config.security.jwt_issuer = Some("kaanha-platform".into());
            config.security.jwt_audience = Some("kaanha-gateway".into());
        },
        ..crate::helpers::AppOptions::default()
    })
    .await;
    let good = json!({"org": "org_a", "scope": "webhooks", "iss": "kaanha-platform", "aud": "kaanha-gateway", "exp": unix_now() + 300});
    let with = |change: serde_json::Value| {
        let mut claims = good.clone();
        for (k, v) in change.as_object().unwrap() {
            claims[k] = v.clone();
        }
        sign_claims(&claims)
    };
    assert_eq!(
        app.get("/api/webhooks", &sign_claims(&good))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    for (case, token, says) in [
        (
            "exp of 2^40",
            with(json!({"exp": 1u64 << 40})),
            "longer than",
        ),
        (
            "a week",
            with(json!({"exp": unix_now() + 7 * 86400})),
            "longer than",
        ),
        (
            "another issuer",
            with(json!({"iss": "someone-else"})),
            "`iss`",
        ),
        ("no issuer", with(json!({"iss": null})), "`iss`"),
        ("another audience", with(json!({"aud": "other"})), "`aud`"),
        (
            "the upstream's audience",
            with(json!({"aud": ["kaanha-gateway", "kaanha-platform-api"]})),
            "platform's API",
        ),
    ] {
        let problem =
            expect_problem(app.get("/api/webhooks", &token).send().await.unwrap(), 401).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{case}: {detail}");
    }
    // Without an audience configured, the upstream's is still refused.
    let app = spawn_app().await;
    let upstream_token = sign_claims(
        &json!({"org": "org_a", "scope": "webhooks", "aud": "kaanha-platform-api", "exp": unix_now() + 60}),
    );
    expect_problem(
        app.get("/api/webhooks", &upstream_token)
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
}

#[tokio::test]
async fn a_jwt_secret_shorter_than_32_bytes_stops_the_gateway_with_the_reason() {
    for secret in ["", "x", "0123456789abcdef0123456789abcde"] {
        let mut config = kaanha_gateway::config::Config::for_database("sqlite::memory:");
        config.bind = "127.0.0.1:0".parse().unwrap();
        config.security.jwt_secret = Some(secret.to_owned());
        let refused = kaanha_gateway::startup::Application::build(config).await;
        let why = format!("{:#}", refused.err().expect("refused"));
        assert!(
            why.contains("KAANHA_JWT_SECRET") && why.contains("at least 32"),
            "{why}"
        );
    }
    let mut config = kaanha_gateway::config::Config::for_database("sqlite::memory:");
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.security.jwt_secret = Some("0123456789abcdef0123456789abcdef".to_owned());
    config.security.upstream_jwt_secret = config.security.jwt_secret.clone();
    let refused = kaanha_gateway::startup::Application::build(config).await;
    let why = format!("{:#}", refused.err().expect("refused"));
    assert!(why.contains("KAANHA_UPSTREAM_JWT_SECRET equals"), "{why}");
}

/// A failed credential reached the database before the throttle was asked: an address over its
/// limit could still have every guess looked up. Now its keys are looked up one turn at a time,
/// a tenth of a second apart, while a valid key from it is still accepted. (Its own process: the
/// statement counter is the process's.)
#[tokio::test]
async fn an_address_over_its_failure_limit_has_keys_looked_up_at_a_trickle_but_valid_ones_pass() {
    use std::process::Command;

    use crate::{
        crash::{ApiInstance, BIN},
        database::TestDatabase,
    };

    let database = TestDatabase::new().await;
    let valid = {
        let output = Command::new(BIN)
            .args(["api-key", "create", "--org", "org_a", "--name", "ok"])
            .env("KAANHA_DATABASE_URL", &database.url)
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let limits = [
        ("KAANHA_AUTH_FAILURES_PER_MINUTE", "3"),
        ("KAANHA_AUTH_FAILURE_DELAY", "0s"),
    ];
    let gateway = ApiInstance::start(&database.url, &limits).await;
    let (client, base) = (&gateway.client, &gateway.base);
    let me = format!("{base}/api/integrations/me");
    for n in 0..4 {
        let answer = client
            .get(&me)
            .bearer_auth(format!("kgw_guess{n}"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), if n < 3 { 401 } else { 429 }, "guess {n}");
    }
    let before = gateway.statements(None).await;
    let started = Instant::now();
    let guesses: Vec<_> = (0..20)
        .map(|n| client.get(&me).bearer_auth(format!("kgw_more{n}")).send())
        .collect();
    for answer in futures_util::future::join_all(guesses).await {
        assert_eq!(answer.unwrap().status(), 429);
    }
    let took = started.elapsed();
    let looked_up = gateway.statements(None).await - before;
    assert!(
        took >= Duration::from_millis(1800),
        "20 guesses looked up within {took:?}"
    );
    assert!(looked_up <= 22, "{looked_up} statements for 20 guesses");
    let answer = client.get(&me).bearer_auth(&valid).send().await.unwrap();
    assert_eq!(
        answer.status(),
        200,
        "a valid key from the same address passes"
    );
}

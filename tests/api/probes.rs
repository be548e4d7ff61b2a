use crate::{
    crash::ApiInstance,
    database::TestDatabase,
    helpers::{expect_json, expect_problem, spawn_app},
    receiver::{Answer, Receiver},
};

#[tokio::test]
async fn liveness_and_readiness_answer_ok_without_credentials() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let body = expect_json(app.client.get(app.url(path)).send().await.unwrap(), 200).await;
        assert_eq!(body["status"], "ok", "{path}");
    }
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_with_a_strict_content_security_policy() {
    let app = crate::helpers::spawn_app_with(crate::helpers::AppOptions {
        tweak: |config| {
            config.security.frame_ancestors = "'self' https://app.kaanha.ai".into();
            config.public_url = Some("https://hooks.example.com/".parse().unwrap());
            config.console.zapier_app_url = Some(
                "https://zapier.com/developer/public-invite/1/abc/"
                    .parse()
                    .unwrap(),
            );
        },
        ..Default::default()
    })
    .await;
    // The page, then every module it imports, followed from the entry point: each is served,
    // and each import is one of the console's own files.
    let mut pending = vec![
        ("/console".to_owned(), "text/html"),
        ("/console/console.css".to_owned(), "text/css"),
        ("/console/app.js".to_owned(), "text/javascript"),
    ];
    let mut seen = std::collections::BTreeSet::new();
    while let Some((path, content_type)) = pending.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{path}"
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
            "{csp}"
        );
        assert!(
            csp.ends_with("frame-ancestors 'self' https://app.kaanha.ai"),
            "only the configured origins may frame it: {csp}"
        );
        let body = response.text().await.unwrap();
        for line in body.lines().filter(|l| l.starts_with("import ")) {
            let module = line
                .rsplit_once(" from '")
                .and_then(|(_, m)| m.strip_suffix("';"))
                .unwrap_or_else(|| panic!("{path}: an import of its own files: {line}"));
            let name = module
                .strip_prefix("./")
                .unwrap_or_else(|| panic!("{path} imports {module}, not one of its own files"));
            pending.push((format!("/console/{name}"), "text/javascript"));
        }
        if path == "/console" {
            assert!(
                !body.contains("src=\"http") && !body.contains("href=\"http"),
                "the page loads nothing from elsewhere"
            );
        }
    }
    assert!(seen.len() > 10, "every module: {seen:?}");
    let missing = app
        .client
        .get(app.url("/console/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Its settings: where platforms reach the gateway, and where the apps are.
    let settings = expect_json(
        app.client
            .get(app.url("/console/settings.json"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(settings["publicUrl"], "https://hooks.example.com");
    assert_eq!(
        settings["apps"]["zapier"],
        "https://zapier.com/developer/public-invite/1/abc"
    );
    assert!(settings["apps"]["make"].is_null());
}

#[tokio::test]
async fn scrapes_run_no_statement_and_a_metrics_token_guards_them() {
    let database = TestDatabase::new().await;
    let token = [("KAANHA_METRICS_TOKEN", "scrape-me")];
    let gateway = ApiInstance::start(&database.url, &token).await;
    let url = format!("{}/metrics", gateway.base);
    for wrong in [None, Some("nope")] {
        let mut request = gateway.client.get(&url);
        if let Some(token) = wrong {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        expect_problem(response, 401).await;
    }
    let before = gateway.statements(Some("scrape-me")).await;
    for _ in 0..200 {
        gateway.statements(Some("scrape-me")).await;
    }
    let after = gateway.statements(Some("scrape-me")).await;
    assert!(
        after - before <= 2,
        "202 scrapes ran {} statements",
        after - before
    );
}

/// The value of the first sample of `name` (with its labels) in an exposition.
fn sample(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in\n{metrics}"))
}

#[tokio::test]
async fn attempts_are_counted_by_outcome_with_their_duration_and_the_first_attempts_latency() {
    let app = crate::helpers::spawn_app_with(crate::helpers::AppOptions {
        retry_schedule: "none",
        ..Default::default()
    })
    .await;
    let (ok, down) = (Receiver::start().await, Receiver::start().await);
    down.answer_with(Answer::status(503));
    let key = app.api_key("org_a", &["webhooks"]).await;
    for receiver in [&ok, &down] {
        let webhook = app
            .webhook_to(&key, &receiver.hook("/m"), &["message.received"], None)
            .await;
        let id = webhook["id"].as_str().unwrap();
        app.wait_for_logs(&key, id, "").await;
    }
    let metrics = app.metrics().await;
    assert!(sample(&metrics, "kaanha_attempt_outcomes_total{class=\"2xx\"}") >= 1.0);
    assert!(sample(&metrics, "kaanha_attempt_outcomes_total{class=\"5xx\"}") >= 1.0);
    assert_eq!(
        sample(&metrics, "kaanha_attempt_outcomes_total{class=\"timeout\"}"),
        0.0
    );
    assert!(sample(&metrics, "kaanha_attempt_duration_seconds_count") >= 2.0);
    assert!(sample(&metrics, "kaanha_delivery_latency_seconds_count") >= 2.0);
    assert!(
        sample(
            &metrics,
            "kaanha_delivery_latency_seconds_bucket{le=\"+Inf\"}"
        ) >= 2.0
    );
    // No series per organization or webhook, however many there are.
    assert!(!metrics.contains("org_a") && !metrics.contains("wh_"));
}

#[tokio::test]
async fn the_lag_gauge_says_how_long_the_oldest_due_delivery_has_waited() {
    // An `api` instance never sends: what it accepts waits, and the gauge sees it wait.
    let app = crate::helpers::spawn_app_with(crate::helpers::AppOptions {
        role: kaanha_gateway::config::Role::Api,
        ..Default::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks"]).await;
    app.webhook_to(
        &key,
        "http://127.0.0.1:9/never",
        &["message.received"],
        None,
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let metrics = app.metrics().await;
        let lag = metrics
            .contains("kaanha_oldest_due_delivery_age_seconds")
            .then(|| sample(&metrics, "kaanha_oldest_due_delivery_age_seconds"));
        if lag.is_some_and(|lag| lag >= 1.0) {
            assert!(sample(&metrics, "kaanha_deliveries_pending") >= 1.0);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the lag never showed:\n{metrics}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

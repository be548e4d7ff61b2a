use crate::helpers::{expect_json, spawn_app};

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
        tweak: |config| config.security.frame_ancestors = "'self' https://app.kaanha.ai".into(),
        ..Default::default()
    })
    .await;
    for (path, content_type) in [
        ("/console", "text/html"),
        ("/console/console.js", "text/javascript"),
        ("/console/console.css", "text/css"),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
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
        // The SVG namespace is a name and the URL field's placeholder a hint: neither is
        // fetched. Anything else absolute would be.
        let body = response
            .text()
            .await
            .unwrap()
            .replace("http://www.w3.org/2000/svg", "")
            .replace("placeholder: 'https://'", "");
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path} loads nothing from elsewhere"
        );
    }
}

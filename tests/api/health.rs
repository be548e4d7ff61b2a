use crate::helpers::{expect_json, spawn_app};

#[tokio::test]
async fn liveness_and_readiness_answer_ok_without_credentials() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let body = expect_json(app.client.get(app.url(path)).send().await.unwrap(), 200).await;
        assert_eq!(body["status"], "ok", "{path}");
    }
}

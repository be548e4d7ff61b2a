//! The MCP server's own rules, on the wire: sessions capped per organization and bound to
//! their credential, a revoke felt inside an open session, a service JWT as good as a key, and
//! no `/mcp` on a worker. (Its tools are driven by the official SDK in `integrations/mcp`.)

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, TestApp, expect_json, expect_problem, service_token, spawn_app, spawn_app_with,
};

const PROTOCOL: &str = "2025-11-25";

/// Posts one JSON-RPC message to `/mcp`, in `session` if given.
async fn post(app: &TestApp, token: &str, session: Option<&str>, message: Value) -> Response {
    let mut request = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .json(&message);
    if let Some(session) = session {
        request = request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", PROTOCOL);
    }
    request.send().await.unwrap()
}

/// The JSON-RPC answer inside an event-stream response.
async fn answer(response: Response) -> Value {
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let data = text
        .lines()
        .find_map(|line| line.strip_prefix("data: {"))
        .unwrap_or_else(|| panic!("no message in {text}"));
    serde_json::from_str(&format!("{{{data}")).unwrap()
}

/// Opens a session (initialize, then initialized); its id, or the refusal.
async fn open(app: &TestApp, token: &str) -> Result<String, Response> {
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "suite", "version": "1"}}});
    let response = post(app, token, None, init).await;
    if response.status() != 200 {
        return Err(response);
    }
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    answer(response).await;
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(
        post(app, token, Some(&session), initialized).await.status(),
        202
    );
    Ok(session)
}

async fn tool_names(app: &TestApp, token: &str, session: &str) -> Vec<String> {
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let listed = answer(post(app, token, Some(session), list).await).await;
    listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_organization_holds_at_most_its_share_of_sessions_and_others_are_not_refused() {
    let app = spawn_app_with(AppOptions {
        tweak: |config| config.limits.mcp_sessions_per_org = 2,
        ..AppOptions::default()
    })
    .await;
    let busy = app.api_key("org_busy", &["webhooks"]).await;
    let first = open(&app, &busy).await.unwrap();
    open(&app, &busy).await.unwrap();
    let refused = open(&app, &busy).await.unwrap_err();
    let problem = expect_problem(refused, 429).await;
    assert!(problem["detail"].as_str().unwrap().contains("DELETE /mcp"));

    let quiet = app.api_key("org_quiet", &["webhooks"]).await;
    open(&app, &quiet)
        .await
        .expect("another organization still opens a session");

    let ended = app
        .client
        .delete(app.url("/mcp"))
        .bearer_auth(&busy)
        .header("mcp-session-id", &first)
        .header("mcp-protocol-version", PROTOCOL)
        .send()
        .await
        .unwrap();
    assert!(ended.status().is_success(), "{}", ended.status());
    open(&app, &busy)
        .await
        .expect("an ended session makes room");
}

#[tokio::test]
async fn a_session_is_its_credentials_and_a_revoke_ends_it_at_once() {
    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks"]).await;
    let session = open(&app, &key).await.unwrap();
    assert!(
        tool_names(&app, &key, &session)
            .await
            .contains(&"find_delivery".to_owned())
    );

    // The same organization's other key cannot use it either: a session is one credential's.
    let other = app.api_key("org_a", &["webhooks"]).await;
    let list = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"});
    expect_problem(post(&app, &other, Some(&session), list.clone()).await, 404).await;

    let admin = service_token("org_a", "api-keys");
    let keys = expect_json(app.get("/api/api-keys", &admin).send().await.unwrap(), 200).await;
    let id = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| key.starts_with(k["prefix"].as_str().unwrap()))
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .unwrap();
    assert_eq!(
        app.delete(&format!("/api/api-keys/{id}"), &admin)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let refused = post(&app, &key, Some(&session), list).await;
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn a_service_jwt_opens_a_session_with_the_tools_of_its_scopes() {
    let app = spawn_app().await;
    let jwt = service_token("org_a", "webhooks");
    let session = open(&app, &jwt).await.unwrap();
    let names = tool_names(&app, &jwt, &session).await;
    assert!(names.contains(&"webhook_logs".to_owned()));
    // No platform API is configured here: its tools would only fail, so none is offered.
    assert!(!names.iter().any(|n| n == "find_contact" || n == "api_call"));
}

#[tokio::test]
async fn a_worker_serves_no_mcp() {
    let app = spawn_app_with(AppOptions {
        role: kaanha_gateway::config::Role::Worker,
        ..AppOptions::default()
    })
    .await;
    let jwt = service_token("org_a", "webhooks");
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}});
    assert_eq!(post(&app, &jwt, None, init).await.status(), 404);
}

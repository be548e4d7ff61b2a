//! The document's Express receiver, run as written, accepts our deliveries.

use std::{path::Path, process::Stdio, time::Duration};

use serde_json::json;

use crate::helpers::spawn_app;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/express-receiver");

#[tokio::test]
async fn the_documented_express_receiver_verifies_every_delivery() {
    if !Path::new(EXAMPLE).join("node_modules/express").exists() {
        eprintln!(
            "skipped: run `npm ci --prefix examples/express-receiver` to test the documented Express receiver"
        );
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secret = "express-secret-🙂-ü";
    let mut node = tokio::process::Command::new("node")
        .arg("server.js")
        .current_dir(EXAMPLE)
        .env("PORT", port.to_string())
        .env("WEBHOOK_SECRET", secret)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let url = format!("http://127.0.0.1:{port}/webhook");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let app = spawn_app().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let good = app
        .webhook_to(&key, &url, &["message.received"], Some(secret))
        .await;
    let wrong = app
        .webhook_to(&key, &url, &["message.received"], Some("not-the-secret"))
        .await;
    let data = json!({"text": "नमस्ते 👋 \"quoted\" \u{2028} \\", "tags": ["vip"]});
    app.publish(
        &key,
        &json!({"event": "message.received", "id": "express-1", "data": data}),
    )
    .await;

    let mut codes = (None, None);
    for _ in 0..100 {
        let code =
            |rows: Vec<serde_json::Value>| rows.first().and_then(|r| r["responseCode"].as_i64());
        codes = (
            code(
                app.logs(&key, good["id"].as_str().unwrap(), "event=message.received")
                    .await,
            ),
            code(
                app.logs(
                    &key,
                    wrong["id"].as_str().unwrap(),
                    "event=message.received",
                )
                .await,
            ),
        );
        if codes.0.is_some() && codes.1.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        codes,
        (Some(200), Some(401)),
        "right secret accepted, wrong secret refused"
    );
    let test_event = app
        .wait_for_logs(&key, good["id"].as_str().unwrap(), "event=webhook.test")
        .await;
    assert_eq!(test_event[0]["responseCode"], 200);
    let _ = node.kill().await;
}

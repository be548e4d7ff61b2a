//! What an operator tailing the log sees: one line per failed delivery naming the organization,
//! webhook, delivery and event; one per failed call to the platform's API naming the
//! organization; access lines with the client's address, organization and a request id (also
//! answered as `X-Request-Id`); plain text when the log is not a terminal.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::json;

use crate::{
    crash::{BIN, free_port, wait_ready},
    database::TestDatabase,
    helpers::http_client,
    receiver::{Answer, Receiver},
};

#[tokio::test]
async fn a_failed_delivery_and_every_request_leave_one_plain_line_each() {
    let database = TestDatabase::new().await;
    let key = {
        let created = Command::new(BIN)
            .args(["api-key", "create", "--org", "org_ops", "--name", "ops"])
            .args(["--scopes", "webhooks,events:publish,integrations"])
            .env("KAANHA_DATABASE_URL", &database.url)
            .output()
            .unwrap();
        String::from_utf8(created.stdout).unwrap().trim().to_owned()
    };
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("gateway.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut gateway = Command::new(BIN)
        .arg("serve")
        .env("KAANHA_DATABASE_URL", &database.url)
        .env("KAANHA_BIND", format!("127.0.0.1:{port}"))
        .env("KAANHA_ALLOW_PRIVATE_TARGETS", "true")
        .env("KAANHA_RETRY_SCHEDULE", "none")
        .env("KAANHA_LOG", "info")
        // A platform API that is not there: an action's failure is logged for the operator.
        .env(
            "KAANHA_UPSTREAM_URL",
            format!("http://127.0.0.1:{}", free_port()),
        )
        .env(
            "KAANHA_UPSTREAM_JWT_SECRET",
            "operator-logs-upstream-secret-0123456789",
        )
        .stderr(log_file)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let client = http_client();
    wait_ready(&client, &base).await;
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer::status(500));
    let hook = json!({"name": "ops", "url": receiver.hook("ops"), "events": ["message.received"]});
    let created = client
        .post(format!("{base}/api/webhooks"))
        .bearer_auth(&key)
        .json(&hook)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let request_id = created.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!request_id.is_empty());
    let echoed = client
        .get(format!("{base}/healthz"))
        .header("x-request-id", "from-the-proxy-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "from-the-proxy-42");
    let webhook_id = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = json!({"event": "message.received", "id": "wamid.ops", "data": {}});
    let published = client
        .post(format!("{base}/api/events"))
        .bearer_auth(&key)
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), 202);
    let action = client
        .post(format!("{base}/api/integrations/actions/find_contact"))
        .bearer_auth(&key)
        .json(&json!({"email": "asha@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(action.status(), 502);

    // The event's delivery fails at its only attempt; its line is written as it is recorded.
    let mut log = String::new();
    for _ in 0..200 {
        log = std::fs::read_to_string(&log_path).unwrap();
        if log
            .lines()
            .any(|l| l.contains("delivery failed") && l.contains("wamid.ops"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = gateway.kill();
    let _ = gateway.wait();
    let failed = log
        .lines()
        .find(|l| l.contains("delivery failed") && l.contains("wamid.ops"))
        .unwrap_or_else(|| panic!("no failed-delivery line in {log}"));
    for part in [
        "org=org_ops",
        &format!("webhook={webhook_id}"),
        "delivery=dlv_",
        "event=wamid.ops",
    ] {
        assert!(failed.contains(part), "{part} missing from {failed}");
    }
    let access = log
        .lines()
        .find(|l| l.contains(&format!("request_id={request_id}")))
        .unwrap_or_else(|| panic!("no access line for {request_id} in {log}"));
    assert!(
        access.contains("client=127.0.0.1")
            && access.contains("status=201")
            && access.contains("org=org_ops"),
        "{access}"
    );
    let start = log
        .lines()
        .find(|l| l.contains("starting"))
        .unwrap_or_else(|| panic!("no settings line in {log}"));
    for part in [
        "role=All",
        "bind=127.0.0.1:",
        "retry_schedule=none",
        "upstream=",
    ] {
        assert!(start.contains(part), "{part} missing from {start}");
    }
    assert!(
        !start.contains("operator-logs-upstream-secret"),
        "a secret in {start}"
    );
    let upstream = log
        .lines()
        .find(|l| l.contains("platform API call failed"))
        .unwrap_or_else(|| panic!("no line for the failed platform call in {log}"));
    assert!(
        upstream.contains("org=org_ops") && upstream.contains("find_contact"),
        "{upstream}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log that is not a terminal"
    );
}

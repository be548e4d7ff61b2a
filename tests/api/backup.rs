//! `kaanha-gateway backup`: a consistent copy of the SQLite file taken while the gateway runs,
//! which a gateway then starts on with every webhook, key and log in it (the restore procedure
//! in docs/operations.md).

use std::process::Command;

use serde_json::json;

use crate::{
    crash::BIN,
    helpers::{AppOptions, expect_json, spawn_app, spawn_app_on},
    receiver::Receiver,
};

#[tokio::test]
async fn a_backup_taken_while_serving_restores_webhooks_keys_and_logs() {
    let app = spawn_app().await;
    if !app.database_url.starts_with("sqlite:") {
        eprintln!("skipped: backup copies SQLite files; PostgreSQL is backed up with pg_dump");
        return;
    }
    let receiver = Receiver::start().await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let webhook = app
        .webhook_to(&key, &receiver.hook("/backup"), &["message.received"], None)
        .await;
    let id = webhook["id"].as_str().unwrap();
    app.publish(
        &key,
        &json!({"event": "message.received", "id": "wamid.backup", "data": {}}),
    )
    .await;
    app.wait_for_logs(&key, id, "search=wamid.backup&status=delivered")
        .await;

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.db");
    let backup = Command::new(BIN)
        .args(["backup", "--to", copy.to_str().unwrap()])
        .env("KAANHA_DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(String::from_utf8_lossy(&backup.stdout).contains("backed up"));
    // Into an existing file, never: a backup does not overwrite.
    let again = Command::new(BIN)
        .args(["backup", "--to", copy.to_str().unwrap()])
        .env("KAANHA_DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    let restored = spawn_app_on(
        format!("sqlite://{}?mode=rw", copy.display()),
        AppOptions::default(),
    )
    .await;
    let found = expect_json(
        restored
            .get(&format!("/api/webhooks/{id}"), &key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(found["url"], webhook["url"]);
    let logs = restored.logs(&key, id, "search=wamid.backup").await;
    assert_eq!(logs[0]["status"], "delivered");
}

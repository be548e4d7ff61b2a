//! Webhook secrets at rest: sealed under `KAANHA_ENCRYPTION_KEY`, plain rows sealed at start,
//! a rotation's previous key read and replaced, and deliveries signed exactly as before.

use std::time::Duration;

use entity::webhook;
use kaanha_gateway::{config::Config, delivery::sign::kaanha_signature, startup::Application};
use sea_orm::EntityTrait;
use serde_json::json;

use crate::{
    helpers::{AppOptions, TestApp, spawn_app_with},
    receiver::Receiver,
};

const KEY_1: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const KEY_2: &str = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
const SECRET: &str = "at-rest-secret-7c1d9e";
const ROTATED: &str = "at-rest-rotated-4b2a8f";

fn with_key_1(config: &mut Config) {
    config.security.encryption_key = Some(KEY_1.into());
}

fn rotated_to_key_2(config: &mut Config) {
    config.security.encryption_key = Some(KEY_2.into());
    config.security.encryption_key_previous = Some(KEY_1.into());
}

/// Every byte the SQLite database keeps on disk (the file and its write-ahead log); `None` on
/// PostgreSQL, whose files are not the test's to read.
fn database_bytes(app: &TestApp) -> Option<Vec<u8>> {
    let path = app
        .database_url
        .strip_prefix("sqlite://")?
        .split('?')
        .next()?;
    let mut bytes = std::fs::read(path).unwrap();
    bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
    Some(bytes)
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

/// Publishes one event and checks the receiver got it signed with `secret`.
async fn delivered_signed_with(app: &TestApp, receiver: &Receiver, key: &str, secret: &str) {
    let event = "contact.created";
    let before = receiver
        .received()
        .iter()
        .filter(|r| r.event() == event)
        .count();
    app.publish(
        key,
        &json!({"event": event, "data": {"contact": {"id": "c1"}}}),
    )
    .await;
    let got = receiver
        .wait_for_event(event, before + 1, Duration::from_secs(10))
        .await
        .pop()
        .unwrap();
    assert_eq!(
        got.header("x-kaanha-signature"),
        kaanha_signature(secret, &got.body)
    );
}

async fn stored_secrets(app: &TestApp) -> Vec<String> {
    webhook::Entity::find()
        .all(&app.db().await)
        .await
        .unwrap()
        .into_iter()
        .flat_map(|w| [w.secret, w.previous_secret])
        .flatten()
        .collect()
}

#[tokio::test]
async fn with_a_key_secrets_are_sealed_on_disk_and_deliveries_still_verify() {
    let app = spawn_app_with(AppOptions {
        tweak: with_key_1,
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    let hook = app
        .webhook_to(
            &key,
            &receiver.hook("a"),
            &["contact.created"],
            Some(SECRET),
        )
        .await;
    delivered_signed_with(&app, &receiver, &key, SECRET).await;
    // Rotated: both the new and the previous secret are sealed.
    let id = hook["id"].as_str().unwrap();
    app.update_webhook(&key, id, &json!({"secret": ROTATED}))
        .await;
    delivered_signed_with(&app, &receiver, &key, ROTATED).await;
    let stored = stored_secrets(&app).await;
    assert_eq!(stored.len(), 2);
    assert!(
        stored.iter().all(|s| s.starts_with("enc:v2:")),
        "{stored:?}"
    );
    if let Some(bytes) = database_bytes(&app) {
        assert!(
            !holds(&bytes, SECRET) && !holds(&bytes, ROTATED),
            "a secret is on disk in plain text"
        );
    }
}

#[tokio::test]
async fn plain_rows_are_sealed_at_start_and_a_rotated_key_is_replaced() {
    let app = spawn_app_with(AppOptions::default()).await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    app.webhook_to(
        &key,
        &receiver.hook("a"),
        &["contact.created"],
        Some(SECRET),
    )
    .await;
    assert_eq!(
        stored_secrets(&app).await,
        [SECRET],
        "no key: stored as it is"
    );

    let app = app
        .restart(AppOptions {
            tweak: with_key_1,
            ..AppOptions::default()
        })
        .await;
    let sealed_1 = stored_secrets(&app).await;
    assert!(sealed_1[0].starts_with("enc:v2:"), "{sealed_1:?}");
    delivered_signed_with(&app, &receiver, &key, SECRET).await;
    if let Some(bytes) = database_bytes(&app) {
        assert!(!holds(&bytes, SECRET), "the plain secret is still on disk");
    }

    let app = app
        .restart(AppOptions {
            tweak: rotated_to_key_2,
            ..AppOptions::default()
        })
        .await;
    let sealed_2 = stored_secrets(&app).await;
    let key_id = |stored: &str| stored.split(':').nth(2).unwrap().to_owned();
    assert_ne!(
        key_id(&sealed_2[0]),
        key_id(&sealed_1[0]),
        "sealed again under the new key"
    );
    delivered_signed_with(&app, &receiver, &key, SECRET).await;
}

#[tokio::test]
async fn secrets_under_a_key_the_gateway_lacks_stop_it_with_the_reason() {
    let app = spawn_app_with(AppOptions {
        tweak: with_key_1,
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks"]).await;
    app.webhook_to(
        &key,
        "http://127.0.0.1:9/a",
        &["contact.created"],
        Some(SECRET),
    )
    .await;
    let mut config = Config::for_database(&app.database_url);
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.security.encryption_key = Some(KEY_2.into());
    let refused = Application::build(config).await;
    let why = format!("{:#}", refused.err().expect("refused"));
    assert!(why.contains("KAANHA_ENCRYPTION_KEY_PREVIOUS"), "{why}");
    let mut config = Config::for_database(&app.database_url);
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.security.encryption_key = Some("c2hvcnQ=".into());
    let refused = Application::build(config).await;
    let why = format!("{:#}", refused.err().expect("refused"));
    assert!(why.contains("exactly 32"), "{why}");
}

/// A rotation slip (only the previous key set) used to start, open every secret with that key
/// and write them all back in plain text, logging that they were sealed.
#[tokio::test]
async fn a_previous_key_without_a_current_one_refuses_to_start_and_leaves_rows_sealed() {
    let app = spawn_app_with(AppOptions {
        tweak: with_key_1,
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks"]).await;
    app.webhook_to(
        &key,
        "http://127.0.0.1:9/a",
        &["contact.created"],
        Some(SECRET),
    )
    .await;
    let mut config = Config::for_database(&app.database_url);
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.security.encryption_key_previous = Some(KEY_1.into());
    let refused = Application::build(config).await;
    let why = format!("{:#}", refused.err().expect("refused"));
    assert!(
        why.contains("KAANHA_ENCRYPTION_KEY_PREVIOUS is set but KAANHA_ENCRYPTION_KEY is not"),
        "{why}"
    );
    let stored = stored_secrets(&app).await;
    assert!(stored[0].starts_with("enc:v2:"), "{stored:?}");
}

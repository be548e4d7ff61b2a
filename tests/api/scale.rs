//! Several gateway instances on one PostgreSQL database: every delivery once, through a SIGKILL
//! and through dropped database connections.

use std::{
    collections::{HashMap, HashSet},
    process::Command,
    time::Duration,
};

use entity::{delivery, delivery_attempt};
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{
    crash::{BIN, free_port, start_gateway, wait_ready},
    database::{TestDatabase, announce},
    helpers::{AppOptions, http_client, spawn_app_with},
    receiver::{Answer, Receiver},
};

/// Each receiver's count of deliveries per event id.
fn counts(receiver: &Receiver) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in receiver
        .received()
        .iter()
        .filter(|r| r.event() == "message.received")
    {
        *counts
            .entry(r.json()["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn three_instances_on_one_postgres_deliver_everything_once_through_a_sigkill() {
    let database = TestDatabase::new().await;
    if !database.is_postgres() {
        announce(
            "skipped three_instances_on_one_postgres...: it needs KAANHA_TEST_DATABASE_URL (PostgreSQL)",
        );
        return;
    }
    let created = Command::new(BIN)
        .args([
            "api-key",
            "create",
            "--org",
            "org_scale",
            "--name",
            "scale",
            "--scopes",
            "webhooks,events:publish",
        ])
        .env("KAANHA_DATABASE_URL", &database.url)
        .output()
        .unwrap();
    let key = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let client = http_client();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let bases: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let mut gateways = Vec::new();
    for port in &ports {
        gateways.push(start_gateway(&database.url, *port));
    }
    for base in &bases {
        wait_ready(&client, base).await;
    }
    let receivers = [
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    ];
    for receiver in &receivers {
        receiver.answer_with(Answer {
            delay: Duration::from_millis(2),
            ..Answer::status(200)
        });
        let hook =
            json!({"name": "scale", "url": receiver.hook("scale"), "events": ["message.received"]});
        let answer = client
            .post(format!("{}/api/webhooks", bases[0]))
            .bearer_auth(&key)
            .json(&hook)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
    }

    let batches = 30;
    let mut acknowledged = HashSet::new();
    for batch in 0..batches {
        if batch == batches / 2 {
            receivers[0]
                .wait_for_event("message.received", 200, Duration::from_secs(30))
                .await;
            gateways[2].kill().unwrap();
            gateways[2].wait().unwrap();
        }
        // Round-robin over the instances still alive, as a load balancer would.
        let alive = if batch >= batches / 2 { 2 } else { 3 };
        let base = &bases[batch % alive];
        let events: Vec<Value> = (0..100)
            .map(|i| json!({"event": "message.received", "id": format!("s{batch}-{i}"), "data": {"i": i}}))
            .collect();
        let answer = client
            .post(format!("{base}/api/events/batch"))
            .bearer_auth(&key)
            .json(&json!({"events": events}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 202);
        let body: Value = answer.json().await.unwrap();
        for result in body["data"].as_array().unwrap() {
            acknowledged.insert(result["id"].as_str().unwrap().to_owned());
        }
    }

    let mut duplicates = 0;
    let mut received_total = 0;
    for receiver in &receivers {
        let mut seen = counts(receiver);
        for _ in 0..600 {
            if acknowledged.iter().all(|id| seen.contains_key(id)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            seen = counts(receiver);
        }
        let missing = acknowledged
            .iter()
            .filter(|id| !seen.contains_key(*id))
            .count();
        assert_eq!(
            missing, 0,
            "{missing} acknowledged events never reached a receiver"
        );
        duplicates += seen.values().map(|n| n - 1).sum::<usize>();
        received_total += seen.values().sum::<usize>() as u64;
    }
    announce(&format!(
        "3 instances, {} events × 3 receivers, instance 3 SIGKILLed mid-run: {duplicates} duplicates",
        acknowledged.len()
    ));
    assert!(
        duplicates <= 48,
        "{duplicates} duplicates: more than the requests in flight at the kill"
    );

    // The log agrees with the receivers: every delivery delivered, a delivered log row for
    // every request a receiver answered, except those the killed instance sent but never
    // got to record.
    let db = Database::connect(&database.url).await.unwrap();
    let events = acknowledged.len() as u64 * 3;
    for _ in 0..100 {
        let pending = delivery::Entity::find()
            .filter(delivery::Column::Status.ne("delivered"))
            .count(&db)
            .await
            .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered = delivery::Entity::find()
        .filter(delivery::Column::Status.eq("delivered"))
        .filter(delivery::Column::EventType.eq("message.received"))
        .count(&db)
        .await
        .unwrap();
    let logged = delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::Status.eq("delivered"))
        .filter(delivery_attempt::Column::EventType.eq("message.received"))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(delivered, events);
    assert!(
        logged >= events && logged <= received_total,
        "{logged} delivered rows, {received_total} requests received"
    );
    assert!(
        received_total - logged <= 48,
        "{} requests were never logged",
        received_total - logged
    );
    let _ = db.close().await;
    for gateway in gateways.iter_mut().take(2) {
        gateway.kill().unwrap();
        gateway.wait().unwrap();
    }
}

#[tokio::test]
async fn dropped_database_connections_cost_no_accepted_event() {
    let probe = TestDatabase::new().await;
    if !probe.is_postgres() {
        announce(
            "skipped dropped_database_connections...: it needs KAANHA_TEST_DATABASE_URL (PostgreSQL)",
        );
        return;
    }
    drop(probe);
    let app = spawn_app_with(AppOptions::default()).await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let receiver = Receiver::start().await;
    app.webhook_to(&key, &receiver.hook("steady"), &["message.received"], None)
        .await;
    let database_name = app.database_url.rsplit('/').next().unwrap().to_owned();
    let server = std::env::var("KAANHA_TEST_DATABASE_URL").unwrap();
    let admin = Database::connect(&server).await.unwrap();

    let mut acknowledged = HashSet::new();
    for batch in 0..20 {
        if batch % 5 == 2 {
            // Every connection the gateway holds, pooled, listening or mid-query, is cut.
            admin
                .execute_unprepared(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database_name}'"
                ))
                .await
                .unwrap();
        }
        let events: Vec<Value> = (0..50)
            .map(
                |i| json!({"event": "message.received", "id": format!("t{batch}-{i}"), "data": {}}),
            )
            .collect();
        // A producer retries until acknowledged; ids make the retries safe.
        for _ in 0..20 {
            let answer = app
                .post("/api/events/batch", &key, &json!({"events": events}))
                .send()
                .await;
            if let Ok(answer) = answer
                && answer.status() == 202
            {
                let body: Value = answer.json().await.unwrap();
                for r in body["data"].as_array().unwrap() {
                    acknowledged.insert(r["id"].as_str().unwrap().to_owned());
                }
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert_eq!(
        acknowledged.len(),
        1000,
        "the producer's retries got every batch in"
    );
    let mut seen = counts(&receiver);
    for _ in 0..300 {
        if acknowledged.iter().all(|id| seen.contains_key(id)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = counts(&receiver);
    }
    let missing = acknowledged
        .iter()
        .filter(|id| !seen.contains_key(*id))
        .count();
    assert_eq!(missing, 0, "{missing} acknowledged events were lost");
    let _ = admin.close().await;
}

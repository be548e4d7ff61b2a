//! One organization's publishes, held up in the database, never hold up another's. A publish's
//! transaction locks its organization's turn row until its commit is flushed; here another
//! connection holds that row, standing in for a commit whose flush never ends.

use std::time::{Duration, Instant};

use kaanha_gateway::domain::{
    group_commit::{writer_of, writers},
    org::OrgId,
};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;

use crate::{
    database::{announce, lock_waits},
    helpers::{AppOptions, spawn_app_with},
    receiver::Receiver,
};

/// A pool with several publish writers on PostgreSQL.
const POOL: u32 = 16;

#[tokio::test]
async fn publishes_held_at_one_organizations_turn_row_never_hold_back_another_organization() {
    let app = spawn_app_with(AppOptions {
        tweak: |config| config.db_max_connections = POOL,
        ..AppOptions::default()
    })
    .await;
    let db = app.db().await;
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        announce(
            "skipped publishes_held_at_one_organizations_turn_row...: SQLite writes one transaction at a time by design",
        );
        return;
    }
    let writers = writers(sea_orm::DbBackend::Postgres, POOL);
    assert!(writers > 1, "the test needs several writers");
    let held_org = OrgId::parse("org_held").unwrap();
    let other_org = (0..)
        .map(|n| OrgId::parse(&format!("org_other_{n}")).unwrap())
        .find(|org| writer_of(org, writers) != writer_of(&held_org, writers))
        .unwrap();
    let keys = ["webhooks", "events:publish"];
    let held = app.api_key(held_org.as_str(), &keys).await;
    let other = app.api_key(other_org.as_str(), &keys).await;
    let receiver = Receiver::start().await;
    app.webhook_to(&held, &receiver.hook("held"), &["message.received"], None)
        .await;
    app.webhook_to(&other, &receiver.hook("other"), &["contact.created"], None)
        .await;

    // The held organization's turn row, locked by a transaction that does not end.
    db.execute_unprepared(
        "INSERT INTO org_queues (org_id, ready_at) VALUES ('org_held', 0) ON CONFLICT DO NOTHING",
    )
    .await
    .unwrap();
    let holder = db.begin().await.unwrap();
    holder
        .execute_unprepared("SELECT * FROM org_queues WHERE org_id = 'org_held' FOR UPDATE")
        .await
        .unwrap();

    // One publish per writer, each sent once the one before is waiting for the row, or after
    // a short pause when it is not (it waits in a queue instead, and that is the point).
    let mut waiting = Vec::new();
    for n in 0..writers {
        let (app_url, client, key) = (app.url("/api/events"), app.client.clone(), held.clone());
        waiting.push(tokio::spawn(async move {
            let body = json!({"event": "message.received", "data": {"n": n}});
            client
                .post(app_url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
        }));
        let sent = Instant::now();
        while lock_waits(&db, "%").await <= n as i64 && sent.elapsed() < Duration::from_millis(500)
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    assert!(
        lock_waits(&db, "%").await >= 1,
        "a held publish waits for the row"
    );

    let answered = tokio::time::timeout(
        Duration::from_secs(10),
        app.post(
            "/api/events",
            &other,
            &json!({"event": "contact.created", "data": {}}),
        )
        .send(),
    )
    .await
    .expect("another organization's publish answers while the first one's turn row is held")
    .unwrap();
    assert_eq!(answered.status(), 202);
    receiver
        .wait_for_event("contact.created", 1, Duration::from_secs(30))
        .await;
    assert!(
        waiting.iter().all(|publish| !publish.is_finished()),
        "the held publishes are still waiting"
    );

    holder.rollback().await.unwrap();
    for publish in waiting {
        assert_eq!(publish.await.unwrap().unwrap().status(), 202);
    }
    receiver
        .wait_for_event("message.received", writers, Duration::from_secs(30))
        .await;
}

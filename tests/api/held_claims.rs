//! A claim held up in the database never holds up the deliveries the publisher hands over.
//! The engine's loop claims, and it also sends what publishes hand it; it used to do only one
//! at a time, so every claim's round trips (for a backlog of rate-limited webhooks, several a
//! second) delayed another organization's live deliveries by as long. Here another connection
//! holds a paced webhook's turn row, standing in for a claim that takes long.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use serde_json::json;

use crate::{
    database::{announce, lock_waits},
    helpers::spawn_app,
    receiver::Receiver,
};

/// The claim's update of webhooks' turns, as `pg_stat_activity` shows its text.
const CLAIM_TURNS: &str = "UPDATE webhook_queues AS q%";

#[tokio::test]
async fn a_claim_held_up_never_holds_up_deliveries_handed_over() {
    let app = spawn_app().await;
    let db = app.db().await;
    if db.get_database_backend() != DbBackend::Postgres {
        announce(
            "skipped a_claim_held_up_never_holds_up_deliveries_handed_over: SQLite runs every statement on one connection, so nothing holds one claim up alone",
        );
        return;
    }
    let keys = ["webhooks", "events:publish"];
    let paced = app.api_key("org_paced", &keys).await;
    let live = app.api_key("org_live", &keys).await;
    let receiver = Receiver::start().await;
    // Rate-limited: every one of its deliveries goes through a claim.
    let hook = app
        .create_webhook(
            &paced,
            &json!({"name": "paced", "url": receiver.hook("paced"),
                    "events": ["message.received"], "rateLimit": 1}),
        )
        .await;
    app.webhook_to(&live, &receiver.hook("live"), &["contact.created"], None)
        .await;
    // Both test events sent: the live webhook's went through a claim too.
    receiver
        .wait_for_event("webhook.test", 2, Duration::from_secs(30))
        .await;
    for n in 0..2 {
        app.publish(
            &paced,
            &json!({"event": "message.received", "data": {"n": n}}),
        )
        .await;
    }

    // The paced webhook's turn row, locked by a transaction that does not end: the next claim
    // that serves it waits for the row.
    let holder = db.begin().await.unwrap();
    let locked = holder
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT webhook_id FROM webhook_queues WHERE webhook_id = $1 FOR UPDATE",
            [kaanha_gateway::infra::ids::parse(
                kaanha_gateway::infra::ids::WEBHOOK,
                hook["id"].as_str().unwrap(),
            )
            .unwrap()
            .into()],
        ))
        .await
        .unwrap();
    assert_eq!(locked.len(), 1, "the paced webhook has a turn row");
    let started = Instant::now();
    while lock_waits(&db, CLAIM_TURNS).await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no claim came to wait for the held row"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    app.publish(&live, &json!({"event": "contact.created", "data": {}}))
        .await;
    receiver
        .wait_for_event("contact.created", 1, Duration::from_secs(10))
        .await;
    assert!(
        lock_waits(&db, CLAIM_TURNS).await >= 1,
        "the live delivery went out while the claim was still held"
    );

    holder.rollback().await.unwrap();
    receiver
        .wait_for_event("message.received", 2, Duration::from_secs(30))
        .await;
}

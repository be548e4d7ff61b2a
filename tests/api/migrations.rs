//! Upgrading a database that already holds data: event ids become unique per organization on
//! SQLite (tables rebuilt) and PostgreSQL (keys changed in place), deliveries' ids and times
//! shrink to 16 bytes and integers, and nothing is lost.

use entity::{delivery, event};
use kaanha_gateway::{
    config::Config,
    domain::{
        org::OrgId,
        publish::{self, EventRequest, NewEvent, Published},
        store::Store,
    },
    infra::ids,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ModelTrait, PaginatorTrait,
    QueryFilter, QuerySelect, Value,
    prelude::Uuid,
    sea_query::{Alias, Query},
};
use serde_json::json;

use crate::database::TestDatabase;

fn event_with_id(org: &OrgId, id: &str) -> NewEvent {
    let request = EventRequest {
        event: "message.received".into(),
        data: json!({"messageId": id}),
        id: Some(id.to_owned()),
        timestamp: None,
        organization_id: None,
    };
    NewEvent::parse(request, org, 1 << 20, "").unwrap()
}

async fn publish_one(store: &Store, org: &OrgId, id: &str) -> Vec<Published> {
    let events = vec![event_with_id(org, id)];
    publish::publish(&store.db, &store.wake, None, org, events)
        .await
        .unwrap()
}

/// Inserts one row into `table` (by column name), whatever the database.
async fn insert(db: &DatabaseConnection, table: &str, row: Vec<(&str, Value)>) {
    let (columns, values): (Vec<_>, Vec<_>) = row.into_iter().unzip();
    let statement = Query::insert()
        .into_table(Alias::new(table))
        .columns(columns.into_iter().map(Alias::new))
        .values_panic(values.into_iter().map(Into::into))
        .to_owned();
    db.execute(&statement).await.unwrap();
}

/// A delivery's id as gateways before migration 17 stored it: text, `dlv_` and 32 hex digits.
fn old_delivery_id(org: &str, event_id: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (org, event_id).hash(&mut hasher);
    format!("dlv_{:032x}", hasher.finish())
}

/// A webhook's id as gateways before migration 19 stored it: text, `wh_` and 32 hex digits
/// (`org_a`'s webhook ends in `a`, `org_b`'s in `b`).
fn old_webhook_id(org: &str) -> String {
    format!("wh_{:0>32}", &org[4..])
}

/// What a gateway at migration 3 held: in each of two organizations a webhook on
/// `message.received` with its test event, and fifty events of `org_a` (ids `wamid.0`…) with a
/// delivery each.
async fn old_rows(db: &DatabaseConnection) {
    let now = kaanha_gateway::infra::time::now();
    for org in ["org_a", "org_b"] {
        let webhook = old_webhook_id(org);
        let text = |v: &str| Value::from(v.to_owned());
        insert(
            db,
            "webhooks",
            vec![
                ("id", text(&webhook)),
                ("org_id", text(org)),
                ("name", text(org)),
                ("url", text("https://example.com/hook")),
                ("status", text("active")),
                ("source", text("api")),
                ("created_at", now.into()),
                ("updated_at", now.into()),
            ],
        )
        .await;
        insert(
            db,
            "webhook_events",
            vec![
                ("webhook_id", text(&webhook)),
                ("event_type", text("message.received")),
                ("org_id", text(org)),
            ],
        )
        .await;
        let mut events = vec![(format!("evt_test_{org}"), "webhook.test")];
        if org == "org_a" {
            events.extend((0..50).map(|n| (format!("wamid.{n}"), "message.received")));
        }
        for (id, event_type) in events {
            let payload = json!({"id": id, "event": event_type, "data": {"messageId": id}});
            insert(
                db,
                "events",
                vec![
                    ("id", text(&id)),
                    ("org_id", text(org)),
                    ("event_type", text(event_type)),
                    ("payload", Value::from(payload.to_string())),
                    ("created_at", now.into()),
                ],
            )
            .await;
            insert(
                db,
                "deliveries",
                vec![
                    ("id", Value::from(old_delivery_id(org, &id))),
                    ("org_id", text(org)),
                    ("event_id", text(&id)),
                    ("webhook_id", text(&webhook)),
                    ("event_type", text(event_type)),
                    ("status", text("delivered")),
                    ("attempts", 1.into()),
                    ("due_at", now.timestamp_millis().into()),
                    ("created_at", now.into()),
                    ("updated_at", now.into()),
                ],
            )
            .await;
        }
    }
}

#[tokio::test]
async fn a_database_from_before_keeps_its_data_and_takes_the_same_id_in_two_organizations() {
    let database = TestDatabase::new().await;
    let db = kaanha_gateway::infra::db::connect(&Config::for_database(&database.url))
        .await
        .unwrap();
    // The schema as it was before event ids were per organization, with data in it.
    Migrator::up(&db, Some(3)).await.unwrap();
    let (org_a, org_b) = (
        OrgId::parse("org_a").unwrap(),
        OrgId::parse("org_b").unwrap(),
    );
    // Rows as that schema holds them, written in its own columns: today's entities have
    // columns it does not have yet.
    old_rows(&db).await;
    let store = crate::helpers::store_over(db.clone());
    // Counted by id alone: the old schema lacks columns today's entities select.
    let (events_before, deliveries_before) = (
        event::Entity::find()
            .select_only()
            .column(event::Column::Id)
            .count(&db)
            .await
            .unwrap(),
        delivery::Entity::find()
            .select_only()
            .column(delivery::Column::Id)
            .count(&db)
            .await
            .unwrap(),
    );
    assert_eq!(
        (events_before, deliveries_before),
        (52, 52),
        "two test events, fifty published"
    );

    Migrator::up(&db, None).await.unwrap();
    assert_eq!(
        event::Entity::find().count(&db).await.unwrap(),
        events_before
    );
    assert_eq!(
        delivery::Entity::find().count(&db).await.unwrap(),
        deliveries_before
    );
    let replays = delivery::Entity::find()
        .filter(delivery::Column::Replay.eq(true))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(
        replays, 0,
        "deliveries from before were published, not replayed"
    );
    let stored = event::Entity::find_by_id(("wamid.7".to_owned(), "org_a".to_owned()))
        .one(&db)
        .await
        .unwrap()
        .expect("kept");
    assert!(stored.payload.contains(r#""messageId":"wamid.7""#));

    // The same id in another organization is a new event; in the same one, a duplicate.
    let theirs = publish_one(&store, &org_b, "wamid.7").await;
    assert!(!theirs[0].duplicate && theirs[0].deliveries == 1);
    let again = publish_one(&store, &org_a, "wamid.7").await;
    assert!(again[0].duplicate);

    // Deleting an event still takes its deliveries with it, and only its own organization's.
    stored.delete(&db).await.unwrap();
    let left = |org: &'static str| {
        delivery::Entity::find()
            .filter(delivery::Column::OrgId.eq(org))
            .filter(delivery::Column::EventId.eq("wamid.7"))
            .count(&db)
    };
    assert_eq!(left("org_a").await.unwrap(), 0);
    assert_eq!(left("org_b").await.unwrap(), 1);
    // And removing a webhook's row, its deliveries (the keys survived the rebuild; the API's
    // delete purges them first, in batches).
    let webhook_a = ids::parse(ids::WEBHOOK, &old_webhook_id("org_a")).expect("the same id");
    entity::webhook::Entity::delete_by_id(webhook_a)
        .exec(&db)
        .await
        .unwrap();
    assert_eq!(
        delivery::Entity::find()
            .filter(delivery::Column::OrgId.eq("org_a"))
            .count(&db)
            .await
            .unwrap(),
        0
    );
}

/// An upgrade takes over what was under way: pending deliveries get their turns (else no claim
/// would ever find them), and the last day's attempts are counted into the chart's hours.
#[tokio::test]
async fn pending_deliveries_and_the_last_days_attempts_from_before_are_taken_over() {
    let database = TestDatabase::new().await;
    let db = kaanha_gateway::infra::db::connect(&Config::for_database(&database.url))
        .await
        .unwrap();
    // The schema before claims took turns.
    Migrator::up(&db, Some(8)).await.unwrap();
    old_rows(&db).await;
    db.execute_unprepared(
        "UPDATE deliveries SET status = 'pending' WHERE org_id = 'org_a' AND event_id = 'wamid.3'",
    )
    .await
    .unwrap();
    let text = |v: &str| Value::from(v.to_owned());
    let (attempt_id, delivery_id) = (
        "att_0190f5a2c3b47d8e9f0a1b2c3d4e5f60",
        old_delivery_id("org_a", "wamid.3"),
    );
    let attempted_at = kaanha_gateway::infra::time::now();
    insert(
        &db,
        "delivery_attempts",
        vec![
            ("id", text(attempt_id)),
            ("org_id", text("org_a")),
            ("delivery_id", text(&delivery_id)),
            ("webhook_id", text(&old_webhook_id("org_a"))),
            ("event_id", text("wamid.3")),
            ("event_type", text("message.received")),
            ("attempt", 1.into()),
            ("status", text("pending")),
            ("response_code", 503.into()),
            ("duration_ms", 42i64.into()),
            ("created_at", attempted_at.into()),
        ],
    )
    .await;

    Migrator::up(&db, None).await.unwrap();
    // The ids and times read back as they were written, as 16 bytes and milliseconds.
    let attempt = entity::delivery_attempt::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let (id, delivery) = (
        ids::show(ids::ATTEMPT, &attempt.id),
        ids::show(ids::DELIVERY, &attempt.delivery_id),
    );
    assert_eq!((id.as_str(), delivery), (attempt_id, delivery_id.clone()));
    assert_eq!(attempt.created_at, attempted_at.timestamp_millis());
    let pending = delivery::Entity::find_by_id(ids::parse(ids::DELIVERY, &delivery_id).unwrap())
        .one(&db)
        .await
        .unwrap()
        .expect("its delivery, by the same id");
    assert_eq!(
        (pending.event_id.as_str(), pending.status.as_str()),
        ("wamid.3", "pending")
    );
    assert!(pending.created_at <= attempted_at.timestamp_millis() && pending.created_at > 0);
    let turns: Vec<(Uuid, String)> = entity::webhook_queue::Entity::find()
        .select_only()
        .columns([
            entity::webhook_queue::Column::WebhookId,
            entity::webhook_queue::Column::OrgId,
        ])
        .into_tuple()
        .all(&db)
        .await
        .unwrap();
    // The webhook's id reads back as it was written, as 16 bytes.
    let webhook_a = ids::show(ids::WEBHOOK, &turns[0].0);
    assert_eq!(
        (webhook_a.as_str(), turns[0].1.as_str(), turns.len()),
        (old_webhook_id("org_a").as_str(), "org_a", 1)
    );
    let orgs = entity::org_queue::Entity::find().all(&db).await.unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].org_id, "org_a");
    let day = kaanha_gateway::domain::stats::last_day(
        &db,
        &OrgId::parse("org_a").unwrap(),
        turns[0].0,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(day.hours[23].pending, 1, "{day:?}");
    assert_eq!((day.attempts, day.duration_p50_ms), (1, Some(42)));
}

//! Upgrading a database that already holds data: event ids become unique per organization on
//! SQLite (tables rebuilt) and PostgreSQL (keys changed in place), and nothing is lost.

use entity::{delivery, event};
use kaanha_gateway::{
    config::Config,
    domain::{
        org::OrgId,
        publish::{self, EventRequest, NewEvent, Published},
        store::Store,
        webhooks::{self, NewWebhook, WebhookRequest},
    },
    infra::targets::TargetPolicy,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter};
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

/// Any https URL will do: nothing is delivered here.
async fn new_webhook(name: &str) -> NewWebhook {
    let request = WebhookRequest {
        name: name.into(),
        url: "https://example.com/hook".into(),
        events: vec!["message.received".into()],
        secret: None,
        status: None,
    };
    let anything = TargetPolicy {
        allow_private: true,
        allowed_ports: Vec::new(),
        lookup: kaanha_gateway::infra::targets::system_lookup(),
    };
    NewWebhook::parse(request, &anything).await.unwrap()
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
    let store = crate::helpers::store_over(db.clone());
    let hook_a = webhooks::insert(&store, &org_a, new_webhook("a").await)
        .await
        .unwrap();
    webhooks::insert(&store, &org_b, new_webhook("b").await)
        .await
        .unwrap();
    let ids: Vec<String> = (0..50).map(|n| format!("wamid.{n}")).collect();
    let batch = ids.iter().map(|id| event_with_id(&org_a, id)).collect();
    publish::publish(&db, &store.wake, None, &org_a, batch)
        .await
        .unwrap();
    let (events_before, deliveries_before) = (
        event::Entity::find().count(&db).await.unwrap(),
        delivery::Entity::find().count(&db).await.unwrap(),
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
    // And deleting a webhook, its deliveries.
    webhooks::delete(&db, &org_a, &hook_a.row.id).await.unwrap();
    assert_eq!(
        delivery::Entity::find()
            .filter(delivery::Column::OrgId.eq("org_a"))
            .count(&db)
            .await
            .unwrap(),
        0
    );
}

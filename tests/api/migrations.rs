//! Upgrading a database that already holds data: event ids become unique per organization on
//! SQLite (tables rebuilt) and PostgreSQL (keys changed in place), and nothing is lost.

use entity::{delivery, event};
use kaanha_gateway::{
    config::Config,
    domain::{
        org::OrgId,
        publish::{self, NewEvent},
        webhooks::{self, NewWebhook, WebhookSource, WebhookStatus},
    },
};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::database::TestDatabase;

fn event_with_id(id: &str) -> NewEvent {
    NewEvent {
        id: Some(id.to_owned()),
        event_type: "message.received",
        timestamp: kaanha_gateway::infra::time::now(),
        data: json!({"messageId": id}),
        except_webhook: None,
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
    let new_webhook = |name: &str| NewWebhook {
        name: name.into(),
        url: "https://example.com/hook".into(),
        events: vec!["message.received"],
        secret: None,
        status: WebhookStatus::Active,
        source: WebhookSource::Api,
        filters: None,
    };
    let store = crate::helpers::store_over(db.clone());
    let hook_a = webhooks::insert(&store, &org_a, new_webhook("a"))
        .await
        .unwrap();
    webhooks::insert(&store, &org_b, new_webhook("b"))
        .await
        .unwrap();
    let ids: Vec<String> = (0..50).map(|n| format!("wamid.{n}")).collect();
    let batch = ids.iter().map(|id| event_with_id(id)).collect();
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
    let publish_one =
        |org, id| publish::publish(&db, &store.wake, None, org, vec![event_with_id(id)]);
    let theirs = publish_one(&org_b, "wamid.7").await.unwrap();
    assert!(!theirs[0].duplicate && theirs[0].deliveries == 1);
    let again = publish_one(&org_a, "wamid.7").await.unwrap();
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

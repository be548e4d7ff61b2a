//! Rows written straight into the database, past the API: what older versions, rebinding names
//! or platforms' subscriptions left behind, and the rows the API no longer shows.

use entity::{delivery, delivery_attempt};
use kaanha_gateway::infra::ids;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
/// Writes an active webhook's rows straight into the database, as an older policy, a
/// rebinding name or a platform's subscription would have left them: the API would refuse
/// some of these. Returns its id.
pub async fn webhook_row(
    db: &sea_orm::DatabaseConnection,
    org: &str,
    url: &str,
    events: &[&str],
    source: &str,
) -> String {
    use entity::{webhook, webhook_event};
    use sea_orm::{ActiveModelTrait, Set};

    let id = ids::new_uuid();
    let now = kaanha_gateway::infra::time::now();
    webhook::ActiveModel {
        id: Set(id),
        org_id: Set(org.to_owned()),
        name: Set("stored".to_owned()),
        url: Set(url.to_owned()),
        status: Set("active".to_owned()),
        source: Set(source.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        consecutive_failures: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    for event in events {
        webhook_event::ActiveModel {
            webhook_id: Set(id),
            event_type: Set((*event).to_owned()),
            org_id: Set(org.to_owned()),
        }
        .insert(db)
        .await
        .unwrap();
    }
    ids::show(ids::WEBHOOK, &id)
}

/// How many deliveries and log rows the webhook the API showed as `webhook_id` still has in
/// the database (a deleted one's are purged behind).
pub async fn deliveries_and_attempts(db: &sea_orm::DatabaseConnection, webhook_id: &str) -> u64 {
    let stored = ids::parse(ids::WEBHOOK, webhook_id).expect("an id the API showed");
    let deliveries = delivery::Entity::find()
        .filter(delivery::Column::WebhookId.eq(stored))
        .count(db);
    let attempts = delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::WebhookId.eq(stored))
        .count(db);
    deliveries.await.unwrap() + attempts.await.unwrap()
}

//! The rows a publish writes and reads: events, their deliveries, and the counts and samples
//! read back.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{delivery, event};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    FromQueryResult, IntoActiveModel, QueryFilter, QuerySelect, QueryTrait, Set, Statement,
};

use uuid::Uuid;

use super::envelope::envelope;
use crate::{
    catalog,
    domain::{delivery_status::DeliveryStatus, named::Named, ordered, org::OrgId},
    infra::{
        ids::{DELIVERY, WEBHOOK, new_id, new_uuid, show},
        lookup::keys_in,
        queues::Queued,
        time,
        wake::Wake,
    },
};

/// Inserts a `webhook.test` event for one webhook only, inside the caller's transaction; its
/// delivery is entered in `queued`. Returns the event's id and the delivery's, as shown.
pub async fn insert_test_event(
    txn: &impl ConnectionTrait,
    org: &OrgId,
    webhook_id: Uuid,
    queued: &mut Queued,
) -> Result<(String, String), DbErr> {
    let now = time::now();
    let id = new_id("evt");
    let data = serde_json::json!({
        "webhookId": show(WEBHOOK, &webhook_id),
        "message": "This is a test event from Kaanha AI. Your webhook is set up correctly.",
    });
    let mut delivery = new_delivery(org, &id, webhook_id, catalog::TEST_EVENT, now);
    let in_line = ordered::is_ordered(txn, webhook_id).await?;
    if in_line {
        delivery.due_at = ordered::PARKED;
    }
    let delivery_id = delivery.id;
    let event = event::ActiveModel {
        id: Set(id.clone()),
        org_id: Set(org.to_string()),
        event_type: Set(catalog::TEST_EVENT.to_owned()),
        payload: Set(envelope(&id, catalog::TEST_EVENT, org, now, &data)),
        created_at: Set(now),
    };
    insert_rows(txn, vec![event], vec![delivery.into_active_model()]).await?;
    if in_line {
        ordered::release_next(txn, webhook_id, now.timestamp_millis(), queued).await?;
    } else {
        queued.add(webhook_id, org.as_str(), now.timestamp_millis());
    }
    Ok((id, show(DELIVERY, &delivery_id)))
}

/// Sends a webhook a `webhook.test` event now: its own transaction, and a wake.
pub async fn send_test_event(
    db: &DatabaseConnection,
    wake: &Wake,
    org: &OrgId,
    webhook_id: Uuid,
) -> Result<(String, String), DbErr> {
    let txn = crate::infra::db::begin_write(db).await?;
    let mut queued = Queued::default();
    let sent = insert_test_event(&txn, org, webhook_id, &mut queued).await?;
    queued.write(&txn).await?;
    wake.commit(txn).await?;
    Ok(sent)
}

/// The ids among `given` this organization has already stored (ids are the organization's
/// own: only its events count as duplicates).
pub(super) async fn stored_ids<'a>(
    txn: &impl ConnectionTrait,
    org: &OrgId,
    given: impl Iterator<Item = &'a str>,
) -> Result<HashSet<String>, DbErr> {
    let given: Vec<&str> = given.collect();
    let mut stored = HashSet::new();
    for chunk in given.chunks(500) {
        let ids: Vec<String> = event::Entity::find()
            .select_only()
            .column(event::Column::Id)
            .filter(keys_in(
                txn.get_database_backend(),
                event::Column::OrgId,
                event::Column::Id,
                chunk.iter().map(|id| (org.as_str(), *id)),
            ))
            .into_tuple()
            .all(txn)
            .await?;
        stored.extend(ids);
    }
    Ok(stored)
}

pub(crate) fn new_delivery(
    org: &OrgId,
    event_id: &str,
    webhook_id: Uuid,
    event_type: &str,
    now: DateTime<Utc>,
) -> delivery::Model {
    delivery::Model {
        id: new_uuid(),
        org_id: org.to_string(),
        event_id: event_id.to_owned(),
        webhook_id,
        event_type: event_type.to_owned(),
        status: DeliveryStatus::Pending.as_str().to_owned(),
        attempts: 0,
        due_at: now.timestamp_millis(),
        lease_until: None,
        last_response_code: None,
        replay: false,
        leases: 0,
        schedule_from: 0,
        created_at: now.timestamp_millis(),
        updated_at: now.timestamp_millis(),
    }
}

/// Multi-row inserts, chunked to stay under every database's bind-parameter limit.
pub(super) async fn insert_rows(
    txn: &impl ConnectionTrait,
    events: Vec<event::ActiveModel>,
    deliveries: Vec<delivery::ActiveModel>,
) -> Result<(), DbErr> {
    for insert in insert_statements(txn.get_database_backend(), events, deliveries) {
        txn.execute_raw(insert).await?;
    }
    Ok(())
}

/// The statements [`insert_rows`] runs, for a caller that sends them with others.
pub(super) fn insert_statements(
    backend: DbBackend,
    events: Vec<event::ActiveModel>,
    deliveries: Vec<delivery::ActiveModel>,
) -> Vec<Statement> {
    let events = events.chunks(500).map(|chunk| {
        let insert = event::Entity::insert_many(chunk.to_vec());
        insert.build(backend)
    });
    let deliveries = deliveries.chunks(500).map(|chunk| {
        let insert = delivery::Entity::insert_many(chunk.to_vec());
        insert.build(backend)
    });
    events.chain(deliveries).collect()
}

pub(super) async fn count_deliveries<'a>(
    db: &impl ConnectionTrait,
    org: &OrgId,
    event_ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, u64>, DbErr> {
    #[derive(FromQueryResult)]
    struct Count {
        event_id: String,
        deliveries: i64,
    }
    let ids: HashSet<&str> = event_ids.collect();
    let mut counts = HashMap::new();
    if ids.is_empty() {
        return Ok(counts);
    }
    let ids: Vec<&str> = ids.into_iter().collect();
    for chunk in ids.chunks(500) {
        let rows = delivery::Entity::find()
            .select_only()
            .column(delivery::Column::EventId)
            .column_as(delivery::Column::Id.count(), "deliveries")
            .filter(delivery::Column::OrgId.eq(org.as_str()))
            .filter(delivery::Column::EventId.is_in(chunk.iter().copied()))
            .group_by(delivery::Column::EventId)
            .into_model::<Count>()
            .all(db)
            .await?;
        counts.extend(rows.into_iter().map(|c| (c.event_id, c.deliveries as u64)));
    }
    Ok(counts)
}

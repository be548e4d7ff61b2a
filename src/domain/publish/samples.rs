//! Realistic events for a platform's test step: the organization's newest real events of a
//! type that pass the trigger's filters, else the catalog's sample.

use entity::event;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::Value;

use uuid::Uuid;

use super::{envelope::envelope, rows};
use crate::{
    catalog::EventType,
    domain::{org::OrgId, store::Store},
    infra::{ids::new_id, queues::Queued, time},
};

/// How many of the newest events of a type are looked through for ones that pass the filters.
const LOOK_BACK: u64 = 50;
/// The id prefix of catalog samples the gateway stored to deliver them (`new_id("evt_sample")`):
/// they are not the organization's events, so they are never offered as samples in turn.
const SAMPLE_ID_PREFIX: &str = "evt_sample_";

/// Up to `limit` of the organization's newest events of this type passing `filters`, as
/// delivered (envelopes with their `id`), newest first.
pub async fn recent(
    db: &impl ConnectionTrait,
    org: &OrgId,
    event_type: &EventType,
    filters: Option<&Value>,
    limit: usize,
) -> Result<Vec<(String, Value)>, DbErr> {
    let rows: Vec<(String, String)> = event::Entity::find()
        .select_only()
        .column(event::Column::Id)
        .column(event::Column::Payload)
        .filter(event::Column::OrgId.eq(org.as_str()))
        .filter(event::Column::EventType.eq(event_type.name))
        .filter(event::Column::Id.not_like(format!("{SAMPLE_ID_PREFIX}%")))
        .order_by_desc(event::Column::CreatedAt)
        // Without filters the newest `limit` are the answer: each row read is a payload.
        .limit(if filters.is_none() {
            limit as u64
        } else {
            LOOK_BACK
        })
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, payload)| Some((id, serde_json::from_str::<Value>(&payload).ok()?)))
        .filter(|(_, body)| filters.is_none_or(|f| event_type.passes(f, &body["data"])))
        .take(limit)
        .collect())
}

/// The catalog's sample as a delivered body would carry it, for an organization with no
/// event of the type yet.
pub fn catalog_sample(event_type: &EventType, org: &OrgId) -> Value {
    serde_json::json!({
        "id": format!("{SAMPLE_ID_PREFIX}{}", event_type.key()),
        "event": event_type.name,
        "organizationId": org.as_str(),
        "timestamp": "2026-03-24T10:30:00.000Z",
        "data": event_type.sample(),
    })
}

/// Delivers one realistic event of this type to one webhook now: the newest real one passing
/// `filters` (a new delivery of the same event, with the same `id`), else the catalog sample,
/// stored as an event of its own so it is delivered, signed and logged like any other.
/// Returns the event id.
pub async fn deliver_sample(
    store: &Store,
    org: &OrgId,
    webhook_id: Uuid,
    event_type: &'static EventType,
    filters: Option<&Value>,
) -> Result<String, DbErr> {
    let txn = crate::infra::db::begin_write(&store.db).await?;
    let now = time::now();
    let (event_id, new_event) = match recent(&txn, org, event_type, filters, 1).await?.pop() {
        Some((id, _)) => (id, None),
        None => {
            let id = new_id("evt_sample");
            let row = event::ActiveModel {
                id: Set(id.clone()),
                org_id: Set(org.to_string()),
                event_type: Set(event_type.name.to_owned()),
                payload: Set(envelope(
                    &id,
                    event_type.name,
                    org,
                    now,
                    &event_type.sample(),
                )),
                created_at: Set(now),
            };
            (id, Some(row))
        }
    };
    let delivery = rows::new_delivery(org, &event_id, webhook_id, event_type.name, now);
    let events: Vec<event::ActiveModel> = new_event.into_iter().collect();
    rows::insert_rows(&txn, events, vec![delivery.into_active_model()]).await?;
    let mut queued = Queued::default();
    queued.add(webhook_id, org.as_str(), now.timestamp_millis());
    queued.write(&txn).await?;
    store.wake.commit(txn).await?;
    Ok(event_id)
}

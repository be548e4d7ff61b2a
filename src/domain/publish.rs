//! Publishing: an event and one delivery per subscribed active webhook, written in one
//! transaction before the publish call answers (a transactional outbox: nothing accepted lives
//! only in memory).

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use entity::{delivery, event, webhook, webhook_event};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, IntoActiveModel, JoinType,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set, TransactionSession, TransactionTrait,
};
use serde::Serialize;
use serde_json::Value;

use crate::{
    catalog,
    delivery::handoff::{Handed, Handoff, Reserved},
    domain::{named::Named, org::OrgId, webhooks::WebhookStatus},
    infra::{ids::new_id, time},
};

/// A validated event, ready to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The producer's id (for idempotent retries), or `None` to have one made.
    pub id: Option<String>,
    pub event_type: &'static str,
    pub timestamp: DateTime<Utc>,
    pub data: Value,
    /// A webhook that must not get it: the one a `webhook.enabled` event is about.
    pub except_webhook: Option<String>,
}

/// What became of one published event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub id: String,
    /// Deliveries the event has (for a duplicate: those made when it was first published).
    pub deliveries: u64,
    /// The id was already stored: nothing new was created.
    pub duplicate: bool,
    /// Of its deliveries, those handed straight to this instance's engine (sent without a
    /// claim; no worker needs waking for them).
    pub handed: u64,
}

impl Published {
    /// Deliveries this publish created that a worker must claim.
    pub fn to_claim(&self) -> u64 {
        if self.duplicate {
            0
        } else {
            self.deliveries - self.handed
        }
    }
}

/// The fields of every delivery's body, in the order they are sent: the document's, plus `id`.
/// Discovery reports this list; a test holds it to what `envelope` writes.
pub const ENVELOPE_FIELDS: [&str; 5] = ["id", "event", "organizationId", "timestamp", "data"];

/// The body every delivery of an event sends, in the document's field order, plus `id`.
#[derive(Serialize)]
struct Envelope<'a> {
    id: &'a str,
    event: &'a str,
    #[serde(rename = "organizationId")]
    organization_id: &'a str,
    timestamp: String,
    data: &'a Value,
}

/// The exact bytes sent (and signed) for every delivery of this event.
pub fn envelope(
    id: &str,
    event_type: &str,
    org: &OrgId,
    at: DateTime<Utc>,
    data: &Value,
) -> String {
    serde_json::to_string(&Envelope {
        id,
        event: event_type,
        organization_id: org.as_str(),
        timestamp: time::format(at),
        data,
    })
    .expect("JSON values always serialize")
}

/// Stores events with their deliveries in one transaction. Ids already stored for this
/// organization are reported as duplicates and create nothing.
pub async fn publish(
    db: &impl TransactionTrait,
    org: &OrgId,
    events: Vec<NewEvent>,
    handoff: Option<&Handoff>,
) -> Result<(Vec<Published>, Vec<Handed>), DbErr> {
    let txn = crate::infra::db::begin_write(db).await?;
    let fan_out = &mut FanOut::default();
    let (published, handed) = publish_handing(&txn, org, events, (handoff, fan_out)).await?;
    if published.iter().any(|p| p.to_claim() > 0) {
        crate::infra::db::notify_deliveries(&txn).await?;
    }
    txn.commit().await?;
    Ok((published, handed))
}

/// `publish` inside the caller's transaction (which notifies and commits).
pub async fn publish_in(
    txn: &impl ConnectionTrait,
    org: &OrgId,
    events: Vec<NewEvent>,
) -> Result<Vec<Published>, DbErr> {
    let fan_out = &mut FanOut::default();
    Ok(publish_handing(txn, org, events, (None, fan_out)).await?.0)
}

/// What a transaction has read about webhooks, so that a group commit of many single publishes
/// reads it once: per organization and event type, the active webhooks subscribed (id and
/// filters only: an organization may have thousands), and whole webhooks for the deliveries
/// handed to the engine.
#[derive(Default)]
pub struct FanOut {
    subscribed: HashMap<(String, &'static str), Vec<Target>>,
    webhooks: HashMap<String, Arc<webhook::Model>>,
}

impl FanOut {
    async fn subscribed(
        &mut self,
        txn: &impl ConnectionTrait,
        org: &OrgId,
        event_type: &'static str,
    ) -> Result<&[Target], DbErr> {
        let key = (org.to_string(), event_type);
        if !self.subscribed.contains_key(&key) {
            let found = subscribed_webhooks(txn, org, event_type).await?;
            self.subscribed.insert(key.clone(), found);
        }
        Ok(&self.subscribed[&key])
    }

    /// Reads the webhooks among `ids` not read yet, in one query.
    async fn load_webhooks<'a>(
        &mut self,
        txn: &impl ConnectionTrait,
        ids: impl Iterator<Item = &'a str>,
    ) -> Result<(), DbErr> {
        let mut missing: Vec<&str> = ids.filter(|id| !self.webhooks.contains_key(*id)).collect();
        missing.sort_unstable();
        missing.dedup();
        for chunk in missing.chunks(500) {
            for found in webhook::Entity::find()
                .filter(webhook::Column::Id.is_in(chunk.iter().copied()))
                .all(txn)
                .await?
            {
                self.webhooks.insert(found.id.clone(), Arc::new(found));
            }
        }
        Ok(())
    }
}

/// `publish_in`, handing to `handoff` the deliveries its engine has room for: they are written
/// leased to this instance, and are to be handed over once the transaction commits (dropped
/// instead, they give their places back).
pub async fn publish_handing(
    txn: &impl ConnectionTrait,
    org: &OrgId,
    events: Vec<NewEvent>,
    (handoff, fan_out): (Option<&Handoff>, &mut FanOut),
) -> Result<(Vec<Published>, Vec<Handed>), DbErr> {
    // Ids are the organization's own: only its events count as duplicates.
    let given: Vec<&str> = events.iter().filter_map(|e| e.id.as_deref()).collect();
    let mut stored: HashSet<String> = HashSet::new();
    for chunk in given.chunks(500) {
        let ids: Vec<String> = event::Entity::find()
            .select_only()
            .column(event::Column::Id)
            .filter(event::Column::OrgId.eq(org.as_str()))
            .filter(event::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(txn)
            .await?;
        stored.extend(ids);
    }
    let duplicate_counts = count_deliveries(txn, org, stored.iter().map(String::as_str)).await?;

    let mut event_rows = Vec::new();
    let mut deliveries = Vec::new();
    // For the deliveries handed to the engine: places, payloads, webhooks.
    let mut reserved = Vec::new();
    let mut payloads: HashMap<String, Arc<str>> = HashMap::new();
    let mut results = Vec::with_capacity(events.len());
    let mut seen_in_request: HashMap<String, usize> = HashMap::new();
    let now = time::now();
    for new in events {
        let id = new.id.clone().unwrap_or_else(|| new_id("evt"));
        if stored.contains(&id) || seen_in_request.contains_key(&id) {
            let deliveries = match seen_in_request.get(&id) {
                Some(first) => results.get(*first).map_or(0, |r: &Published| r.deliveries),
                None => duplicate_counts.get(&id).copied().unwrap_or(0),
            };
            results.push(Published {
                id,
                deliveries,
                duplicate: true,
                handed: 0,
            });
            continue;
        }
        let catalog_type =
            catalog::find(new.event_type).expect("published types come from the catalog");
        let targets: Vec<&str> = fan_out
            .subscribed(txn, org, new.event_type)
            .await?
            .iter()
            .filter(|t| new.except_webhook.as_deref() != Some(t.webhook_id.as_str()))
            .filter(|t| {
                t.filters
                    .as_ref()
                    .is_none_or(|f| catalog_type.passes(f, &new.data))
            })
            .map(|t| t.webhook_id.as_str())
            .collect();
        let payload = envelope(&id, new.event_type, org, new.timestamp, &new.data);
        let first = deliveries.len();
        deliveries.extend(
            targets
                .iter()
                .map(|webhook_id| new_delivery(org, &id, webhook_id, new.event_type, now)),
        );
        if let Some(handoff) = handoff {
            let before = reserved.len();
            reserve(handoff, &mut deliveries, first, now, &mut reserved);
            if reserved.len() > before {
                payloads.insert(id.clone(), Arc::from(payload.as_str()));
            }
        }
        event_rows.push(event::ActiveModel {
            id: Set(id.clone()),
            org_id: Set(org.to_string()),
            event_type: Set(new.event_type.to_owned()),
            payload: Set(payload),
            created_at: Set(now),
        });
        seen_in_request.insert(id.clone(), results.len());
        results.push(Published {
            id,
            deliveries: targets.len() as u64,
            duplicate: false,
            handed: 0,
        });
    }
    let rows = deliveries.iter().map(|d| d.clone().into_active_model());
    insert_rows(txn, event_rows, rows.collect()).await?;
    if reserved.is_empty() {
        return Ok((results, Vec::new()));
    }
    let reserved_webhooks = reserved
        .iter()
        .map(|(i, _)| deliveries[*i].webhook_id.as_str());
    fan_out.load_webhooks(txn, reserved_webhooks).await?;
    let handed = hand_over(reserved, &deliveries, &payloads, &fan_out.webhooks);
    let mut per_event: HashMap<&str, u64> = HashMap::new();
    for one in &handed {
        *per_event.entry(one.delivery.event_id.as_str()).or_default() += 1;
    }
    for result in results.iter_mut().filter(|r| !r.duplicate) {
        result.handed = per_event.get(result.id.as_str()).copied().unwrap_or(0);
    }
    Ok((results, handed))
}

/// Takes a place in the engine for each delivery from `first` on that it has room for, and
/// writes those leased.
fn reserve(
    handoff: &Handoff,
    deliveries: &mut [delivery::Model],
    first: usize,
    now: DateTime<Utc>,
    reserved: &mut Vec<(usize, Reserved)>,
) {
    let lease_until = handoff.lease_until(now.timestamp_millis());
    for (index, delivery) in deliveries.iter_mut().enumerate().skip(first) {
        if let Some(place) = handoff.reserve(delivery) {
            delivery.lease_until = Some(lease_until);
            reserved.push((index, place));
        }
    }
}

/// The reserved deliveries with what the engine needs to send them: their payloads and their
/// webhooks, both already in hand.
fn hand_over(
    reserved: Vec<(usize, Reserved)>,
    deliveries: &[delivery::Model],
    payloads: &HashMap<String, Arc<str>>,
    webhooks: &HashMap<String, Arc<webhook::Model>>,
) -> Vec<Handed> {
    reserved
        .into_iter()
        .filter_map(|(index, place)| {
            let delivery = deliveries[index].clone();
            Some(Handed {
                payload: payloads.get(&delivery.event_id)?.clone(),
                webhook: webhooks.get(&delivery.webhook_id)?.clone(),
                delivery,
                reserved: place,
            })
        })
        .collect()
}

/// Inserts a `webhook.test` event for one webhook only, inside the caller's transaction.
pub async fn insert_test_event(
    txn: &impl ConnectionTrait,
    org: &OrgId,
    webhook_id: &str,
) -> Result<(String, String), DbErr> {
    let now = time::now();
    let id = new_id("evt");
    let data = serde_json::json!({
        "webhookId": webhook_id,
        "message": "This is a test event from Kaanha AI. Your webhook is set up correctly.",
    });
    let delivery = new_delivery(org, &id, webhook_id, catalog::TEST_EVENT, now);
    let delivery_id = delivery.id.clone();
    let event = event::ActiveModel {
        id: Set(id.clone()),
        org_id: Set(org.to_string()),
        event_type: Set(catalog::TEST_EVENT.to_owned()),
        payload: Set(envelope(&id, catalog::TEST_EVENT, org, now, &data)),
        created_at: Set(now),
    };
    insert_rows(txn, vec![event], vec![delivery.into_active_model()]).await?;
    crate::infra::db::notify_deliveries(txn).await?;
    Ok((id, delivery_id))
}

fn new_delivery(
    org: &OrgId,
    event_id: &str,
    webhook_id: &str,
    event_type: &str,
    now: DateTime<Utc>,
) -> delivery::Model {
    delivery::Model {
        id: new_id("dlv"),
        org_id: org.to_string(),
        event_id: event_id.to_owned(),
        webhook_id: webhook_id.to_owned(),
        event_type: event_type.to_owned(),
        status: crate::delivery::PENDING.to_owned(),
        attempts: 0,
        due_at: now.timestamp_millis(),
        lease_until: None,
        last_response_code: None,
        created_at: now,
        updated_at: now,
    }
}

/// Multi-row inserts, chunked to stay under every database's bind-parameter limit.
async fn insert_rows(
    txn: &impl ConnectionTrait,
    events: Vec<event::ActiveModel>,
    deliveries: Vec<delivery::ActiveModel>,
) -> Result<(), DbErr> {
    for chunk in events.chunks(500) {
        event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in deliveries.chunks(500) {
        delivery::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// A webhook subscribed to an event type, with its filters.
#[derive(FromQueryResult)]
struct Target {
    webhook_id: String,
    filters: Option<Value>,
}

/// Active webhooks of the organization subscribed to the type (index: org, event type).
async fn subscribed_webhooks(
    db: &impl ConnectionTrait,
    org: &OrgId,
    event_type: &str,
) -> Result<Vec<Target>, DbErr> {
    webhook_event::Entity::find()
        .select_only()
        .column(webhook_event::Column::WebhookId)
        .column(webhook::Column::Filters)
        .join(JoinType::InnerJoin, webhook_event::Relation::Webhook.def())
        .filter(webhook_event::Column::OrgId.eq(org.as_str()))
        .filter(webhook_event::Column::EventType.eq(event_type))
        .filter(webhook::Column::Status.eq(WebhookStatus::Active.as_str()))
        .into_model::<Target>()
        .all(db)
        .await
}

async fn count_deliveries<'a>(
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

/// The organization's latest events of a type, newest first, as delivered (index: org, event
/// type, created_at), so a platform's test step shows real data.
pub async fn recent_payloads(
    db: &impl ConnectionTrait,
    org: &OrgId,
    event_type: &str,
    limit: u64,
) -> Result<Vec<String>, DbErr> {
    event::Entity::find()
        .select_only()
        .column(event::Column::Payload)
        .filter(event::Column::OrgId.eq(org.as_str()))
        .filter(event::Column::EventType.eq(event_type))
        .order_by_desc(event::Column::CreatedAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_sends_exactly_the_listed_fields_in_order() {
        let org = OrgId::parse("org_a").unwrap();
        let body = envelope("e1", "message.received", &org, time::now(), &Value::Null);
        let sent: serde_json::Map<String, Value> = serde_json::from_str(&body).unwrap();
        assert!(sent.keys().map(String::as_str).eq(ENVELOPE_FIELDS));
    }
}

//! Replay: the organization's stored events of a range, of the types a webhook subscribes to,
//! sent to it again as new deliveries. Each carries the event's own id and body (receivers
//! de-duplicate as usual) and is marked as a replay (`X-Kaanha-Replay: true`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{delivery, event};
use sea_orm::{
    ColumnTrait, Condition, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::Value;

use super::{RedeliverError, TimeRange, budget, require_active};
use crate::{
    catalog,
    domain::{
        field_error::FieldError, ordered, org::OrgId, publish::new_delivery, store::Store,
        webhooks::Webhook,
    },
    infra::{db::begin_write, lookup::keys_in, queues::Queued, time},
};

/// What a replay may send, besides its range.
pub struct Bounds {
    /// Most events one call may replay (`KAANHA_REPLAY_MAX_EVENTS`).
    pub max_events: u64,
    /// `KAANHA_REDELIVERIES_PER_HOUR`.
    pub per_hour: u64,
}

/// Events read, and deliveries written, per transaction.
const BATCH: u64 = 500;

/// Queues one new delivery to `webhook` for each stored event in `range` whose type it
/// subscribes to (only `types`, when given), that passes its filters and that no earlier replay
/// sent it already; returns how many. The events' count is taken from the organization's
/// budget for the hour first (what is not queued is given back), so a call that would pass it
/// queues nothing.
pub async fn replay(
    store: &Store,
    webhook: &Webhook,
    range: TimeRange,
    types: Option<Vec<String>>,
    bounds: Bounds,
) -> Result<u64, RedeliverError> {
    let types = chosen_types(webhook, types)?;
    require_active(webhook)?;
    let db = &store.db;
    let org = OrgId::stored(webhook.row.org_id.clone());
    let in_range = || {
        Condition::all()
            .add(event::Column::OrgId.eq(org.as_str()))
            .add(event::Column::EventType.is_in(types.iter().map(|t| t.name)))
            .add(event::Column::CreatedAt.gte(range.since))
            .add(event::Column::CreatedAt.lt(range.until))
    };
    let stored = event::Entity::find().filter(in_range()).count(db).await?;
    if stored > bounds.max_events {
        return Err(FieldError::new(
            "since",
            format!(
                "the range holds {stored} events of these types, more than the {} one call may replay on this gateway; narrow the range or the types",
                bounds.max_events
            ),
        )
        .into());
    }
    let reserved = budget::reserve(db, &org, stored, bounds.per_hour).await?;
    let queued = queue(store, webhook, &org, in_range).await;
    let settled = reserved
        .settle(db, *queued.as_ref().unwrap_or(&stored))
        .await;
    let queued = queued?;
    settled?;
    Ok(queued)
}

async fn queue(
    store: &Store,
    webhook: &Webhook,
    org: &OrgId,
    in_range: impl Fn() -> Condition,
) -> Result<u64, RedeliverError> {
    let db = &store.db;
    let mut after: Option<(DateTime<Utc>, String)> = None;
    let mut queued = 0;
    loop {
        let mut page = event::Entity::find()
            .select_only()
            .columns([
                event::Column::CreatedAt,
                event::Column::Id,
                event::Column::EventType,
                event::Column::Payload,
            ])
            .filter(in_range())
            .order_by_asc(event::Column::CreatedAt)
            .order_by_asc(event::Column::Id)
            .limit(BATCH);
        if let Some((at, id)) = &after {
            page = page.filter(
                Condition::any().add(event::Column::CreatedAt.gt(*at)).add(
                    Condition::all()
                        .add(event::Column::CreatedAt.eq(*at))
                        .add(event::Column::Id.gt(id.as_str())),
                ),
            );
        }
        let rows: Vec<(DateTime<Utc>, String, String, String)> = page.into_tuple().all(db).await?;
        let Some((at, id, _, _)) = rows.last() else {
            break;
        };
        after = Some((*at, id.clone()));
        let ids = rows.iter().map(|(_, id, _, _)| id.as_str());
        let replayed = already_replayed(db, webhook, org, ids).await?;
        let now = time::now();
        let deliveries: Vec<delivery::ActiveModel> = rows
            .iter()
            .filter(|(_, id, _, _)| !replayed.contains(id))
            .filter(|(_, _, event_type, payload)| passes_filters(webhook, event_type, payload))
            .map(|(_, id, event_type, _)| {
                let mut row = new_delivery(org, id, webhook.row.id, event_type, now);
                row.replay = true;
                if webhook.row.ordered {
                    row.due_at = ordered::PARKED;
                }
                row.into_active_model()
            })
            .collect();
        if !deliveries.is_empty() {
            let count = deliveries.len() as u64;
            let txn = begin_write(db).await?;
            delivery::Entity::insert_many(deliveries)
                .exec_without_returning(&txn)
                .await?;
            let mut entered = Queued::default();
            let (id, now_ms) = (webhook.row.id, now.timestamp_millis());
            if webhook.row.ordered {
                ordered::release_next(&txn, id, now_ms, &mut entered).await?;
            } else {
                entered.add(id, &webhook.row.org_id, now_ms);
            }
            entered.write(&txn).await?;
            store.wake.commit(txn).await?;
            queued += count;
        }
        if (rows.len() as u64) < BATCH {
            break;
        }
    }
    Ok(queued)
}

/// Of these events, those an earlier replay already sent the webhook (found through the
/// deliveries' `(org_id, event_id)` index).
async fn already_replayed<'a>(
    db: &impl sea_orm::ConnectionTrait,
    webhook: &Webhook,
    org: &OrgId,
    event_ids: impl Iterator<Item = &'a str>,
) -> Result<HashSet<String>, DbErr> {
    let keys = event_ids.map(|id| (org.as_str(), id));
    let events = keys_in(
        db.get_database_backend(),
        delivery::Column::OrgId,
        delivery::Column::EventId,
        keys,
    );
    let found: Vec<String> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::EventId)
        .filter(events)
        .filter(delivery::Column::WebhookId.eq(webhook.row.id))
        .filter(delivery::Column::Replay.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().collect())
}

/// The types to replay: those asked for, each known and subscribed; else all the webhook's.
fn chosen_types(
    webhook: &Webhook,
    asked: Option<Vec<String>>,
) -> Result<Vec<&'static catalog::EventType>, RedeliverError> {
    let names = match asked {
        Some(names) if names.is_empty() => {
            return Err(
                FieldError::new("events", "name at least one event type, or leave it out").into(),
            );
        }
        Some(names) => {
            let max = crate::domain::webhooks::MAX_EVENTS;
            FieldError::at_most("events", &names, max)?;
            names
        }
        None => webhook.events.clone(),
    };
    let mut types = Vec::with_capacity(names.len());
    let mut errors = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match catalog::find(name) {
            Some(found) if webhook.events.iter().any(|e| e == found.name) => types.push(found),
            Some(_) => errors.push(FieldError::new(
                format!("events[{i}]"),
                format!("the webhook does not subscribe to {name}"),
            )),
            None => errors.push(FieldError::new(
                format!("events[{i}]"),
                format!("unknown event type {name}"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(types)
    } else {
        Err(RedeliverError::Invalid(errors))
    }
}

/// Whether the stored event passes the webhook's filters, as its publish would have.
fn passes_filters(webhook: &Webhook, event_type: &str, payload: &str) -> bool {
    let (Some(filters), Some(catalog_type)) = (&webhook.row.filters, catalog::find(event_type))
    else {
        return true;
    };
    let data = serde_json::from_str::<Value>(payload)
        .ok()
        .and_then(|mut envelope| envelope.get_mut("data").map(Value::take))
        .unwrap_or(Value::Null);
    catalog_type.passes(filters, &data)
}

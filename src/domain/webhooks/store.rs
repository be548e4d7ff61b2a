//! The tenant-scoped queries of webhooks: every one filters by organization.

use std::collections::HashMap;

use uuid::Uuid;

use entity::{webhook, webhook_event};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{NewWebhook, Webhook, WebhookChanges, WebhookSource, WebhookStatus};
use crate::{
    catalog,
    domain::{named::Named, org::OrgId, quota::QuotaError, store::Store},
    infra::{
        cipher::{SecretBox, SecretField},
        ids::new_uuid,
        queues::Queued,
    },
};

/// Why a webhook disabled by a `PATCH` is disabled.
const DISABLED_BY_HAND: &str = "disabled by hand";

fn subscription_rows(
    org: &OrgId,
    webhook_id: Uuid,
    events: &[&str],
) -> Vec<webhook_event::ActiveModel> {
    events
        .iter()
        .map(|event| webhook_event::ActiveModel {
            webhook_id: Set(webhook_id),
            event_type: Set((*event).to_owned()),
            org_id: Set(org.to_string()),
        })
        .collect()
}

/// Stores a webhook (its secret sealed by `secrets`), unless the organization already has
/// `quota` of them.
pub async fn insert(store: &Store, org: &OrgId, new: NewWebhook) -> Result<Webhook, QuotaError> {
    let secrets = &store.secrets;
    let now = crate::infra::time::now();
    let id = new_uuid();
    let sends_test = new.gets_test_event();
    let txn = crate::infra::db::begin_write(&store.db).await?;
    crate::domain::quota::room_for_webhook(&txn, org, store.quotas.webhooks).await?;
    let row = webhook::ActiveModel {
        id: Set(id),
        org_id: Set(org.to_string()),
        name: Set(new.name),
        url: Set(new.url),
        secret: Set(new
            .secret
            .map(|secret| secrets.seal(&id, SecretField::Secret, &secret))),
        status: Set(new.status.as_str().to_owned()),
        source: Set(new.source.as_str().to_owned()),
        filters: Set(new.filters),
        rate_limit: Set(new.rate_limit),
        ordered: Set(new.ordered),
        created_at: Set(now),
        updated_at: Set(now),
        consecutive_failures: Set(0),
        disabled_reason: Set(
            (new.status == WebhookStatus::Disabled).then(|| DISABLED_BY_HAND.into())
        ),
        disabled_at: Set((new.status == WebhookStatus::Disabled).then_some(now)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    webhook_event::Entity::insert_many(subscription_rows(org, id, &new.events))
        .exec(&txn)
        .await?;
    // The document: "Click Save. Kaanha AI will immediately send a test event." Written in the
    // same transaction, so a saved webhook always has its test delivery.
    // A no-code platform's hook URL would run the user's workflow on it, so only webhooks made
    // here get one.
    if sends_test {
        let mut queued = Queued::default();
        crate::domain::publish::insert_test_event(&txn, org, id, &mut queued).await?;
        queued.write(&txn).await?;
        store.wake.commit(txn).await?;
    } else {
        crate::infra::db::commit(txn).await?;
    }
    Ok(Webhook {
        row,
        events: new.events.iter().map(|e| (*e).to_owned()).collect(),
    })
}

pub async fn find(
    db: &impl ConnectionTrait,
    org: &OrgId,
    id: Uuid,
) -> Result<Option<Webhook>, DbErr> {
    let row = webhook::Entity::find_by_id(id)
        .filter(webhook::Column::OrgId.eq(org.as_str()))
        .filter(webhook::Column::DeletedAt.is_null())
        .one(db)
        .await?;
    Ok(attach_events(db, row.into_iter().collect()).await?.pop())
}

/// Whether the organization has this webhook (without loading it).
pub async fn exists(db: &impl ConnectionTrait, org: &OrgId, id: Uuid) -> Result<bool, DbErr> {
    let count = webhook::Entity::find_by_id(id)
        .filter(webhook::Column::OrgId.eq(org.as_str()))
        .filter(webhook::Column::DeletedAt.is_null())
        .count(db)
        .await?;
    Ok(count > 0)
}

/// One page of an organization's webhooks, newest first, after `cursor` (an id) when given.
pub async fn list(
    db: &impl ConnectionTrait,
    org: &OrgId,
    cursor: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Webhook>, DbErr> {
    let mut query = webhook::Entity::find()
        .filter(webhook::Column::OrgId.eq(org.as_str()))
        .filter(webhook::Column::DeletedAt.is_null());
    if let Some(cursor) = cursor {
        query = query.filter(webhook::Column::Id.lt(cursor));
    }
    let rows = query
        .order_by_desc(webhook::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    attach_events(db, rows).await
}

/// A platform's subscriptions in the organization, newest first, optionally only those for
/// one target URL.
pub async fn list_by_source(
    db: &impl ConnectionTrait,
    org: &OrgId,
    source: WebhookSource,
    url: Option<&str>,
    limit: u64,
) -> Result<Vec<Webhook>, DbErr> {
    let mut query = webhook::Entity::find()
        .filter(webhook::Column::OrgId.eq(org.as_str()))
        .filter(webhook::Column::DeletedAt.is_null())
        .filter(webhook::Column::Source.eq(source.as_str()));
    if let Some(url) = url {
        query = query.filter(webhook::Column::Url.eq(url));
    }
    let rows = query
        .order_by_desc(webhook::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    attach_events(db, rows).await
}

/// Loads the subscriptions of many webhooks in one query.
async fn attach_events(
    db: &impl ConnectionTrait,
    rows: Vec<webhook::Model>,
) -> Result<Vec<Webhook>, DbErr> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut by_webhook: HashMap<Uuid, Vec<String>> = HashMap::new();
    for sub in webhook_event::Entity::find()
        .filter(webhook_event::Column::WebhookId.is_in(ids))
        .all(db)
        .await?
    {
        by_webhook
            .entry(sub.webhook_id)
            .or_default()
            .push(sub.event_type);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut events = by_webhook.remove(&row.id).unwrap_or_default();
            events.sort_by_key(|name| catalog::position(name));
            Webhook { row, events }
        })
        .collect())
}

/// Applies validated changes in one transaction; `None` when the webhook is not the org's.
pub async fn update(
    store: &Store,
    org: &OrgId,
    id: Uuid,
    changes: WebhookChanges,
) -> Result<Option<Webhook>, DbErr> {
    let txn = crate::infra::db::begin_write(&store.db).await?;
    let Some(current) = webhook::Entity::find_by_id(id)
        .filter(webhook::Column::OrgId.eq(org.as_str()))
        .filter(webhook::Column::DeletedAt.is_null())
        .one(&txn)
        .await?
    else {
        return Ok(None);
    };
    let now = crate::infra::time::now();
    let was = WebhookStatus::from_db(&current.status);
    let mut row: webhook::ActiveModel = current.clone().into();
    if let Some(name) = changes.name {
        row.name = Set(name);
    }
    if let Some(url) = changes.url {
        row.url = Set(url);
    }
    if let Some(limit) = changes.rate_limit {
        row.rate_limit = Set(limit);
    }
    // No longer one at a time: whatever waited in line goes now.
    let line_released = current.ordered && changes.ordered == Some(false);
    if let Some(ordered) = changes.ordered {
        row.ordered = Set(ordered);
    }
    let mut queued = Queued::default();
    if line_released {
        crate::domain::ordered::release_all(&txn, id, org.as_str(), &mut queued).await?;
    }
    if let Some(secret) = changes.secret {
        let overlap = changes.secret_overlap;
        rotate_secret(&mut row, &current, secret, now, overlap, &store.secrets);
    }
    let transition = changes.status.filter(|status| *status != was);
    match transition {
        Some(WebhookStatus::Disabled) => {
            row.status = Set(WebhookStatus::Disabled.as_str().to_owned());
            row.disabled_reason = Set(Some(DISABLED_BY_HAND.to_owned()));
            row.disabled_at = Set(Some(now));
        }
        Some(WebhookStatus::Active) => {
            row.status = Set(WebhookStatus::Active.as_str().to_owned());
            row.disabled_reason = Set(None);
            row.disabled_at = Set(None);
            // A fresh start: the failures that disabled it are not held against it again.
            row.consecutive_failures = Set(0);
            row.failing_since = Set(None);
        }
        None => {}
    }
    row.updated_at = Set(now);
    let saved = row.update(&txn).await?;
    match transition {
        Some(WebhookStatus::Disabled) => {
            crate::domain::auto_disable::announce_disabled(&txn, &saved, &mut queued).await?
        }
        Some(WebhookStatus::Active) => {
            crate::domain::auto_disable::announce_enabled(&txn, &saved, &mut queued).await?
        }
        None => {}
    }
    if let Some(events) = changes.events {
        webhook_event::Entity::delete_many()
            .filter(webhook_event::Column::WebhookId.eq(id))
            .exec(&txn)
            .await?;
        webhook_event::Entity::insert_many(subscription_rows(org, id, &events))
            .exec(&txn)
            .await?;
    }
    let updated = find(&txn, org, id).await?;
    if !queued.is_empty() {
        // Disabling or enabling published `webhook.disabled` / `webhook.enabled`; a released
        // line is due now.
        queued.write(&txn).await?;
        store.wake.commit(txn).await?;
    } else {
        crate::infra::db::commit(txn).await?;
    }
    Ok(updated)
}

/// Sets a new secret (or none). The one it replaces keeps signing for `overlap`, so receivers
/// can switch without rejecting deliveries in between; removing the secret drops both.
fn rotate_secret(
    row: &mut webhook::ActiveModel,
    current: &webhook::Model,
    secret: Option<String>,
    now: chrono::DateTime<chrono::Utc>,
    overlap: std::time::Duration,
    secrets: &SecretBox,
) {
    // Compared as the secrets themselves: sealing the same one twice gives different bytes.
    let id = &current.id;
    let was = current
        .secret
        .as_deref()
        .map(|stored| secrets.open(id, SecretField::Secret, stored).ok());
    let unchanged = was == Some(secret.clone());
    let keep_old = secret.is_some() && current.secret.is_some() && !unchanged;
    let secret = secret.map(|secret| secrets.seal(id, SecretField::Secret, &secret));
    if unchanged {
        return;
    }
    // Sealed again for the column it moves to: a value is bound to its column.
    let old = was
        .flatten()
        .map(|plain| secrets.seal(id, SecretField::PreviousSecret, &plain));
    if keep_old && !overlap.is_zero() && old.is_some() {
        row.previous_secret = Set(old);
        row.previous_secret_until = Set(Some(
            now + chrono::Duration::from_std(overlap).unwrap_or_default(),
        ));
    } else {
        row.previous_secret = Set(None);
        row.previous_secret_until = Set(None);
    }
    row.secret = Set(secret);
}

/// Deletes a webhook: gone at once for every query, its deliveries and logs purged in the
/// background. `false` when not found.
pub async fn delete(db: &DatabaseConnection, org: &OrgId, id: Uuid) -> Result<bool, DbErr> {
    let txn = crate::infra::db::begin_write(db).await?;
    let which = Condition::all()
        .add(webhook::Column::Id.eq(id))
        .add(webhook::Column::OrgId.eq(org.as_str()));
    let marked = super::mark_deleted(&txn, which).await?;
    crate::infra::db::commit(txn).await?;
    let found = !marked.is_empty();
    super::purge_later(db.clone(), marked);
    Ok(found)
}

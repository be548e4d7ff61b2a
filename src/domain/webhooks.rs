//! Webhooks: where an organization's events go. Validation of what a client may set, and the
//! tenant-scoped queries (every one filters by organization).

use std::collections::HashMap;

use entity::{webhook, webhook_event};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{named::Named, platform::Platform};
use crate::{
    catalog,
    domain::{field_error::FieldError, org::OrgId, quota::QuotaError, store::Store},
    infra::{cipher::SecretBox, ids::new_id},
};

const MAX_NAME_CHARS: usize = 100;
const SECRET_CHARS: std::ops::RangeInclusive<usize> = 8..=256;
/// More names than the catalog has types is a mistake (or an attack on the parser's time).
const MAX_EVENTS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookStatus {
    /// Receives deliveries.
    Active,
    /// Kept, but receives nothing until enabled again.
    Disabled,
}

impl Named for WebhookStatus {
    const ALL: &'static [Self] = &[Self::Active, Self::Disabled];

    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }
}

impl WebhookStatus {
    pub fn from_db(value: &str) -> Self {
        Self::parse(value).unwrap_or(Self::Active)
    }
}

/// Who created a webhook: the API (dashboard) or a no-code platform's REST-hook subscribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookSource {
    Api,
    Platform(Platform),
}

impl Named for WebhookSource {
    const ALL: &'static [Self] = &[
        Self::Api,
        Self::Platform(Platform::Zapier),
        Self::Platform(Platform::Make),
        Self::Platform(Platform::N8n),
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Platform(platform) => platform.as_str(),
        }
    }
}

impl WebhookSource {
    pub fn from_db(value: &str) -> Self {
        Self::parse(value).unwrap_or(Self::Api)
    }

    /// As a person writes it, in names and messages.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Api => "API",
            Self::Platform(platform) => platform.display_name(),
        }
    }
}

/// A webhook row with the event types it subscribes to.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub row: webhook::Model,
    pub events: Vec<String>,
}

pub fn validate_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Known, subscribable event types, de-duplicated, in catalog order.
pub fn validate_events<S: AsRef<str>>(events: &[S]) -> Result<Vec<&'static str>, Vec<FieldError>> {
    if events.is_empty() {
        return Err(vec![FieldError::new(
            "events",
            "must name at least one event type",
        )]);
    }
    if events.len() > MAX_EVENTS {
        return Err(vec![FieldError::new(
            "events",
            format!("must name at most {MAX_EVENTS} event types"),
        )]);
    }
    let mut errors = Vec::new();
    let mut chosen = Vec::new();
    for (i, name) in events.iter().enumerate() {
        match catalog::subscribable_type(name.as_ref()) {
            Ok(event) => chosen.push(event.name),
            Err(why) => errors.push(FieldError::new(format!("events[{i}]"), why)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    chosen.sort_by_key(|name| catalog::EVENT_TYPES.iter().position(|e| e.name == *name));
    chosen.dedup();
    Ok(chosen)
}

pub fn validate_secret(secret: &str) -> Result<String, FieldError> {
    let chars = secret.chars().count();
    if !SECRET_CHARS.contains(&chars) {
        return Err(FieldError::new(
            "secret",
            format!(
                "must be {} to {} characters",
                SECRET_CHARS.start(),
                SECRET_CHARS.end()
            ),
        ));
    }
    if crate::infra::cipher::looks_sealed(secret) {
        return Err(FieldError::new(
            "secret",
            "must not start with `enc:v1:`, which marks encrypted secrets",
        ));
    }
    if secret.chars().any(char::is_control) {
        return Err(FieldError::new(
            "secret",
            "must not contain control characters",
        ));
    }
    Ok(secret.to_owned())
}

/// A webhook whose fields have all been validated.
pub struct NewWebhook {
    pub name: String,
    pub url: String,
    pub events: Vec<&'static str>,
    pub secret: Option<String>,
    pub status: WebhookStatus,
    pub source: WebhookSource,
    /// Trigger filters (`{"message_type": "text"}`), already checked against the catalog.
    pub filters: Option<serde_json::Value>,
}

/// Validated changes; `None` leaves a field alone, `secret: Some(None)` removes the secret.
#[derive(Default)]
pub struct WebhookChanges {
    pub name: Option<String>,
    pub url: Option<String>,
    pub events: Option<Vec<&'static str>>,
    pub secret: Option<Option<String>>,
    pub status: Option<WebhookStatus>,
    /// When the secret is replaced, how long the old one keeps signing too.
    pub secret_overlap: std::time::Duration,
}

/// Why a webhook disabled by a `PATCH` is disabled.
const DISABLED_BY_HAND: &str = "disabled through the API";

fn subscription_rows(
    org: &OrgId,
    webhook_id: &str,
    events: &[&str],
) -> Vec<webhook_event::ActiveModel> {
    events
        .iter()
        .map(|event| webhook_event::ActiveModel {
            webhook_id: Set(webhook_id.to_owned()),
            event_type: Set((*event).to_owned()),
            org_id: Set(org.to_string()),
        })
        .collect()
}

impl NewWebhook {
    /// Whether saving it sends a `webhook.test` event.
    pub fn gets_test_event(&self) -> bool {
        self.status == WebhookStatus::Active && self.source == WebhookSource::Api
    }
}

/// Stores a webhook (its secret sealed by `secrets`), unless the organization already has
/// `quota` of them.
pub async fn insert(store: &Store, org: &OrgId, new: NewWebhook) -> Result<Webhook, QuotaError> {
    let secrets = &store.secrets;
    let now = crate::infra::time::now();
    let id = new_id("wh");
    let sends_test = new.gets_test_event();
    let txn = crate::infra::db::begin_write(&store.db).await?;
    crate::domain::quota::room_for_webhook(&txn, org, store.quotas.webhooks).await?;
    let row = webhook::ActiveModel {
        id: Set(id.clone()),
        org_id: Set(org.to_string()),
        name: Set(new.name),
        url: Set(new.url),
        secret: Set(new.secret.map(|secret| secrets.seal(&id, &secret))),
        status: Set(new.status.as_str().to_owned()),
        source: Set(new.source.as_str().to_owned()),
        filters: Set(new.filters),
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
    webhook_event::Entity::insert_many(subscription_rows(org, &id, &new.events))
        .exec(&txn)
        .await?;
    // The document: "Click Save. Kaanha AI will immediately send a test event." Written in the
    // same transaction, so a saved webhook always has its test delivery.
    // A no-code platform's hook URL would run the user's workflow on it, so only webhooks made
    // here get one.
    if sends_test {
        crate::domain::publish::insert_test_event(&txn, org, &id).await?;
        store.wake.commit(txn).await?;
    } else {
        txn.commit().await?;
    }
    Ok(Webhook {
        row,
        events: new.events.iter().map(|e| (*e).to_owned()).collect(),
    })
}

pub async fn find(
    db: &impl ConnectionTrait,
    org: &OrgId,
    id: &str,
) -> Result<Option<Webhook>, DbErr> {
    let row = webhook::Entity::find_by_id(id)
        .filter(webhook::Column::OrgId.eq(org.as_str()))
        .one(db)
        .await?;
    Ok(attach_events(db, row.into_iter().collect()).await?.pop())
}

/// Whether the organization has this webhook (without loading it).
pub async fn exists(db: &impl ConnectionTrait, org: &OrgId, id: &str) -> Result<bool, DbErr> {
    let count = webhook::Entity::find_by_id(id)
        .filter(webhook::Column::OrgId.eq(org.as_str()))
        .count(db)
        .await?;
    Ok(count > 0)
}

/// One page of an organization's webhooks, newest first, after `cursor` (an id) when given.
pub async fn list(
    db: &impl ConnectionTrait,
    org: &OrgId,
    cursor: Option<&str>,
    limit: u64,
) -> Result<Vec<Webhook>, DbErr> {
    let mut query = webhook::Entity::find().filter(webhook::Column::OrgId.eq(org.as_str()));
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
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut by_webhook: HashMap<String, Vec<String>> = HashMap::new();
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
            events.sort_by_key(|name| catalog::EVENT_TYPES.iter().position(|e| e.name == name));
            Webhook { row, events }
        })
        .collect())
}

/// Applies validated changes in one transaction; `None` when the webhook is not the org's.
pub async fn update(
    store: &Store,
    org: &OrgId,
    id: &str,
    changes: WebhookChanges,
) -> Result<Option<Webhook>, DbErr> {
    let txn = crate::infra::db::begin_write(&store.db).await?;
    let Some(current) = webhook::Entity::find_by_id(id)
        .filter(webhook::Column::OrgId.eq(org.as_str()))
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
            crate::domain::auto_disable::announce_disabled(&txn, &saved).await?
        }
        Some(WebhookStatus::Active) => {
            crate::domain::auto_disable::announce_enabled(&txn, &saved).await?
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
    if transition.is_some() {
        // Disabling or enabling published `webhook.disabled` / `webhook.enabled`.
        store.wake.commit(txn).await?;
    } else {
        txn.commit().await?;
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
    let was = current
        .secret
        .as_deref()
        .map(|stored| secrets.open(&current.id, stored).ok());
    let unchanged = was == Some(secret.clone());
    let keep_old = secret.is_some() && current.secret.is_some() && !unchanged;
    let secret = secret.map(|secret| secrets.seal(&current.id, &secret));
    if unchanged {
        return;
    }
    if keep_old && !overlap.is_zero() {
        row.previous_secret = Set(current.secret.clone());
        row.previous_secret_until = Set(Some(
            now + chrono::Duration::from_std(overlap).unwrap_or_default(),
        ));
    } else {
        row.previous_secret = Set(None);
        row.previous_secret_until = Set(None);
    }
    row.secret = Set(secret);
}

/// Deletes a webhook with its subscriptions, deliveries and logs. `false` when not found.
pub async fn delete(db: &impl ConnectionTrait, org: &OrgId, id: &str) -> Result<bool, DbErr> {
    let result = webhook::Entity::delete_many()
        .filter(webhook::Column::Id.eq(id))
        .filter(webhook::Column::OrgId.eq(org.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

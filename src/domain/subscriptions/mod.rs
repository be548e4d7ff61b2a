//! REST-hook subscriptions for Zapier, Make and n8n. A subscription is a webhook whose source
//! is the platform: one delivery path, one log, and a 410 from its URL removes it.

use entity::webhook;
use sea_orm::{ColumnTrait, DbErr};

use uuid::Uuid;

use crate::{
    domain::{
        named::Named,
        org::OrgId,
        platform::Platform,
        quota::QuotaError,
        store::Store,
        webhooks::{self, NewWebhook, Webhook, WebhookChanges, WebhookSource},
    },
    infra::cipher::SecretField,
};

mod parse;

pub use parse::{SubscriptionRequest, trigger_filters};

/// Most subscriptions one list call returns.
pub const LIST_LIMIT: u64 = 100;

/// A checked subscribe request: made only by [`Subscription::parse`].
pub struct Subscription {
    target_url: String,
    events: Vec<&'static str>,
    filters: Option<serde_json::Value>,
    secret: Option<String>,
}

/// Subscribes, or returns the identical subscription that already exists (a platform retrying
/// its subscribe call must not double deliveries). The flag says whether one was created.
pub async fn subscribe(
    store: &Store,
    org: &OrgId,
    platform: Platform,
    wanted: Subscription,
) -> Result<(Webhook, bool), QuotaError> {
    let db = &store.db;
    let source = WebhookSource::Platform(platform);
    let existing =
        webhooks::list_by_source(db, org, source, Some(&wanted.target_url), LIST_LIMIT).await?;
    if let Some(same) = existing.into_iter().find(|hook| {
        hook.events
            .iter()
            .map(String::as_str)
            .eq(wanted.events.iter().copied())
            && hook.row.filters == wanted.filters
    }) {
        // A platform that lost its copy of the secret (n8n's static data, say) subscribes
        // again with a new one: from now on deliveries are signed with it.
        let same = match wanted.secret {
            Some(secret) if !holds_secret(store, &same, &secret) => {
                replace_secret(store, org, same.row.id, secret)
                    .await?
                    .unwrap_or(same)
            }
            _ => same,
        };
        return Ok((same, false));
    }
    let name = format!("{}: {}", source.display_name(), wanted.events.join(", "));
    let created = webhooks::insert(
        store,
        org,
        NewWebhook::subscription(
            platform,
            name.chars().take(100).collect(),
            wanted.target_url,
            wanted.events,
            wanted.secret,
            wanted.filters,
        ),
    )
    .await?;
    Ok((created, true))
}

/// Whether the subscription signs with this secret now.
fn holds_secret(store: &Store, hook: &Webhook, secret: &str) -> bool {
    let stored = hook.row.secret.as_deref();
    stored
        .and_then(|sealed| {
            let field = SecretField::Secret;
            store.secrets.open(&hook.row.id, field, sealed).ok()
        })
        .as_deref()
        == Some(secret)
}

/// Signs with `secret` from now on; the old one stops at once (its holder has lost it).
async fn replace_secret(
    store: &Store,
    org: &OrgId,
    id: Uuid,
    secret: String,
) -> Result<Option<Webhook>, DbErr> {
    let changes = WebhookChanges {
        secret: Some(Some(secret)),
        secret_overlap: std::time::Duration::ZERO,
        ..WebhookChanges::default()
    };
    webhooks::update(store, org, id, changes).await
}

/// The subscription's first event type and its filters: what a sample for it is made of.
pub fn sample_of(
    hook: &Webhook,
) -> Option<(
    &'static crate::catalog::EventType,
    Option<&serde_json::Value>,
)> {
    let first = hook.events.first()?;
    Some((crate::catalog::find(first)?, hook.row.filters.as_ref()))
}

/// The platform's subscription with this id in the organization.
pub async fn find(
    db: &impl sea_orm::ConnectionTrait,
    org: &OrgId,
    platform: Platform,
    id: Uuid,
) -> Result<Option<Webhook>, DbErr> {
    let source = WebhookSource::Platform(platform);
    Ok(webhooks::find(db, org, id)
        .await?
        .filter(|hook| hook.row.source == source.as_str()))
}

/// Removes a subscription; `false` when there was none (already removed, or not this
/// platform's or organization's). Its deliveries and logs are purged in the background.
pub async fn unsubscribe(
    db: &sea_orm::DatabaseConnection,
    org: &OrgId,
    platform: Platform,
    id: Uuid,
) -> Result<bool, DbErr> {
    let source = WebhookSource::Platform(platform);
    let which = sea_orm::Condition::all()
        .add(webhook::Column::Id.eq(id))
        .add(webhook::Column::OrgId.eq(org.as_str()))
        .add(webhook::Column::Source.eq(source.as_str()));
    let removed = webhooks::mark_deleted(db, which).await?;
    let found = !removed.is_empty();
    webhooks::purge_later(db.clone(), removed);
    Ok(found)
}

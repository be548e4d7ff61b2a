//! Who gets an event: the organization's active webhooks subscribed to its type, read once per
//! transaction however many publishes it holds.

use std::{collections::HashMap, sync::Arc};

use entity::{webhook, webhook_event};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, JoinType, QueryFilter,
    QuerySelect, RelationTrait,
};
use serde_json::Value;

use crate::domain::{named::Named, org::OrgId, webhooks::WebhookStatus};

/// What a transaction has read about webhooks, so that a group commit of many single publishes
/// reads it once: per organization and event type, the active webhooks subscribed (id and
/// filters only: an organization may have thousands), and whole webhooks for the deliveries
/// handed to the engine.
#[derive(Default)]
pub struct FanOut {
    subscribed: HashMap<(String, &'static str), Vec<Target>>,
    pub(super) webhooks: HashMap<String, Arc<webhook::Model>>,
}

impl FanOut {
    pub(super) async fn subscribed(
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
    pub(super) async fn load_webhooks<'a>(
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

/// A webhook subscribed to an event type, with its filters.
#[derive(FromQueryResult)]
pub(super) struct Target {
    pub(super) webhook_id: String,
    pub(super) filters: Option<Value>,
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

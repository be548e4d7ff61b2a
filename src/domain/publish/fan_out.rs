//! Who gets an event: the organization's active webhooks subscribed to its type, read once per
//! transaction however many publishes it holds, whole (the engine sends with them) in one query.

use std::{collections::HashMap, sync::Arc};

use entity::{webhook, webhook_event};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, QueryFilter, QuerySelect,
    RelationTrait,
};

use uuid::Uuid;

use crate::domain::{named::Named, org::OrgId, webhooks::WebhookStatus};

/// What a transaction has read about webhooks, so that a group commit of many single publishes
/// reads it once: per organization and event type, the active webhooks subscribed, and by id
/// for the deliveries handed to the engine.
///
/// Read whole in the query that finds them: at a moderate rate each publish is a transaction of
/// its own, and a second query for the webhooks the engine sends with was a quarter of its round
/// trips. An organization with thousands of webhooks on one type reads them whole, as it would
/// to send to them.
#[derive(Default)]
pub struct FanOut {
    subscribed: HashMap<(String, &'static str), Vec<Arc<webhook::Model>>>,
    pub(super) webhooks: HashMap<Uuid, Arc<webhook::Model>>,
}

impl FanOut {
    pub(super) async fn subscribed(
        &mut self,
        txn: &impl ConnectionTrait,
        org: &OrgId,
        event_type: &'static str,
    ) -> Result<&[Arc<webhook::Model>], DbErr> {
        let key = (org.to_string(), event_type);
        if !self.subscribed.contains_key(&key) {
            let found: Vec<Arc<webhook::Model>> = subscribed_webhooks(txn, org, event_type)
                .await?
                .into_iter()
                .map(Arc::new)
                .collect();
            for webhook in &found {
                self.webhooks.insert(webhook.id, webhook.clone());
            }
            self.subscribed.insert(key.clone(), found);
        }
        Ok(&self.subscribed[&key])
    }
}

/// Active webhooks of the organization subscribed to the type (index: org, event type).
async fn subscribed_webhooks(
    db: &impl ConnectionTrait,
    org: &OrgId,
    event_type: &str,
) -> Result<Vec<webhook::Model>, DbErr> {
    webhook::Entity::find()
        .join(JoinType::InnerJoin, webhook::Relation::WebhookEvent.def())
        .filter(webhook_event::Column::OrgId.eq(org.as_str()))
        .filter(webhook_event::Column::EventType.eq(event_type))
        .filter(webhook::Column::Status.eq(WebhookStatus::Active.as_str()))
        .all(db)
        .await
}

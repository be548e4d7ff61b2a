//! What one organization may keep and send by hand, so that a careless or hostile tenant
//! cannot fill the database or turn the gateway's outbound requests into its own flood.

use std::time::Duration;

use entity::{api_key, webhook};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};

use crate::{domain::org::OrgId, infra::throttle::Throttle};

/// A write refused by a quota, or a database error.
#[derive(Debug, thiserror::Error)]
pub enum QuotaError {
    #[error("{0}")]
    Full(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Refuses a new webhook once the organization has `limit` (subscriptions included).
pub async fn room_for_webhook(
    db: &impl ConnectionTrait,
    org: &OrgId,
    limit: u64,
) -> Result<(), QuotaError> {
    let held = webhook::Entity::find()
        .filter(webhook::Column::OrgId.eq(org.as_str()))
        .filter(webhook::Column::DeletedAt.is_null())
        .count(db)
        .await?;
    if held >= limit {
        return Err(QuotaError::Full(format!(
            "This organization has {held} webhooks and subscriptions, the most this gateway allows ({limit}); delete one first."
        )));
    }
    Ok(())
}

/// Refuses a new API key once the organization has `limit` keys not revoked.
pub async fn room_for_api_key(
    db: &impl ConnectionTrait,
    org: &OrgId,
    limit: u64,
) -> Result<(), QuotaError> {
    let held = api_key::Entity::find()
        .filter(api_key::Column::OrgId.eq(org.as_str()))
        .filter(api_key::Column::RevokedAt.is_null())
        .count(db)
        .await?;
    if held >= limit {
        return Err(QuotaError::Full(format!(
            "This organization has {held} API keys, the most this gateway allows ({limit}); revoke one first."
        )));
    }
    Ok(())
}

/// Requests sent by hand (test events, manual retries) per organization per minute. Each is an
/// outbound request that anyone holding a key can trigger.
pub struct ManualSends(Throttle<String>);

impl ManualSends {
    pub fn new(per_minute: u32) -> Self {
        Self(Throttle::new(per_minute))
    }

    /// Counts one; once the organization has used up its minute, how long until it is over.
    pub fn take(&self, org: &OrgId) -> Option<Duration> {
        self.0.hit(org.to_string())
    }
}

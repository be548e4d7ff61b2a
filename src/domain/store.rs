//! What the domain's writes go through: the database, and what every write may need beside
//! it — the wake that tells delivery workers, the box that seals secrets, the organization's
//! quotas. Built once at start; handlers pass it down whole instead of its pieces.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::infra::{cipher::SecretBox, wake::Wake};

#[derive(Clone)]
pub struct Store {
    pub db: DatabaseConnection,
    /// Wakes delivery workers when a write makes deliveries due.
    pub wake: Wake,
    /// Seals webhook secrets before they are stored, and opens them to sign.
    pub secrets: Arc<SecretBox>,
    pub quotas: Quotas,
}

/// Most objects one organization may hold (`KAANHA_MAX_WEBHOOKS_PER_ORG`,
/// `KAANHA_MAX_API_KEYS_PER_ORG`).
#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    pub webhooks: u64,
    pub api_keys: u64,
}

//! What every request handler can reach.

use std::{sync::Arc, time::Duration};

use moka::future::Cache;
use sea_orm::DatabaseConnection;

use crate::{
    config::Config,
    domain::{
        actions::Upstream,
        group_commit::{Publisher, Workers},
        handoff::Handoff,
        org::OrgId,
        quota::ManualSends,
        store::Store,
    },
    http::{credentials::Authenticator, error::ApiError, pending_gauge::PendingGauge},
    infra::{
        metrics::Metrics,
        targets::{Lookup, TargetPolicy},
    },
};

pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Config,
    pub auth: Authenticator,
    pub targets: TargetPolicy,
    /// What the domain's writes go through: the database with the wake, the secret box and
    /// the quotas.
    pub store: Store,
    /// Where actions are forwarded; `None` when `KAANHA_UPSTREAM_URL` is not set.
    pub upstream: Option<Upstream>,
    /// The discovery document by base URL, with its ETag.
    pub describe_cache: DescribeCache,
    /// Webhooks' last days by (organization, webhook), for a few seconds: the console asks for
    /// the same chart every few seconds, from every tab open on it.
    pub stats_cache: StatsCache,
    pub metrics: Arc<Metrics>,
    /// Writes publishes, several requests per transaction when they arrive together.
    pub publisher: Publisher,
    /// Test events and manual retries per organization.
    pub manual_sends: ManualSends,
    /// Webhooks created per organization (each sends a test event).
    pub webhook_creations: ManualSends,
    /// Deliveries pending across all instances, for `/metrics`.
    pub pending: Arc<PendingGauge>,
}

impl AppState {
    /// `handoff` is this instance's delivery engine (`None` for the `api` role).
    pub fn new(
        store: Store,
        config: Config,
        lookup: Lookup,
        handoff: Option<Arc<dyn Handoff>>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let db = store.db.clone();
        let upstream = match (&config.upstream_url, &config.security.upstream_jwt_secret) {
            (Some(url), Some(_)) => Some(Upstream::new(url.clone(), &config)?),
            (Some(_), None) => anyhow::bail!(
                "KAANHA_UPSTREAM_URL is set but KAANHA_UPSTREAM_JWT_SECRET is not: forwarded actions are signed with it"
            ),
            (None, _) => None,
        };
        Ok(Self {
            upstream,
            describe_cache: new_describe_cache(),
            stats_cache: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(2))
                .build(),
            metrics,
            publisher: Publisher::start(
                db.clone(),
                crate::domain::group_commit::writers(
                    db.get_database_backend(),
                    config.db_max_connections,
                ),
                Workers {
                    wake: store.wake.clone(),
                    handoff,
                },
            ),
            manual_sends: ManualSends::new(config.limits.manual_sends_per_minute),
            webhook_creations: ManualSends::new(config.limits.webhook_creations_per_minute),
            pending: Arc::default(),
            store,
            auth: Authenticator::new(db.clone(), &config.security),
            targets: TargetPolicy {
                allow_private: config.allow_private_targets,
                allowed_ports: config.security.allowed_ports.clone(),
                lookup,
            },
            db,
            config,
        })
    }
}

impl AppState {
    /// The platform's API, or a 503 saying it is not configured.
    pub fn upstream(&self) -> Result<&Upstream, ApiError> {
        self.upstream.as_ref().ok_or_else(|| {
            ApiError::unavailable(
                "Actions are not available: this gateway is not connected to the platform's API.",
            )
        })
    }

    /// Takes one of the organization's requests sent by hand this minute, or answers 429.
    pub fn manual_sends(&self, org: &OrgId) -> Result<(), ApiError> {
        let wait = self.manual_sends.take(org);
        per_minute(wait, || {
            format!(
                "This organization has sent {} test events, retries and redeliveries by hand in the last minute, the most this gateway allows; wait before sending more.",
                self.config.limits.manual_sends_per_minute
            )
        })
    }

    /// 429 once the organization has created its share of webhooks this minute.
    pub fn webhook_creations(&self, org: &OrgId) -> Result<(), ApiError> {
        let wait = self.webhook_creations.take(org);
        per_minute(wait, || {
            format!(
                "This organization has created {} webhooks in the last minute, the most this gateway allows; wait before creating more.",
                self.config.limits.webhook_creations_per_minute
            )
        })
    }
}

/// A customer's 429: what was used up (never an operator's setting) and when to come back.
fn per_minute(wait: Option<Duration>, detail: impl FnOnce() -> String) -> Result<(), ApiError> {
    match wait {
        None => Ok(()),
        Some(wait) => Err(ApiError::too_many_requests(
            detail(),
            wait.as_secs_f64().ceil().max(1.0) as u64,
        )),
    }
}

pub type StatsCache = Cache<(String, uuid::Uuid), Arc<crate::domain::stats::LastDay>>;

/// Discovery documents by base URL; they change only with the gateway's version and settings.
pub type DescribeCache = Cache<String, Arc<(crate::apps::describe::Describe, String)>>;

pub fn new_describe_cache() -> DescribeCache {
    Cache::builder()
        .max_capacity(64)
        .time_to_live(Duration::from_secs(300))
        .build()
}

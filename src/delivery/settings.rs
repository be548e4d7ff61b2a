//! The engine's settings, read from the configuration once at start.

use std::time::Duration;

use crate::{
    config::{Config, RetrySchedule},
    domain::auto_disable::HealthPolicy,
};

/// How the engine claims, sends, retries and prunes.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub schedule: RetrySchedule,
    pub lease: Duration,
    pub concurrency: usize,
    pub per_webhook: usize,
    pub per_org: usize,
    pub poll_interval: Duration,
    pub retention: Duration,
    pub health: HealthPolicy,
}

impl EngineSettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            schedule: config.retry_schedule.clone(),
            lease: config.lease(),
            concurrency: config.worker_concurrency.max(1),
            per_webhook: config.webhook_concurrency.max(1),
            per_org: config.limits.org_concurrency.max(1),
            poll_interval: config.poll_interval.max(Duration::from_millis(10)),
            retention: config.log_retention,
            health: HealthPolicy::from_config(config),
        }
    }
}

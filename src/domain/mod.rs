//! The domain: what an organization owns and does, independent of HTTP and of the engine.

pub mod actions;
pub mod auto_disable;
pub mod delivery_status;
pub mod field_error;
pub mod group_commit;
pub mod handoff;
pub mod keys;
pub mod log_filter;
pub mod log_search;
pub mod logs;
pub mod named;
pub mod ordered;
pub mod org;
pub mod platform;
pub mod publish;
pub mod quota;
pub mod redeliver;
pub mod reseal;
pub mod scope;
pub mod stats;
pub mod store;
pub mod stretch;
pub mod subscriptions;
pub mod webhooks;

//! kaanha-gateway: the integration gateway of the Kaanha AI platform.

pub mod actions;
pub mod api;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod db;
pub mod deliveries;
pub mod delivery;
pub mod error;
pub mod events;
pub mod health;
pub mod hooks;
pub mod ids;
pub mod integrations;
pub mod keys;
pub mod metrics;
pub mod org;
pub mod publisher;
pub mod scope;
pub mod startup;
pub mod targets;
pub mod tcp_nodelay;
pub mod telemetry;
pub mod throttle;
pub mod time;
pub mod webhooks;

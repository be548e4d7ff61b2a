//! kaanha-gateway: the integration gateway of the Kaanha AI platform.
//!
//! The modules are floors of one house; each imports only from the floors below it
//! (`tests/api/layers.rs` checks this, and `docs/architecture.md` explains it):
//!
//! - [`startup`], [`cli`], [`telemetry`]: the composition root that builds the rest;
//! - [`http`]: routes, auth extraction, problems, the console and the server;
//! - [`apps`]: the describe document and the Zapier, Make and n8n apps made from it;
//! - [`delivery`]: the engine that claims, signs, sends and records deliveries;
//! - [`domain`]: webhooks, subscriptions, publishing, logs, keys, auto-disable, actions;
//! - [`catalog`]: event types, samples and actions, the single source of what exists;
//! - [`infra`]: database, URL policy, encryption, metrics, time;
//! - [`config`]: the settings every floor reads.

pub mod apps;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod http;
pub mod infra;
pub mod startup;
pub mod telemetry;

//! The integration suite: one binary, the real server on a free port, a real SQLite file.

mod database;
mod helpers;
mod receiver;
mod roles;
mod scale;

mod actions;
mod api_keys;
mod auth;
mod cli;
mod connections;
mod crash;
mod describe_only_client;
mod discovery;
mod encryption;
mod engine;
mod errors;
mod events;
mod express;
mod fairness;
mod health;
mod hostile_receivers;
mod isolation;
mod migrations;
mod openapi;
mod platform_apps;
mod receivers;
mod rest_hooks;
mod retries;
mod secrets;
mod signing;
mod ssrf;
mod stats;
mod tenants;
mod webhook_health;
mod webhooks;

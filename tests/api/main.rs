//! The integration suite: one binary, the real server on a free port, a real SQLite file.

mod database;
mod helpers;
mod receiver;
mod roles;
mod scale;

mod api_keys;
mod auth;
mod cli;
mod connections;
mod crash;
mod delivery;
mod encryption;
mod errors;
mod events;
mod express;
mod fairness;
mod health;
mod hostile_receivers;
mod integrations;
mod isolation;
mod migrations;
mod openapi;
mod secrets;
mod ssrf;
mod tenants;
mod upstream;
mod webhook_health;
mod webhooks;

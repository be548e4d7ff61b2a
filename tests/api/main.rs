//! The integration suite: one binary, the real server on a free port, a real SQLite file.

mod helpers;

mod api_keys;
mod auth;
mod cli;
mod errors;
mod health;
mod openapi;
mod webhooks;

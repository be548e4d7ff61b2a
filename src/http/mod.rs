//! The HTTP layer: routes, credentials, problems, the console and the server under them.

pub mod access_log;
pub mod auth;
pub mod body;
pub mod client_ip;
pub mod console;
pub mod credentials;
mod enums;
pub mod error;
pub mod mcp;
pub mod pending_gauge;
pub mod per_client;
pub mod problems;
pub mod routes;
pub mod schema_types;
pub mod server;
pub mod state;
pub mod timestamp;

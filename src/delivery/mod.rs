//! The delivery engine: workers claim due deliveries from the database, POST them signed, and
//! a recorder writes each attempt and the delivery's new state in batches.

mod allot;
mod attempt;
mod claim;
pub mod client;
pub mod handoff;
mod lanes;
mod listen;
mod outcome;
mod pace;
pub mod prune;
mod record;
mod recorder;
pub mod request;
mod sending;
mod settings;
pub mod sign;
mod turns;
mod worker;

pub use settings::EngineSettings;
pub use worker::{Engine, Shared};

/// Header names of a delivery (the document's, then Standard Webhooks'). HTTP names are
/// case-insensitive; `display` writes one as the document does (`X-Kaanha-Signature`).
pub mod headers {
    pub fn display(name: &str) -> String {
        name.split('-')
            .map(|word| {
                let mut chars = word.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect::<Vec<_>>()
            .join("-")
    }

    pub const SIGNATURE: &str = "x-kaanha-signature";
    /// During a secret rotation's overlap: the same signature made with the previous secret.
    pub const PREVIOUS_SIGNATURE: &str = "x-kaanha-signature-previous";
    pub const EVENT: &str = "x-kaanha-event";
    pub const DELIVERY: &str = "x-kaanha-delivery";
    /// `true` on a delivery a replay made: the event was sent before, under the same `id`.
    pub const REPLAY: &str = "x-kaanha-replay";
    pub const WEBHOOK_ID: &str = "webhook-id";
    pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
    pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";
}

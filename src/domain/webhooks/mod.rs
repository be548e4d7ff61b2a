//! Webhooks: where an organization's events go. A REST-hook subscription from Zapier, Make or
//! n8n is a webhook too, whose source is that platform (see `domain::subscriptions`).
//!
//! - `parse`: what a client may set, checked all at once into a [`NewWebhook`] or
//!   [`WebhookChanges`];
//! - `store`: the tenant-scoped queries (every one filters by organization);
//! - `purge`: deleting, which answers at once and removes the rows afterwards.

mod parse;
mod purge;
mod store;

use entity::webhook;
pub use parse::{
    MAX_EVENTS, NewWebhook, WebhookChanges, WebhookPatchRequest, WebhookRequest, validate_name,
};
pub(in crate::domain) use parse::{check_url, validate_secret};
pub use purge::{mark_deleted, purge_all_deleted, purge_later};
pub use store::{delete, exists, find, insert, list, list_by_source, update};

use super::{named::Named, platform::Platform};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookStatus {
    /// Receives deliveries.
    Active,
    /// Kept, but receives nothing until enabled again.
    Disabled,
}

impl Named for WebhookStatus {
    const ALL: &'static [Self] = &[Self::Active, Self::Disabled];

    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }
}

impl WebhookStatus {
    pub fn from_db(value: &str) -> Self {
        Self::parse(value).unwrap_or(Self::Active)
    }
}

/// Who created a webhook: the API (dashboard) or a no-code platform's REST-hook subscribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookSource {
    Api,
    Platform(Platform),
}

impl Named for WebhookSource {
    const ALL: &'static [Self] = &[
        Self::Api,
        Self::Platform(Platform::Zapier),
        Self::Platform(Platform::Make),
        Self::Platform(Platform::N8n),
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Platform(platform) => platform.as_str(),
        }
    }
}

impl WebhookSource {
    pub fn from_db(value: &str) -> Self {
        Self::parse(value).unwrap_or(Self::Api)
    }

    /// As a person writes it, in names and messages.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Api => "API",
            Self::Platform(platform) => platform.display_name(),
        }
    }
}

/// A webhook row with the event types it subscribes to.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub row: webhook::Model,
    pub events: Vec<String>,
}

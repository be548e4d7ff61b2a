//! sea-orm entities of kaanha-gateway. Plain data, as `sea-orm-cli generate` would write it:
//! the rules about these rows live in the gateway crate.

pub mod api_key;
pub mod delivery;
pub mod delivery_attempt;
pub mod event;
pub mod org_queue;
pub mod webhook;
pub mod webhook_event;
pub mod webhook_hour;
pub mod webhook_queue;

pub mod prelude {
    pub use super::{
        api_key::Entity as ApiKey, delivery::Entity as Delivery,
        delivery_attempt::Entity as DeliveryAttempt, event::Entity as Event,
        org_queue::Entity as OrgQueue, webhook::Entity as Webhook,
        webhook_event::Entity as WebhookEvent, webhook_queue::Entity as WebhookQueue,
    };
}

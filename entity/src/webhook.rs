use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: String,
    pub name: String,
    pub url: String,
    pub secret: Option<String>,
    pub status: String,
    pub source: String,
    pub filters: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Deliveries that failed in a row (every retry spent); a delivered one resets it.
    pub consecutive_failures: i32,
    /// When the first of those failures happened.
    pub failing_since: Option<DateTimeUtc>,
    /// Why the webhook was disabled, and when (set by the gateway or by a `PATCH`).
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTimeUtc>,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    /// Most deliveries per second its receiver takes, across every instance; none: no limit.
    pub rate_limit: Option<i32>,
    /// Earliest time (Unix microseconds) its next request may go out under `rate_limit`.
    pub rate_next_us: Option<i64>,
    /// Deliveries go out one at a time, in publish order (`domain::ordered`).
    pub ordered: bool,
    /// The delivery now at the head of its line, if any: only it may be due.
    pub line_head: Option<String>,
    /// Deleted: gone for every query, its deliveries and attempts being purged.
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::webhook_event::Entity")]
    WebhookEvent,
    #[sea_orm(has_many = "super::delivery::Entity")]
    Delivery,
}

impl Related<super::webhook_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::WebhookEvent.def()
    }
}

impl Related<super::delivery::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Delivery.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

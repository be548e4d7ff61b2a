use sea_orm::entity::prelude::*;

/// One event on its way to one webhook. `due_at` and `lease_until` are Unix milliseconds so
/// the claim query compares integers on every database; so are `created_at` and `updated_at`,
/// and the id is 16 bytes (shown as `dlv_` and 32 hex digits): the rows a deployment keeps most
/// of stay small.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: String,
    pub event_id: String,
    pub webhook_id: Uuid,
    pub event_type: String,
    pub status: String,
    pub attempts: i32,
    pub due_at: i64,
    pub lease_until: Option<i64>,
    pub last_response_code: Option<i32>,
    /// Sent again by a replay (`X-Kaanha-Replay: true`), not by the event's publish.
    pub replay: bool,
    /// Times leased (claimed, or handed over at publish).
    pub leases: i32,
    /// `attempts` when its retry schedule last began: 0, or the count at a recover.
    pub schedule_from: i32,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::event::Entity",
        from = "(Column::OrgId, Column::EventId)",
        to = "(super::event::Column::OrgId, super::event::Column::Id)",
        on_delete = "Cascade"
    )]
    Event,
    #[sea_orm(
        belongs_to = "super::webhook::Entity",
        from = "Column::WebhookId",
        to = "super::webhook::Column::Id",
        on_delete = "Cascade"
    )]
    Webhook,
    #[sea_orm(has_many = "super::delivery_attempt::Entity")]
    DeliveryAttempt,
}

impl Related<super::event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Event.def()
    }
}

impl Related<super::webhook::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Webhook.def()
    }
}

impl Related<super::delivery_attempt::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DeliveryAttempt.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

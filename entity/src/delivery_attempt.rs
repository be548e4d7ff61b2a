use sea_orm::entity::prelude::*;

/// One row of a webhook's delivery log: one HTTP attempt and the delivery's state after it.
/// Ids are 16 bytes (shown as `att_` and 32 hex digits) and `created_at` Unix milliseconds. The
/// event's id is its delivery's, not repeated here.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "delivery_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: String,
    pub delivery_id: Uuid,
    pub webhook_id: Uuid,
    pub event_type: String,
    pub attempt: i32,
    pub status: String,
    pub response_code: Option<i32>,
    pub duration_ms: i64,
    pub error: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub response_body: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::delivery::Entity",
        from = "Column::DeliveryId",
        to = "super::delivery::Column::Id",
        on_delete = "Cascade"
    )]
    Delivery,
}

impl Related<super::delivery::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Delivery.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

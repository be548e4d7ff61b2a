use sea_orm::entity::prelude::*;

/// One webhook's attempts in one clock hour: how many left their delivery in each state, and
/// how long they took, as a histogram (each column counts attempts shorter than its bound).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_hours")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub webhook_id: Uuid,
    /// Hours since the Unix epoch.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hour: i64,
    pub org_id: String,
    pub delivered: i64,
    pub pending: i64,
    pub failed: i64,
    pub under_5ms: i64,
    pub under_10ms: i64,
    pub under_25ms: i64,
    pub under_50ms: i64,
    pub under_100ms: i64,
    pub under_250ms: i64,
    pub under_500ms: i64,
    pub under_1s: i64,
    pub under_2500ms: i64,
    pub under_5s: i64,
    pub under_10s: i64,
    pub over_10s: i64,
    /// The longest attempt of the hour.
    pub max_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

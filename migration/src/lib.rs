pub use sea_orm_migration::prelude::*;

mod columns;
mod rebuild;

mod m20261127_000001_create_tables;
mod m20261127_000002_covering_claim_index;
mod m20261127_000003_webhook_health_and_rotation;
mod m20261130_000004_event_ids_per_organization;
mod m20261130_000005_claim_index_with_organization;
mod m20261130_000006_replayed_deliveries;
mod m20261130_000007_webhook_rate_limits;
mod m20261130_000008_ordered_webhooks;
mod m20261202_000009_queues_of_turns;
mod m20261202_000010_delivery_leases;
mod m20261202_000011_redelivery_counts;
mod m20261202_000012_webhook_hours;
mod m20261202_000013_webhook_deleted_at;
mod m20261202_000014_delivery_schedule_start;
mod m20261206_000015_leaner_log_indexes;
mod m20261206_000016_log_without_event_type_index;
mod m20261207_000017_compact_delivery_rows;
mod m20261207_000018_log_without_event_id;
mod m20261207_000019_webhook_ids_as_uuids;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_tables::Migration),
            Box::new(m20261127_000002_covering_claim_index::Migration),
            Box::new(m20261127_000003_webhook_health_and_rotation::Migration),
            Box::new(m20261130_000004_event_ids_per_organization::Migration),
            Box::new(m20261130_000005_claim_index_with_organization::Migration),
            Box::new(m20261130_000006_replayed_deliveries::Migration),
            Box::new(m20261130_000007_webhook_rate_limits::Migration),
            Box::new(m20261130_000008_ordered_webhooks::Migration),
            Box::new(m20261202_000009_queues_of_turns::Migration),
            Box::new(m20261202_000010_delivery_leases::Migration),
            Box::new(m20261202_000011_redelivery_counts::Migration),
            Box::new(m20261202_000012_webhook_hours::Migration),
            Box::new(m20261202_000013_webhook_deleted_at::Migration),
            Box::new(m20261202_000014_delivery_schedule_start::Migration),
            Box::new(m20261206_000015_leaner_log_indexes::Migration),
            Box::new(m20261206_000016_log_without_event_type_index::Migration),
            Box::new(m20261207_000017_compact_delivery_rows::Migration),
            Box::new(m20261207_000018_log_without_event_id::Migration),
            Box::new(m20261207_000019_webhook_ids_as_uuids::Migration),
        ]
    }
}

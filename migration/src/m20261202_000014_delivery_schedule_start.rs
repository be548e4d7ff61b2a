//! Where a delivery's retry schedule starts: the attempts it had made when its schedule last
//! began (0, or its count at a recover). A recover gives a delivery the whole schedule again
//! without numbering its attempts from 1 again, so the log counts every attempt once.

use sea_orm_migration::{prelude::*, schema::integer};

use crate::columns;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [integer(Deliveries::ScheduleFrom).default(0).to_owned()];
        columns::add(manager, Deliveries::Table, columns).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        columns::drop(manager, Deliveries::Table, [Deliveries::ScheduleFrom]).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Deliveries {
    Table,
    ScheduleFrom,
}

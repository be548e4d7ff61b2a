//! How many times each delivery was leased (claimed, or handed to an instance at publish) since
//! its attempts were last counted from zero. A delivery leased several times more than it has
//! recorded attempts is one whose outcomes cannot be written: it is failed, not sent forever.

use sea_orm_migration::{prelude::*, schema::integer};

use crate::columns;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [integer(Deliveries::Leases).default(0).to_owned()];
        columns::add(manager, Deliveries::Table, columns).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        columns::drop(manager, Deliveries::Table, [Deliveries::Leases]).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Deliveries {
    Table,
    Leases,
}

//! Adding and dropping columns one statement each: SQLite alters a table one change at a time.

use sea_orm_migration::prelude::*;

/// Adds each column to `table`.
pub async fn add<T: Iden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    columns: impl IntoIterator<Item = ColumnDef>,
) -> Result<(), DbErr> {
    for mut column in columns {
        manager
            .alter_table(
                Table::alter()
                    .table(table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

/// Drops each column from `table`.
pub async fn drop<T: Iden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    columns: impl IntoIterator<Item = T>,
) -> Result<(), DbErr> {
    for column in columns {
        manager
            .alter_table(Table::alter().table(table).drop_column(column).to_owned())
            .await?;
    }
    Ok(())
}

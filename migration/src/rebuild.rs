//! Rebuilding SQLite tables: SQLite cannot change a column's type or a primary key, so a
//! migration that does creates the new table, copies the rows and swaps the names. Foreign
//! keys are off meanwhile (dropping a parent table would otherwise cascade into its children)
//! and checked before the commit.

use sea_orm_migration::prelude::*;

/// Runs `sqlite` as a rebuild ([`on_sqlite`]) on SQLite, and `postgres` one by one elsewhere
/// (PostgreSQL changes tables in place).
pub async fn per_backend(
    manager: &SchemaManager<'_>,
    sqlite: &[&str],
    postgres: &[&str],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if manager.get_database_backend() == sea_orm::DbBackend::Sqlite {
        return on_sqlite(db, sqlite).await;
    }
    for statement in postgres {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

/// Runs `statements` in one transaction with foreign keys off, and commits only if every row
/// still satisfies its foreign keys.
pub async fn on_sqlite(db: &SchemaManagerConnection<'_>, statements: &[&str]) -> Result<(), DbErr> {
    // Only outside a transaction does this pragma take effect.
    db.execute_unprepared("PRAGMA foreign_keys = OFF").await?;
    let rebuilt = in_one_transaction(db, statements).await;
    db.execute_unprepared("PRAGMA foreign_keys = ON").await?;
    rebuilt
}

async fn in_one_transaction(
    db: &SchemaManagerConnection<'_>,
    statements: &[&str],
) -> Result<(), DbErr> {
    db.execute_unprepared("BEGIN IMMEDIATE").await?;
    let mut done = Ok(());
    for statement in statements {
        done = db.execute_unprepared(statement).await.map(|_| ());
        if done.is_err() {
            break;
        }
    }
    if done.is_ok() {
        let broken = db
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "PRAGMA foreign_key_check",
            ))
            .await?;
        if !broken.is_empty() {
            done = Err(DbErr::Migration(format!(
                "{} rows would break a foreign key after the rebuild",
                broken.len()
            )));
        }
    }
    match done {
        Ok(()) => db.execute_unprepared("COMMIT").await.map(|_| ()),
        Err(err) => {
            db.execute_unprepared("ROLLBACK").await?;
            Err(err)
        }
    }
}

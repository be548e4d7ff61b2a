//! Statements written together in one round trip to SQLite's thread: `BEGIN IMMEDIATE`, the
//! statements, `COMMIT`, sent as one script with every value bound.
//!
//! On SQLite each statement is a hand-off to sqlx's database thread and back, and at a moderate
//! rate those hand-offs (thread wake-ups, not the work inside them) are most of what an event
//! costs. A lone publish through a transaction is seven of them; as a script it is one. The
//! script's text depends only on its statements' shapes, so sqlx prepares it once and keeps it.

use std::sync::{Arc, atomic::Ordering::Relaxed};

use sea_orm::{
    DatabaseConnection, DbErr, RuntimeErr, Statement, Value, Values,
    sqlx::{self, AssertSqlSafe, Executor},
};
use sea_query_sqlx::SqlxValues;

use super::db::{COMMITS, STATEMENTS};

/// Runs `statements` in one transaction of the SQLite database `db`, in one round trip. On any error nothing is
/// written: the transaction is rolled back on the same connection before it is given back
/// (or, if that fails, the connection is closed), so no other statement ever runs inside it.
pub async fn commit_script(db: &DatabaseConnection, statements: &[Statement]) -> Result<(), DbErr> {
    let mut sql = String::from("BEGIN IMMEDIATE;");
    let mut values: Vec<Value> = Vec::new();
    for statement in statements {
        sql.push_str(&statement.sql);
        sql.push(';');
        if let Some(Values(bound)) = &statement.values {
            values.extend(bound.iter().cloned());
        }
    }
    sql.push_str("COMMIT;");

    let pool = db.get_sqlite_connection_pool();
    let mut conn = pool.acquire().await.map_err(exec_err)?;
    let script = sqlx::query_with(AssertSqlSafe(sql), SqlxValues(Values(values)));
    let ran = conn.execute(script).await;
    STATEMENTS.fetch_add(statements.len() as u64, Relaxed);
    let Err(err) = ran else {
        COMMITS.fetch_add(1, Relaxed);
        return Ok(());
    };
    // Failed before `BEGIN` took effect (the database is locked by another process), SQLite
    // says there is no transaction to roll back; anything else leaves this connection unsafe.
    if let Err(rollback) = conn.execute("ROLLBACK").await
        && !rollback.to_string().contains("no transaction is active")
    {
        conn.close_on_drop();
    }
    Err(exec_err(err))
}

fn exec_err(err: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(err)))
}

//! A filtered page of a webhook's log or deliveries reads a bounded stretch of them.
//!
//! A filter no index answers (an event type; `status=delivered` in the log; a status among the
//! deliveries) would otherwise read the webhook's rows newest first until a page of matches
//! turns up: on a busy webhook where the filter rarely matches, every row it holds. So the page
//! is looked for among the newest `STRETCH` rows below its cursor only. When fewer than a page
//! match there, the answer still carries a cursor, where the stretch ended, and the next page
//! reads the stretch below it. A read costs the same whatever the webhook holds, and the log
//! needs no index per filter (each would cost bytes in every row written).

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value, prelude::Uuid};

/// Rows a filtered page looks through at most (the README and the OpenAPI document say 1,000).
pub const STRETCH: u64 = 1_000;

/// A page of rows, and, when the read stopped before a page matched (its stretch ended, or rows
/// it read fell outside the filter), the id it stopped at: the next page continues below it.
#[derive(Debug)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub stopped_at: Option<Uuid>,
}

/// The stretch is found in steps of this many rows. PostgreSQL without statistics assumes any
/// webhook holds a few hundred rows: asked for more in one read, it plans to fetch and sort
/// every row of the webhook (hundreds of milliseconds on a busy one) instead of reading the
/// index in order, which each step does.
const STEP: u64 = 100;

/// The tables a stretch is read from, each by its index (webhook, id).
#[derive(Clone, Copy, Debug)]
pub enum Rows {
    Log,
    Deliveries,
}

/// The id of the `STRETCH`th newest row of the webhook below `below` (`None` when fewer rows
/// remain: the stretch reaches the end). One statement of `STRETCH / STEP` steps, each from the
/// last; the organization is checked by the page's own read.
pub async fn stretch_end(
    db: &impl ConnectionTrait,
    rows: Rows,
    webhook_id: Uuid,
    below: Option<Uuid>,
) -> Result<Option<Uuid>, DbErr> {
    let table = match rows {
        Rows::Log => "delivery_attempts",
        Rows::Deliveries => "deliveries",
    };
    let backend = db.get_database_backend();
    let mark = |i: usize| match backend {
        DbBackend::Postgres => format!("${i}"),
        _ => "?".to_owned(),
    };
    let mut values: Vec<Value> = vec![webhook_id.into()];
    let first_below = match below {
        Some(below) => {
            values.push(below.into());
            format!("AND id < {}", mark(2))
        }
        None => String::new(),
    };
    values.push(webhook_id.into());
    let (steps, skip) = (STRETCH / STEP, STEP - 1);
    let sql = format!(
        "WITH RECURSIVE step(n, last_id) AS ( \
           SELECT 1, (SELECT id FROM {table} WHERE webhook_id = {} {first_below} \
                      ORDER BY id DESC LIMIT 1 OFFSET {skip}) \
           UNION ALL \
           SELECT n + 1, (SELECT id FROM {table} WHERE webhook_id = {} AND id < step.last_id \
                          ORDER BY id DESC LIMIT 1 OFFSET {skip}) \
           FROM step WHERE n < {steps} AND last_id IS NOT NULL) \
         SELECT last_id FROM step WHERE n = {steps}",
        mark(1),
        mark(values.len()),
    );
    let found = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    match found {
        Some(row) => row.try_get::<Option<Uuid>>("", "last_id"),
        None => Ok(None),
    }
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            stopped_at: None,
        }
    }
}

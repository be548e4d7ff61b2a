//! Reading a webhook's deliveries and their log, and retrying one by hand. Every query is
//! scoped to the organization (and to the webhook, except when finding one event or delivery).

use entity::{delivery, delivery_attempt};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, prelude::Uuid, sea_query::Expr,
};

use crate::{
    domain::{
        delivery_status::DeliveryStatus,
        log_filter::LogFilter,
        log_search,
        named::Named,
        ordered,
        org::OrgId,
        store::Store,
        stretch::{Page, Rows, stretch_end},
    },
    infra::{ids::first_uuid_at, queues::Queued, time},
};

/// One page of attempts, newest first: of one webhook, or with `None` of every webhook of the
/// organization (callers pass a `search` then, which reads only the event's deliveries:
/// `log_search`).
/// A webhook's page filtered by event type or `status=delivered` is looked for in a bounded
/// stretch of its log (`stretch`).
pub async fn log_page(
    db: &impl ConnectionTrait,
    org: &OrgId,
    webhook_id: Option<Uuid>,
    filter: LogFilter<'_>,
    limit: u64,
) -> Result<Page<delivery_attempt::Model>, DbErr> {
    if let Some(search) = filter.search {
        return log_search::found_page(db, org, webhook_id, search, &filter, limit).await;
    }
    // A webhook's page is read by webhook alone, and its rows' organization checked once read:
    // with the organization in the same `WHERE`, PostgreSQL without statistics expects a
    // handful of rows and sorts all the webhook's instead of reading its index in order.
    let mut query = delivery_attempt::Entity::find();
    query = match webhook_id {
        Some(webhook_id) => query.filter(delivery_attempt::Column::WebhookId.eq(webhook_id)),
        None => query.filter(delivery_attempt::Column::OrgId.eq(org.as_str())),
    };
    let delivered = DeliveryStatus::Delivered.as_str();
    if let Some(status) = filter.status {
        query = query.filter(delivery_attempt::Column::Status.eq(status));
        // The index by status holds only the rows not delivered; SQLite uses it only when the
        // query repeats its condition.
        if status != delivered {
            query = query.filter(delivery_attempt::Column::Status.ne(delivered));
        }
    }
    if let Some(event_type) = filter.event_type {
        query = query.filter(delivery_attempt::Column::EventType.eq(event_type));
    }
    // Ids sort as their times do: the time range is also an id range, which the index the page
    // is read by (webhook, id) bounds, instead of reading from the newest row down to it.
    let from = filter.since.map(first_uuid_at);
    let below = match (filter.until.map(first_uuid_at), filter.cursor) {
        (Some(until), Some(cursor)) => Some(until.min(cursor)),
        (until, cursor) => until.or(cursor),
    };
    if let Some(below) = below {
        query = query.filter(delivery_attempt::Column::Id.lt(below));
    }
    // The range's older end goes into the `WHERE` only where a stretch bounds the read anyway.
    // Elsewhere the page is read newest first from `below`, and rows from before `since` are
    // dropped once read: as a range closed at both ends, PostgreSQL without statistics expects
    // a handful of rows and sorts every row of the range instead of reading the index in order.
    let unindexed = filter.event_type.is_some() || filter.status == Some(delivered);
    let mut stopped_at = None;
    if let Some(webhook_id) = webhook_id.filter(|_| unindexed) {
        let end = stretch_end(db, Rows::Log, webhook_id, below).await?;
        let older_end = match (end, from) {
            (Some(end), Some(from)) => Some(end.max(from)),
            (end, from) => end.or(from),
        };
        if let Some(older_end) = older_end {
            query = query.filter(delivery_attempt::Column::Id.gte(older_end));
        }
        // A stretch reaching below `since` covered the rest of the range.
        stopped_at = end.filter(|end| from.is_none_or(|from| *end >= from));
    }
    let mut rows = query
        .order_by_desc(delivery_attempt::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let read_all_asked = rows.len() as u64 == limit;
    let oldest_read = rows.last().map(|row| row.id);
    let before_range = |row: &delivery_attempt::Model| from.is_some_and(|f| row.id < f);
    let reached_range_start = rows.last().is_some_and(before_range);
    // An attempt is logged when it ends, so a slow one made before `since` can be logged (and
    // its id made) after it: dropped here, it leaves a page short of what was read, and the
    // next page goes on below the oldest row read. (`until` needs no such check: an id made
    // before `until` belongs to an attempt made before it.)
    rows.retain(|row| {
        row.org_id == org.as_str()
            && !before_range(row)
            && filter
                .since
                .is_none_or(|since| row.created_at >= since.timestamp_millis())
    });
    if read_all_asked && !reached_range_start && (rows.len() as u64) < limit {
        stopped_at = oldest_read;
    }
    Ok(Page { rows, stopped_at })
}

/// What the log shows of a delivery beside each of its attempts.
#[derive(Debug, Clone)]
pub struct DeliveryNow {
    /// Its state now (a later attempt, a retry by hand or a recover may have changed it).
    pub status: String,
    /// Its event's id (the log rows do not repeat it).
    pub event_id: String,
}

/// Each of these deliveries of the organization as it is now, by id: a read by primary key only
/// (with the organization in the same `WHERE`, a database without statistics may read the
/// organization's every delivery instead), the organization checked on the rows found.
pub async fn deliveries_now(
    db: &impl ConnectionTrait,
    org: &OrgId,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, DeliveryNow>, DbErr> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(Uuid, String, String, String)> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .column(delivery::Column::OrgId)
        .column(delivery::Column::Status)
        .column(delivery::Column::EventId)
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, owner, _, _)| owner == org.as_str())
        .map(|(id, _, status, event_id)| (id, DeliveryNow { status, event_id }))
        .collect())
}

/// The newest attempt of each of these webhooks of the organization (none for a webhook never
/// tried), in two reads by index whatever the log holds: each webhook's greatest attempt id in
/// the attempts' index (webhook, id), then those attempts by primary key. (Joined in one
/// statement, PostgreSQL without statistics reads the whole log to hash it. And PostgreSQL
/// has no `MAX` of a `uuid`: the greatest is the first in descending order.)
pub async fn newest_attempts(
    db: &impl ConnectionTrait,
    org: &OrgId,
    webhook_ids: &[Uuid],
) -> Result<Vec<delivery_attempt::Model>, DbErr> {
    if webhook_ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let mark = |i: usize| match backend {
        sea_orm::DbBackend::Postgres => format!("${i}"),
        _ => "?".to_owned(),
    };
    let ids: Vec<String> = (2..webhook_ids.len() + 2).map(mark).collect();
    let sql = format!(
        "SELECT (SELECT a.id FROM delivery_attempts a WHERE a.webhook_id = w.id \
           ORDER BY a.id DESC LIMIT 1) AS newest \
         FROM webhooks w WHERE w.org_id = {} AND w.id IN ({})",
        mark(1),
        ids.join(", ")
    );
    let values =
        std::iter::once(org.as_str().into()).chain(webhook_ids.iter().map(|id| (*id).into()));
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut newest = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(id) = row.try_get::<Option<Uuid>>("", "newest")? {
            newest.push(id);
        }
    }
    if newest.is_empty() {
        return Ok(Vec::new());
    }
    delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::Id.is_in(newest))
        .all(db)
        .await
}

/// One page of a webhook's deliveries, newest first; filtered by status, looked for in a
/// bounded stretch of them (`stretch`).
pub async fn delivery_page(
    db: &impl ConnectionTrait,
    org: &OrgId,
    webhook_id: Uuid,
    status: Option<&str>,
    cursor: Option<Uuid>,
    limit: u64,
) -> Result<Page<delivery::Model>, DbErr> {
    // Read by webhook alone, the organization checked on the rows found (as in `log_page`).
    let mut query = delivery::Entity::find().filter(delivery::Column::WebhookId.eq(webhook_id));
    if let Some(cursor) = cursor {
        query = query.filter(delivery::Column::Id.lt(cursor));
    }
    let mut stopped_at = None;
    if let Some(status) = status {
        query = query.filter(delivery::Column::Status.eq(status));
        stopped_at = stretch_end(db, Rows::Deliveries, webhook_id, cursor).await?;
        if let Some(end) = stopped_at {
            query = query.filter(delivery::Column::Id.gte(end));
        }
    }
    let mut rows = query
        .order_by_desc(delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    rows.retain(|row| row.org_id == org.as_str());
    Ok(Page { rows, stopped_at })
}

pub async fn find(
    db: &impl ConnectionTrait,
    org: &OrgId,
    webhook_id: Uuid,
    delivery_id: Uuid,
) -> Result<Option<delivery::Model>, DbErr> {
    delivery::Entity::find_by_id(delivery_id)
        .filter(delivery::Column::OrgId.eq(org.as_str()))
        .filter(delivery::Column::WebhookId.eq(webhook_id))
        .one(db)
        .await
}

/// Makes a failed delivery due now, for one more attempt, and returns it as it now is; `None`
/// when it was not failed (someone else retried it first, or it never failed).
pub async fn retry_now(
    store: &Store,
    delivery: &delivery::Model,
) -> Result<Option<delivery::Model>, DbErr> {
    let txn = crate::infra::db::begin_write(&store.db).await?;
    let now = time::now();
    // An ordered webhook's delivery takes its place in line by age, like any other.
    let in_line = ordered::is_ordered(&txn, delivery.webhook_id).await?;
    let due_at = if in_line {
        ordered::PARKED
    } else {
        now.timestamp_millis()
    };
    let mut updated = delivery::Entity::update_many()
        .col_expr(
            delivery::Column::Status,
            Expr::value(DeliveryStatus::Pending.as_str()),
        )
        .col_expr(delivery::Column::DueAt, Expr::value(due_at))
        .col_expr(
            delivery::Column::LeaseUntil,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            delivery::Column::UpdatedAt,
            Expr::value(now.timestamp_millis()),
        )
        .filter(delivery::Column::Id.eq(delivery.id))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Failed.as_str()))
        .exec_with_returning(&txn)
        .await?
        .pop();
    let Some(retried) = updated.as_mut() else {
        crate::infra::db::commit(txn).await?;
        return Ok(None);
    };
    let mut queued = Queued::default();
    let now_ms = now.timestamp_millis();
    if in_line {
        let released =
            ordered::release_next(&txn, delivery.webhook_id, now_ms, &mut queued).await?;
        if released == Some(retried.id) {
            retried.due_at = now_ms;
        }
    } else {
        queued.add(retried.webhook_id, &retried.org_id, now_ms);
    }
    queued.write(&txn).await?;
    store.wake.commit(txn).await?;
    Ok(updated)
}

/// The queue across all instances, in one statement: how many deliveries wait for an attempt
/// (the entries of the partial index of pending deliveries: the status is a literal, so the
/// database can tell it may use it), and when the longest-waiting due one became due (Unix ms;
/// `None` when none waits). For the second, only webhooks whose turn has come are looked at
/// (the turns' index), and in each only its first due, unleased entries of that partial index:
/// a read of a few rows whatever the backlog. A rate-limited webhook holding its turn until its
/// next send time waits by design, and is not counted.
pub async fn backlog(db: &impl ConnectionTrait, now_ms: i64) -> Result<(u64, Option<i64>), DbErr> {
    let pending = DeliveryStatus::Pending.as_str();
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM deliveries WHERE status = '{pending}') AS pending, \
           (SELECT MIN((SELECT MIN(d.due_at) FROM deliveries d \
              WHERE d.webhook_id = q.webhook_id AND d.status = '{pending}' AND d.due_at <= {now_ms} \
                AND (d.lease_until IS NULL OR d.lease_until <= {now_ms}))) \
            FROM webhook_queues q WHERE q.ready_at <= {now_ms}) AS oldest"
    );
    let statement = Statement::from_string(db.get_database_backend(), sql);
    let Some(row) = db.query_one_raw(statement).await? else {
        return Ok((0, None));
    };
    let count: i64 = row.try_get("", "pending")?;
    Ok((count.max(0) as u64, row.try_get("", "oldest")?))
}

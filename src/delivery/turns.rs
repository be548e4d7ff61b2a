//! The statements of a claim's turns (docs/architecture.md, "How the engine chooses work"):
//! which organizations and webhooks are next, their due deliveries, and moving each to the back
//! of its line. Each statement has the same text whatever it is given, on PostgreSQL through
//! arrays (`unnest`, `= ANY`), on SQLite through one JSON array (`json_each`), so its prepared
//! form is reused. The one exception is a `LIMIT` per webhook or organization on SQLite, which
//! has no `LATERAL`: there each gets its own small select, joined by `UNION ALL`.
//!
//! Deliveries are read through the partial index of pending ones (`idx_deliveries_pending`); the
//! statements name `status = 'pending'` as a literal so the database can tell they may use it.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value, prelude::Uuid};

use crate::domain::ordered::PARKED;

/// A webhook whose turn has come, as step 2 reads it.
#[derive(Debug, Clone)]
pub(super) struct InTurn {
    pub webhook_id: Uuid,
    pub org_id: String,
    pub ready_at: i64,
    /// Its rate limit.
    pub rate_limit: Option<i32>,
    /// The webhook is deleted: its deliveries are not sent, and its turn is taken away.
    pub gone: bool,
}

fn list(backend: DbBackend, items: &[String]) -> Value {
    match backend {
        DbBackend::Postgres => Value::from(items.to_vec()),
        _ => Value::from(serde_json::to_string(items).expect("strings serialize")),
    }
}

/// Webhook ids as one bound value: a `uuid[]` on PostgreSQL; on SQLite a JSON array of their
/// hex digits, which each statement turns back into the stored bytes (`unhex(value)`).
fn webhook_list(backend: DbBackend, ids: &[Uuid]) -> Value {
    match backend {
        DbBackend::Postgres => Value::from(ids.to_vec()),
        _ => {
            let hex: Vec<String> = ids.iter().map(|id| id.simple().to_string()).collect();
            Value::from(serde_json::to_string(&hex).expect("strings serialize"))
        }
    }
}

fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, sql, values)
}

/// Organizations whose turn has come, longest waiting first, skipping `full` ones. On
/// PostgreSQL they stay locked until the claim commits, and rows another instance holds are
/// skipped: instances claiming at once serve different organizations.
pub(super) async fn organizations(
    db: &impl ConnectionTrait,
    now_ms: i64,
    full: &[String],
    limit: usize,
) -> Result<Vec<String>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT org_id FROM org_queues WHERE ready_at <= $1 AND NOT (org_id = ANY($2)) \
             ORDER BY ready_at, org_id LIMIT $3 FOR UPDATE SKIP LOCKED"
        }
        _ => {
            "SELECT org_id FROM org_queues WHERE ready_at <= ? \
             AND org_id NOT IN (SELECT value FROM json_each(?)) \
             ORDER BY ready_at, org_id LIMIT ?"
        }
    };
    let values = vec![now_ms.into(), list(backend, full), (limit as i64).into()];
    let rows = db.query_all_raw(statement(backend, sql, values)).await?;
    rows.iter().map(|row| row.try_get_by_index(0)).collect()
}

/// Up to `per_org` webhooks of each organization whose turn has come, longest waiting first,
/// skipping `full` ones; with their rate limits. Not in any particular order.
pub(super) async fn webhooks(
    db: &impl ConnectionTrait,
    orgs: &[String],
    now_ms: i64,
    full: &[Uuid],
    per_org: usize,
) -> Result<Vec<InTurn>, DbErr> {
    let backend = db.get_database_backend();
    let (sql, values) = match backend {
        DbBackend::Postgres => (
            "SELECT q.webhook_id, q.org_id, q.ready_at, w.rate_limit, \
                 (w.id IS NULL OR w.deleted_at IS NOT NULL) AS gone \
             FROM unnest($1::text[]) AS o(org_id) \
             CROSS JOIN LATERAL (SELECT webhook_id, org_id, ready_at FROM webhook_queues \
                 WHERE org_id = o.org_id AND ready_at <= $2 AND NOT (webhook_id = ANY($3::uuid[])) \
                 ORDER BY ready_at, webhook_id LIMIT $4) q \
             LEFT JOIN webhooks w ON w.id = q.webhook_id"
                .to_owned(),
            vec![
                list(backend, orgs),
                now_ms.into(),
                webhook_list(backend, full),
                (per_org as i64).into(),
            ],
        ),
        _ => {
            let one = "SELECT * FROM (SELECT webhook_id, org_id, ready_at FROM webhook_queues \
                 WHERE org_id = ? AND ready_at <= ? \
                 AND webhook_id NOT IN (SELECT unhex(value) FROM json_each(?)) \
                 ORDER BY ready_at, webhook_id LIMIT ?)";
            let union = vec![one; orgs.len()].join(" UNION ALL ");
            let full = webhook_list(backend, full);
            let values = orgs
                .iter()
                .flat_map(|org| {
                    [
                        org.as_str().into(),
                        now_ms.into(),
                        full.clone(),
                        (per_org as i64).into(),
                    ]
                })
                .collect();
            (
                format!(
                    "SELECT q.webhook_id, q.org_id, q.ready_at, w.rate_limit, \
                         (w.id IS NULL OR w.deleted_at IS NOT NULL) AS gone \
                     FROM ({union}) q LEFT JOIN webhooks w ON w.id = q.webhook_id"
                ),
                values,
            )
        }
    };
    let rows = db.query_all_raw(statement(backend, &sql, values)).await?;
    rows.iter()
        .map(|row| {
            Ok(InTurn {
                webhook_id: row.try_get_by_index(0)?,
                org_id: row.try_get_by_index(1)?,
                ready_at: row.try_get_by_index(2)?,
                rate_limit: row.try_get_by_index(3)?,
                gone: row.try_get_by_index(4)?,
            })
        })
        .collect()
}

/// Each webhook's due deliveries that no one holds, oldest due first, at most its allotment:
/// `(delivery id, webhook id)`. On PostgreSQL they stay locked until the claim commits.
pub(super) async fn due_deliveries(
    db: &impl ConnectionTrait,
    allotted: &[(Uuid, usize)],
    now_ms: i64,
) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
    if allotted.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let (sql, values) = match backend {
        DbBackend::Postgres => {
            let (webhooks, counts): (Vec<Uuid>, Vec<i64>) = allotted
                .iter()
                .map(|(webhook, n)| (*webhook, *n as i64))
                .unzip();
            (
                "SELECT d.id, d.webhook_id FROM unnest($1::uuid[], $2::int8[]) AS q(webhook_id, n) \
                 CROSS JOIN LATERAL (SELECT id, webhook_id FROM deliveries \
                     WHERE webhook_id = q.webhook_id AND status = 'pending' AND due_at <= $3 \
                     AND (lease_until IS NULL OR lease_until < $3) \
                     ORDER BY due_at LIMIT q.n FOR UPDATE SKIP LOCKED) d"
                    .to_owned(),
                vec![Value::from(webhooks), Value::from(counts), now_ms.into()],
            )
        }
        _ => {
            let one = "SELECT * FROM (SELECT id, webhook_id FROM deliveries \
                 WHERE webhook_id = ? AND status = 'pending' AND due_at <= ? \
                 AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_at LIMIT ?)";
            let values = allotted
                .iter()
                .flat_map(|(webhook, n)| {
                    [
                        (*webhook).into(),
                        now_ms.into(),
                        now_ms.into(),
                        (*n as i64).into(),
                    ]
                })
                .collect();
            (vec![one; allotted.len()].join(" UNION ALL "), values)
        }
    };
    let rows = db.query_all_raw(statement(backend, &sql, values)).await?;
    rows.iter()
        .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
        .collect()
}

/// When each webhook next has a delivery to claim: its next retry, or the end of a lease held
/// on one of its due deliveries; `None` when it has no pending delivery but parked ones.
pub(super) async fn next_claimable(
    db: &impl ConnectionTrait,
    webhooks: &[Uuid],
    now_ms: i64,
) -> Result<Vec<(Uuid, Option<i64>)>, DbErr> {
    if webhooks.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let source = match backend {
        DbBackend::Postgres => "unnest($1::uuid[]) AS q(webhook_id)",
        _ => "(SELECT unhex(value) AS webhook_id FROM json_each(?)) q",
    };
    let now = match backend {
        DbBackend::Postgres => "$2",
        _ => "?",
    };
    // Due ones are few: a claim that found no more free to take found them all held.
    let sql = format!(
        "SELECT q.webhook_id, \
             (SELECT MIN(d.due_at) FROM deliveries d WHERE d.webhook_id = q.webhook_id \
                 AND d.status = 'pending' AND d.due_at > {now} AND d.due_at < {PARKED}), \
             (SELECT MIN(CASE WHEN d.lease_until > d.due_at THEN d.lease_until ELSE d.due_at END) \
                 FROM deliveries d WHERE d.webhook_id = q.webhook_id \
                 AND d.status = 'pending' AND d.due_at <= {now}) \
         FROM {source}"
    );
    let mut values = vec![webhook_list(backend, webhooks), now_ms.into()];
    if backend != DbBackend::Postgres {
        // `?` placeholders bind in order of appearance: the time twice, then the list.
        values = vec![
            now_ms.into(),
            now_ms.into(),
            webhook_list(backend, webhooks),
        ];
    }
    let rows = db.query_all_raw(statement(backend, &sql, values)).await?;
    rows.iter()
        .map(|row| {
            let webhook: Uuid = row.try_get_by_index(0)?;
            let retry: Option<i64> = row.try_get_by_index(1)?;
            let lease_ends: Option<i64> = row.try_get_by_index(2)?;
            let next = match (retry, lease_ends) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            Ok((webhook, next))
        })
        .collect()
}

/// Sets each webhook's next turn.
pub(super) async fn set_webhook_turns(
    db: &impl ConnectionTrait,
    turns: &[(Uuid, i64)],
) -> Result<(), DbErr> {
    if turns.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let (webhooks, times): (Vec<Uuid>, Vec<i64>) = turns.iter().copied().unzip();
    let (sql, values) = match backend {
        DbBackend::Postgres => (
            "UPDATE webhook_queues AS q SET ready_at = v.at \
             FROM unnest($1::uuid[], $2::int8[]) AS v(webhook_id, at) \
             WHERE q.webhook_id = v.webhook_id",
            vec![Value::from(webhooks), Value::from(times)],
        ),
        _ => (
            "UPDATE webhook_queues SET ready_at = v.at \
             FROM (SELECT unhex(w.value) AS webhook_id, t.value AS at \
                 FROM json_each(?) w JOIN json_each(?) t ON t.key = w.key) v \
             WHERE webhook_queues.webhook_id = v.webhook_id",
            vec![
                webhook_list(backend, &webhooks),
                Value::from(serde_json::to_string(&times).expect("numbers serialize")),
            ],
        ),
    };
    db.execute_raw(statement(backend, sql, values)).await?;
    Ok(())
}

/// Takes webhooks with nothing left to claim out of the line.
pub(super) async fn remove_webhooks(
    db: &impl ConnectionTrait,
    webhooks: &[Uuid],
) -> Result<(), DbErr> {
    if webhooks.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "DELETE FROM webhook_queues WHERE webhook_id = ANY($1::uuid[])",
        _ => {
            "DELETE FROM webhook_queues WHERE webhook_id IN \
             (SELECT unhex(value) FROM json_each(?))"
        }
    };
    let values = vec![webhook_list(backend, webhooks)];
    db.execute_raw(statement(backend, sql, values)).await?;
    Ok(())
}

/// Moves each organization visited behind those waiting: its next turn is `now_ms`, or later
/// if none of its webhooks is ready before. Of `maybe_empty`, one with no webhook left leaves
/// the line.
pub(super) async fn requeue_organizations(
    db: &impl ConnectionTrait,
    orgs: &[String],
    maybe_empty: &[String],
    now_ms: i64,
) -> Result<(), DbErr> {
    if orgs.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let (in_list, later) = match backend {
        DbBackend::Postgres => ("= ANY($1)", "GREATEST"),
        _ => ("IN (SELECT value FROM json_each(?))", "MAX"),
    };
    let gone = format!(
        "DELETE FROM org_queues WHERE org_id {in_list} AND NOT EXISTS \
         (SELECT 1 FROM webhook_queues q WHERE q.org_id = org_queues.org_id)"
    );
    if !maybe_empty.is_empty() {
        let values = vec![list(backend, maybe_empty)];
        db.execute_raw(statement(backend, &gone, values)).await?;
    }
    let now = if backend == DbBackend::Postgres {
        "$2"
    } else {
        "?"
    };
    let requeue = format!(
        "UPDATE org_queues SET ready_at = {later}({now}, COALESCE((SELECT MIN(q.ready_at) \
             FROM webhook_queues q WHERE q.org_id = org_queues.org_id), {now})) \
         WHERE org_id {in_list}"
    );
    let values = match backend {
        DbBackend::Postgres => vec![list(backend, orgs), now_ms.into()],
        _ => vec![now_ms.into(), now_ms.into(), list(backend, orgs)],
    };
    db.execute_raw(statement(backend, &requeue, values)).await?;
    Ok(())
}

/// When the earliest webhook not in `full_webhooks` or of `full_orgs` gets its turn.
pub(super) async fn next_turn(
    db: &impl ConnectionTrait,
    full_webhooks: &[Uuid],
    full_orgs: &[String],
) -> Result<Option<i64>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT ready_at FROM webhook_queues \
             WHERE NOT (webhook_id = ANY($1::uuid[])) AND NOT (org_id = ANY($2)) \
             ORDER BY ready_at LIMIT 1"
        }
        _ => {
            "SELECT ready_at FROM webhook_queues \
             WHERE webhook_id NOT IN (SELECT unhex(value) FROM json_each(?)) \
             AND org_id NOT IN (SELECT value FROM json_each(?)) \
             ORDER BY ready_at LIMIT 1"
        }
    };
    let values = vec![
        webhook_list(backend, full_webhooks),
        list(backend, full_orgs),
    ];
    let row = db.query_one_raw(statement(backend, sql, values)).await?;
    row.map(|row| row.try_get_by_index(0)).transpose()
}

/// A rate-limited webhook counts as full until its next reserved send time: no claim looks at
/// it before `at`. Only ever later: its deliveries cannot go out sooner, whoever wrote them.
pub(super) async fn hold_until(
    db: &impl ConnectionTrait,
    webhook_id: Uuid,
    at: i64,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE webhook_queues SET ready_at = GREATEST(ready_at, $1) WHERE webhook_id = $2"
        }
        _ => "UPDATE webhook_queues SET ready_at = MAX(ready_at, ?) WHERE webhook_id = ?",
    };
    let values = vec![at.into(), webhook_id.into()];
    db.execute_raw(statement(backend, sql, values)).await?;
    Ok(())
}

//! A deployment's history, loaded straight into its database with set-based SQL (one
//! `INSERT ... SELECT` per table over a generated series, never one API call per row): many
//! organizations, their webhooks, a month of events with their deliveries and attempts, the
//! per-hour counts the stats read, and a backlog of due deliveries. Skewed as tenant bases are:
//! a few organizations hold most webhooks, a few webhooks most deliveries.

use std::time::{Duration, Instant};

use kaanha_gateway::infra::ids;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, prelude::Uuid};

/// How much history: `--quick` for CI, the sizes otherwise.
#[derive(Debug, Clone, Copy)]
pub struct HistorySize {
    pub orgs: u64,
    pub webhooks: u64,
    pub deliveries: u64,
    pub days: u64,
    /// Due deliveries waiting on rate-limited webhooks when the gateway starts.
    pub backlog: u64,
    /// Deliveries per event: 1 spreads the events over the skewed webhooks; more sends each
    /// event to that many webhooks of the first organization (a fan-out's storage).
    pub fanout: u64,
}

impl HistorySize {
    pub const QUICK: Self = Self {
        orgs: 20,
        webhooks: 400,
        deliveries: 100_000,
        days: 3,
        backlog: 5_000,
        fanout: 1,
    };
    pub const FULL: Self = Self {
        orgs: 1_000,
        webhooks: 20_000,
        deliveries: 20_000_000,
        days: 30,
        backlog: 100_000,
        fanout: 1,
    };
    /// The empty side's: one organization, a page of webhooks, a day's few deliveries, so each
    /// read fills the page it would on the history.
    pub const NEARLY_EMPTY: Self = Self {
        orgs: 1,
        webhooks: 50 + BACKLOG_WEBHOOKS,
        deliveries: 2_000,
        days: 1,
        backlog: 0,
        fanout: 1,
    };
    /// The shape measured from outside: 200,000 deliveries of 10,000 events, one attempt each,
    /// answers of 2 bytes. Only its bytes on disk are read.
    pub const FAN_OUT: Self = Self {
        orgs: 1,
        webhooks: 20 + BACKLOG_WEBHOOKS,
        deliveries: 200_000,
        days: 1,
        backlog: 0,
        fanout: 20,
    };
}

/// Webhooks that hold the backlog: each limited to one delivery a second, so it stays due.
pub const BACKLOG_WEBHOOKS: u64 = 20;
/// One delivery in this many failed.
const FAILED_EVERY: u64 = 50;

/// What the loaded history is, for the reads that follow.
pub struct Loaded {
    pub took: Duration,
    /// The busiest organization and its busiest webhook.
    pub org: String,
    pub webhook: String,
    /// An event of that webhook, from the middle of the history.
    pub event_id: String,
    /// An attempt id from the middle of that webhook's log (a deep cursor).
    pub cursor: String,
    /// A one-hour range in the middle of the history, RFC 3339.
    pub range: (String, String),
}

/// SQL spellings that differ between the two databases.
struct Dialect(DatabaseBackend);

impl Dialect {
    /// `0..n` as rows of a column `i`: the `FROM` part, and what must come before `INSERT`.
    fn series(&self, n: u64) -> (String, String) {
        match self.0 {
            DatabaseBackend::Postgres => (
                String::new(),
                format!("generate_series(0::bigint, {n} - 1) AS n(i)"),
            ),
            _ => (
                format!(
                    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {n} - 1) "
                ),
                "n".to_owned(),
            ),
        }
    }

    /// An id like the gateway's: a prefix and 32 hex digits, the first 12 the time in ms, so
    /// ids sort as their times do.
    fn id(&self, prefix: &str, ms: &str, seq: &str) -> String {
        match self.0 {
            DatabaseBackend::Postgres => format!(
                "'{prefix}_' || lpad(to_hex(({ms})::bigint), 12, '0') || '7000' || lpad(to_hex(({seq})::bigint), 16, '0')"
            ),
            _ => format!("'{prefix}_' || printf('%012x7000%016x', {ms}, {seq})"),
        }
    }

    /// A webhook's, delivery's or log row's id as the gateway stores it: the same UUID as `id`
    /// makes, 16 bytes.
    fn uuid(&self, ms: &str, seq: &str) -> String {
        match self.0 {
            DatabaseBackend::Postgres => format!(
                "(lpad(to_hex(({ms})::bigint), 12, '0') || '7000' || lpad(to_hex(({seq})::bigint), 16, '0'))::uuid"
            ),
            _ => format!("unhex(printf('%012x7000%016x', {ms}, {seq}))"),
        }
    }

    /// A timestamp column's value for Unix milliseconds, as the gateway stores it.
    fn at(&self, ms: &str) -> String {
        match self.0 {
            DatabaseBackend::Postgres => format!("to_timestamp(({ms}) / 1000.0)"),
            _ => format!("strftime('%Y-%m-%dT%H:%M:%f', ({ms}) / 1000.0, 'unixepoch') || '+00:00'"),
        }
    }

    fn float(&self, expr: &str) -> String {
        match self.0 {
            DatabaseBackend::Postgres => format!("(({expr})::double precision)"),
            _ => format!("(CAST({expr} AS REAL))"),
        }
    }

    fn int(&self, expr: &str) -> String {
        match self.0 {
            DatabaseBackend::Postgres => format!("(floor({expr})::bigint)"),
            _ => format!("(CAST({expr} AS INTEGER))"),
        }
    }

    fn boolean(&self, value: bool) -> &'static str {
        match (self.0, value) {
            (DatabaseBackend::Postgres, true) => "true",
            (DatabaseBackend::Postgres, false) => "false",
            (_, true) => "1",
            (_, false) => "0",
        }
    }
}

/// Loads `size` of history into `db` (migrated, empty), ending now; backlog webhooks send to
/// `receiver`.
pub async fn load(
    db: &DatabaseConnection,
    size: HistorySize,
    receiver: &str,
) -> anyhow::Result<Loaded> {
    let started = Instant::now();
    let d = Dialect(db.get_database_backend());
    if d.0 == DatabaseBackend::Sqlite {
        // One connection loads: no journal (a load cut short is thrown away whole), and a
        // cache the indexes fit in. In WAL mode one statement of millions of rows grew a
        // write-ahead log of gigabytes that every page read searched.
        for pragma in [
            "PRAGMA journal_mode = OFF",
            "PRAGMA synchronous = OFF",
            "PRAGMA cache_size = -2000000",
        ] {
            db.execute_unprepared(pragma).await?;
        }
    }
    let now = kaanha_gateway::infra::time::now().timestamp_millis();
    let span = size.days * 86_400_000;
    let start = now - span as i64;
    let (o, w, n) = (size.orgs, size.webhooks - BACKLOG_WEBHOOKS, size.deliveries);
    // Webhook `k`'s organization: a square law, so the first organizations hold the most.
    let org_of = |k: &str| {
        format!(
            "'org_' || {}",
            d.int(&format!(
                "{o} * {x} * {x}",
                x = d.float(&format!("{k} / {}.0", size.webhooks))
            ))
        )
    };
    // Delivery `i`'s webhook: a fourth-power law over a scrambled `i`, so webhook 0 is busiest.
    let scrambled = d.float("(i * 2654435761) % 1000003 / 1000003.0");
    let webhook_of = d.int(&format!("{w} * {s} * {s} * {s} * {s}", s = scrambled));
    let ms_of = format!("({start} + i * {} / {n})", span);

    let (with, from) = d.series(size.webhooks);
    let webhook_id = d.uuid(&start.to_string(), "i");
    let created = d.at(&start.to_string());
    db.execute_unprepared(&format!(
        "{with}INSERT INTO webhooks (id, org_id, name, url, secret, status, source, created_at, updated_at, \
           consecutive_failures, ordered, rate_limit) \
         SELECT {webhook_id}, {org}, 'History ' || i, \
           CASE WHEN i >= {w} THEN '{receiver}/history/' || i ELSE 'https://hooks.example.com/' || i END, \
           'history-secret', 'active', 'api', {created}, {created}, 0, {f}, \
           CASE WHEN i >= {w} THEN 1 ELSE NULL END FROM {from}",
        org = org_of("i"),
        f = d.boolean(false),
    ))
    .await?;
    db.execute_unprepared(
        "INSERT INTO webhook_events (webhook_id, event_type, org_id) \
         SELECT id, 'message.received', org_id FROM webhooks",
    )
    .await?;

    // Each event to `fanout` webhooks: with one, the skewed webhook decides the organization;
    // with more, webhooks `0..fanout` of the first organization.
    let f = size.fanout.max(1);
    let event_ms = |e: &str| format!("({start} + ({e}) * {f} * {span} / {n})");
    let webhook_of = if f == 1 {
        webhook_of
    } else {
        format!("(i % {f})")
    };
    let hook = d.uuid(&start.to_string(), &webhook_of);
    let (with, from) = d.series(n / f);
    let event_hook = d.uuid(&start.to_string(), if f == 1 { &webhook_of } else { "0" });
    let (event_id, at) = (d.id("evt", &event_ms("i"), "i"), d.at(&event_ms("i")));
    let payload = "'{\"id\":\"' || ".to_owned()
        + &event_id
        + " || '\",\"event\":\"message.received\",\"data\":{\"messageId\":\"wamid.' || i || '\",\"contact\":{\"id\":\"c' || (i % 5000) || '\",\"phone\":\"+919876543210\",\"name\":\"Asha\"},\"message\":{\"type\":\"text\",\"text\":\"Hi, I need help with my order\"}}}'";
    db.execute_unprepared(&format!(
        "{with}INSERT INTO events (id, org_id, event_type, payload, created_at) \
         SELECT {event_id}, w.org_id, 'message.received', {payload}, {at} \
         FROM {from} JOIN webhooks w ON w.id = {event_hook}"
    ))
    .await?;
    let (with, from) = d.series(n);
    let event_id = d.id("evt", &event_ms(&format!("i / {f}")), &format!("i / {f}"));
    // Deliveries and log rows keep their times as Unix milliseconds.
    let at = &ms_of;
    let delivery_id = d.uuid(&ms_of, "i");
    let failed = format!("i % {FAILED_EVERY} = 0");
    db.execute_unprepared(&format!(
        "{with}INSERT INTO deliveries (id, org_id, event_id, webhook_id, event_type, status, attempts, due_at, \
           last_response_code, created_at, updated_at, replay, leases, schedule_from) \
         SELECT {delivery_id}, w.org_id, {event_id}, w.id, 'message.received', \
           CASE WHEN {failed} THEN 'failed' ELSE 'delivered' END, 1, {ms_of}, \
           CASE WHEN {failed} THEN 500 ELSE 200 END, {at}, {at}, {f}, 1, 0 \
         FROM {from} JOIN webhooks w ON w.id = {hook}",
        f = d.boolean(false),
    ))
    .await?;
    let attempt_id = d.uuid(&ms_of, "i");
    db.execute_unprepared(&format!(
        "{with}INSERT INTO delivery_attempts (id, org_id, delivery_id, webhook_id, event_type, attempt, \
           status, response_code, duration_ms, error, response_body, created_at) \
         SELECT {attempt_id}, w.org_id, {delivery_id}, w.id, 'message.received', 1, \
           CASE WHEN {failed} THEN 'failed' ELSE 'delivered' END, CASE WHEN {failed} THEN 500 ELSE 200 END, \
           5 + i % 50, CASE WHEN {failed} THEN 'receiver answered 500 Internal Server Error' ELSE NULL END, \
           CASE WHEN {failed} THEN 'upstream unavailable' ELSE 'OK' END, {at} \
         FROM {from} JOIN webhooks w ON w.id = {hook}"
    ))
    .await?;
    // What the recorder would have counted, hour by hour.
    db.execute_unprepared(
        "INSERT INTO webhook_hours (webhook_id, hour, org_id, delivered, pending, failed, under_5ms, under_10ms, \
           under_25ms, under_50ms, under_100ms, under_250ms, under_500ms, under_1s, under_2500ms, under_5s, \
           under_10s, over_10s, max_ms) \
         SELECT webhook_id, due_at / 3600000, MIN(org_id), \
           SUM(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END), 0, \
           SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), \
           0, 0, COUNT(*), 0, 0, 0, 0, 0, 0, 0, 0, 0, 54 \
         FROM deliveries GROUP BY webhook_id, due_at / 3600000",
    )
    .await?;

    // The backlog: due now, on the rate-limited webhooks, with their turns.
    if size.backlog > 0 {
        load_backlog(db, &d, size, start, now).await?;
    }
    let busiest = d.uuid(&start.to_string(), "0");
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT id, org_id FROM webhooks WHERE id = {busiest}"),
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("the history is empty"))?;
    let webhook = ids::show(ids::WEBHOOK, &row.try_get::<Uuid>("", "id")?);
    let org = row.try_get::<String>("", "org_id")?;
    let middle = start + span as i64 / 2;
    let mid_attempt = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT a.id AS id, d.event_id AS event_id FROM delivery_attempts a \
                 JOIN deliveries d ON d.id = a.delivery_id WHERE a.webhook_id = {busiest} \
                 AND a.id >= {} ORDER BY a.id LIMIT 1",
                d.uuid(&middle.to_string(), "0")
            ),
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("the busiest webhook has no log"))?;
    let cursor = ids::show(ids::ATTEMPT, &mid_attempt.try_get::<Uuid>("", "id")?);
    let event_id = mid_attempt.try_get::<String>("", "event_id")?;
    let hour = |ms: i64| {
        kaanha_gateway::infra::time::format(
            chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default(),
        )
    };
    if d.0 == DatabaseBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode = WAL").await?;
    }
    Ok(Loaded {
        took: started.elapsed(),
        org,
        webhook,
        event_id,
        cursor,
        range: (hour(middle), hour(middle + 3_600_000)),
    })
}

/// Due now, on the rate-limited webhooks (the last `BACKLOG_WEBHOOKS`), with their turns.
async fn load_backlog(
    db: &DatabaseConnection,
    d: &Dialect,
    size: HistorySize,
    start: i64,
    now: i64,
) -> anyhow::Result<()> {
    let (w, n) = (size.webhooks - BACKLOG_WEBHOOKS, size.deliveries);
    let (with, from) = d.series(size.backlog);
    let backlog_hook = d.uuid(&start.to_string(), &format!("{w} + i % {BACKLOG_WEBHOOKS}"));
    let seq = format!("{n} + i");
    let (event_id, delivery_id, at) = (
        d.id("evt", &now.to_string(), &seq),
        d.uuid(&now.to_string(), &seq),
        d.at(&now.to_string()),
    );
    db.execute_unprepared(&format!(
        "{with}INSERT INTO events (id, org_id, event_type, payload, created_at) \
         SELECT {event_id}, w.org_id, 'message.received', '{{\"id\":\"backlog\"}}', {at} \
         FROM {from} JOIN webhooks w ON w.id = {backlog_hook}"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "{with}INSERT INTO deliveries (id, org_id, event_id, webhook_id, event_type, status, attempts, due_at, \
           created_at, updated_at, replay, leases, schedule_from) \
         SELECT {delivery_id}, w.org_id, {event_id}, w.id, 'message.received', 'pending', 0, {now}, {now}, {now}, {f}, 0, 0 \
         FROM {from} JOIN webhooks w ON w.id = {backlog_hook}",
        f = d.boolean(false),
    ))
    .await?;
    db.execute_unprepared(&format!(
        "INSERT INTO webhook_queues (webhook_id, org_id, ready_at) \
         SELECT id, org_id, {now} FROM webhooks WHERE rate_limit IS NOT NULL"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "INSERT INTO org_queues (org_id, ready_at) \
         SELECT DISTINCT org_id, {now} FROM webhooks WHERE rate_limit IS NOT NULL"
    ))
    .await?;
    Ok(())
}

//! Claims beside a rate-limited backlog: another organization's deliveries that go through a
//! claim (a rate-limited webhook's always do), alone and while one webhook limited to one
//! request a second has a backlog of due deliveries. Claims used to read the oldest due
//! deliveries of every organization, so such a backlog filled every claim: the others waited
//! for as long as it took to drain. Now organizations and webhooks take turns, and what one
//! claim costs does not grow with the backlog.

use std::{sync::Arc, time::Duration};

use serde_json::{Value, json};

use crate::{
    Db,
    gateway::{Gateway, post_json},
    neighbours::publish_stamped,
    receiver::Receiver,
    report::{Row, row},
    usage::Usage,
};

/// The quiet organization's claimed deliveries per run, at 50/s.
const EVENTS: usize = 250;
/// How long a run waits for them before it reports what arrived.
const PATIENCE: Duration = Duration::from_secs(60);

pub async fn claims(
    gateway: &Gateway,
    receiver: &Arc<Receiver>,
    db: Db,
    backlog: usize,
) -> anyhow::Result<Vec<Row>> {
    claimed_webhook(gateway, receiver).await?;
    let alone = claimed_run(gateway, receiver, db).await?;

    let limited = json!({"name": "limited", "url": format!("{}/limited", receiver.base),
        "events": ["payment.completed"], "rateLimit": 1});
    create(gateway, &gateway.key, &limited).await?;
    gateway
        .publish_batches("payment.completed", backlog)
        .await?;
    gateway.checkpoint().await?;
    let beside = claimed_run(gateway, receiver, db).await?;

    let p = |run: &Run, q: f64| run.at(q);
    let mut rows = Vec::new();
    for (name, run) in [
        ("alone".to_owned(), &alone),
        (format!("beside {backlog} due deliveries at 1/s"), &beside),
    ] {
        let arrived = run.latencies_ms.len();
        let mut row = row(
            &format!("claims: another organization's claimed deliveries at 50/s, {name}"),
            arrived as u64,
            Duration::from_secs_f64(EVENTS as f64 / 50.0),
            None,
        );
        row.detail = match (p(run, 0.5), p(run, 0.99)) {
            (Some(p50), Some(p99)) if arrived == EVENTS => {
                format!("p50 {p50:.1} ms, p99 {p99:.1} ms")
            }
            _ => format!(
                "only {arrived} of {EVENTS} arrived within {} s",
                PATIENCE.as_secs()
            ),
        };
        row.cost = run.cost;
        rows.push(row);
    }
    if let (Some(a), Some(b)) = (p(&alone, 0.99), p(&beside, 0.99)) {
        rows[1].detail += &format!("; p99 {:.2}× alone", b / a);
    }
    Ok(rows)
}

/// The quiet organization's webhook whose every delivery goes through a claim.
pub async fn claimed_webhook(gateway: &Gateway, receiver: &Receiver) -> anyhow::Result<()> {
    // Limited far above 50/s: only to send every one of its deliveries through a claim.
    let claimed = json!({"name": "claimed", "url": format!("{}/quiet", receiver.base),
        "events": ["message.read"], "rateLimit": 10_000});
    // Its test event goes to `/quiet` too (after other scenarios' deliveries there): waited
    // for, so a run counts only its own events.
    let before = receiver.get("/quiet");
    create(gateway, &gateway.quiet_key, &claimed).await?;
    receiver
        .wait("/quiet", before + 1, Duration::from_secs(10))
        .await;
    Ok(())
}

async fn create(gateway: &Gateway, key: &str, body: &Value) -> anyhow::Result<()> {
    let url = format!("{}/api/webhooks", gateway.base);
    post_json(&gateway.client, url, key, body, 201, "creating a webhook").await
}

/// What one run saw: publish → receipt of what arrived in time, sorted; and the cost per
/// delivery (gateway and database CPU, statements), claims included.
pub struct Run {
    pub latencies_ms: Vec<f64>,
    pub cost: Option<crate::usage::Cost>,
}

impl Run {
    /// The `q` quantile of what arrived, in ms; `None` unless every delivery arrived.
    pub fn at(&self, q: f64) -> Option<f64> {
        let all = self.latencies_ms.len() == EVENTS;
        let i = ((self.latencies_ms.len().max(1) - 1) as f64 * q) as usize;
        self.latencies_ms.get(i).copied().filter(|_| all)
    }
}

pub async fn claimed_run(
    gateway: &Gateway,
    receiver: &Arc<Receiver>,
    db: Db,
) -> anyhow::Result<Run> {
    receiver.quiet_us.lock().unwrap().clear();
    let before_count = receiver.get("/quiet");
    // Marks on standard error, to find the run in a `--gateway-log` statement trace.
    eprintln!("claims run starts {}", unix_ms());
    let before = Usage::read(gateway, db).await;
    publish_stamped(gateway, receiver, "message.read", EVENTS).await?;
    let all = receiver
        .wait("/quiet", before_count + EVENTS as u64, PATIENCE)
        .await
        .is_some();
    let after = Usage::read(gateway, db).await;
    eprintln!("claims run ends {}", unix_ms());
    let mut latencies_ms: Vec<f64> = std::mem::take(&mut *receiver.quiet_us.lock().unwrap())
        .into_iter()
        .map(|us| us as f64 / 1000.0)
        .collect();
    latencies_ms.sort_by(f64::total_cmp);
    Ok(Run {
        cost: all.then(|| after.since(&before, EVENTS as u64)),
        latencies_ms,
    })
}

fn unix_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

//! `--profile year`, live traffic: the same scenarios on the empty gateway and on the history's,
//! in one run (publish at c=64, end to end, a steady 500/s with its CPU per event, another
//! organization's claimed deliveries beside the history's due backlog, the gateway's memory),
//! then retention pruning half the history while a steady rate is published.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use crate::{
    Args, Db, Sizes,
    claims::{Run, claimed_run, claimed_webhook},
    gateway::{Gateway, rss_kib},
    receiver::Receiver,
    report::{Row, row},
    scenarios::steady,
    throughput::{end_to_end, publish_single},
    usage::Usage,
};

/// The steady rate at which CPU per event is read.
const STEADY_RATE: u64 = 500;

/// One side's figures.
pub struct Traffic {
    /// The steady rate's latencies, as its row says them.
    pub steady_detail: String,
    publish: Row,
    end_to_end: Row,
    steady: Row,
    claimed: Run,
    /// Resident memory after the traffic, and its peak, in KiB.
    rss_kib: (u64, u64),
}

/// Runs the traffic on `gateway`; `side` names the receiver paths, so the sides never share.
pub async fn traffic(
    gateway: &Gateway,
    receiver: &Arc<Receiver>,
    db: Db,
    sizes: Sizes,
    ceiling: f64,
    side: &str,
) -> anyhow::Result<Traffic> {
    macro_rules! measured {
        ($scenario:expr) => {{
            let before = Usage::read(gateway, db).await;
            let mut row = $scenario.await?;
            row.cost = Some(Usage::read(gateway, db).await.since(&before, row.count));
            row
        }};
    }
    let publish = measured!(publish_single(gateway, sizes.publish));
    let e2e = format!("/{side}/e2e");
    let end_to_end = measured!(end_to_end(
        gateway,
        receiver,
        sizes.end_to_end,
        ceiling,
        &e2e
    ));
    let latency = format!("/{side}/latency");
    let seconds = sizes.steady_seconds;
    let steady = measured!(steady(gateway, receiver, STEADY_RATE, seconds, &latency));
    claimed_webhook(gateway, receiver).await?;
    let claimed = claimed_run(gateway, receiver, db).await?;
    let rss_kib = (
        rss_kib(gateway.pid, "VmRSS:"),
        rss_kib(gateway.pid, "VmHWM:"),
    );
    Ok(Traffic {
        steady_detail: steady.detail.clone(),
        publish,
        end_to_end,
        steady,
        claimed,
        rss_kib,
    })
}

/// The history's figures beside the empty gateway's, each with history ÷ empty.
pub fn compared(history: Traffic, empty: Traffic, db: Db) -> Vec<Row> {
    let mut rows = Vec::new();
    for (mut h, e) in [
        (history.publish, empty.publish),
        (history.end_to_end, empty.end_to_end),
    ] {
        h.detail = format!(
            "history {:.0}/s, empty {:.0}/s: history ÷ empty {:.2}; {}",
            h.per_second,
            e.per_second,
            h.per_second / e.per_second.max(0.001),
            cpu(&h, &e)
        );
        h.scenario = format!("year: {}", h.scenario);
        rows.push(h);
    }
    let (mut h, e) = (history.steady, empty.steady);
    h.detail = format!("history {}; empty {}; {}", h.detail, e.detail, cpu(&h, &e));
    h.scenario = format!("year: {}", h.scenario);
    rows.push(h);

    let (hc, ec) = (&history.claimed, &empty.claimed);
    let mut claimed = row(
        "year: another organization's claimed deliveries at 50/s, beside the history's due backlog",
        hc.latencies_ms.len() as u64,
        Duration::from_secs(5),
        None,
    );
    claimed.cost = hc.cost;
    let ms = |v: Option<f64>| v.map_or("not all arrived".to_owned(), |v| format!("{v:.1} ms"));
    // On SQLite the database is a thread of the gateway's, already in its figure.
    let per = |c: &Option<crate::usage::Cost>| {
        c.map_or(0.0, |c| match db {
            Db::Sqlite => c.gateway_us,
            Db::Postgres => c.gateway_us + c.database_us,
        })
    };
    claimed.detail = format!(
        "p99 history {}, empty {}; CPU per delivery (gateway + database) history {:.0} µs, empty {:.0} µs: history ÷ empty {:.2}",
        ms(hc.at(0.99)),
        ms(ec.at(0.99)),
        per(&hc.cost),
        per(&ec.cost),
        per(&hc.cost) / per(&ec.cost).max(0.001),
    );
    rows.push(claimed);

    let mut memory = row(
        "year: the gateway's memory after the traffic",
        1,
        Duration::from_secs(1),
        None,
    );
    memory.detail = format!(
        "RSS history {} MiB (peak {}), empty {} MiB (peak {})",
        history.rss_kib.0 / 1024,
        history.rss_kib.1 / 1024,
        empty.rss_kib.0 / 1024,
        empty.rss_kib.1 / 1024
    );
    rows.push(memory);
    rows
}

fn cpu(h: &Row, e: &Row) -> String {
    match (h.cost, e.cost) {
        (Some(h), Some(e)) => format!(
            "CPU per event: gateway history {:.0} µs, empty {:.0} µs; database history {:.0} µs, empty {:.0} µs",
            h.gateway_us, e.gateway_us, h.database_us, e.database_us
        ),
        _ => String::new(),
    }
}

/// Restarts the history's gateway with a retention of half the history, so its first prune
/// deletes half; publishes at the steady rate while it runs. Rows deleted per second, and the
/// steady rate's latency beside the same rate's without pruning (`unpruned`).
pub async fn pruning(
    args: &Args,
    gateway: &mut Gateway,
    receiver: &Arc<Receiver>,
    days: u64,
    seconds: u64,
    unpruned: &str,
) -> anyhow::Result<Row> {
    let retention = format!("{}h", days * 12);
    gateway
        .restart_with(args, &[("KAANHA_LOG_RETENTION", &retention)])
        .await?;
    // The first prune comes a few seconds after start: wait for its first batch.
    let started = Instant::now();
    let mut first = None;
    while first.is_none() && started.elapsed() < Duration::from_secs(60) {
        let n = pruned(gateway).await;
        if n > 0 {
            first = Some((Instant::now(), n));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (from, at_start) = first.ok_or_else(|| anyhow::anyhow!("no prune began within 60 s"))?;
    let path = "/year-history/latency";
    let mut live = steady(gateway, receiver, STEADY_RATE, seconds, path).await?;
    let (until, at_end) = (Instant::now(), pruned(gateway).await);
    let mut r = row(
        "year: retention pruning half the history, with 500 events/s published",
        at_end - at_start,
        until - from,
        None,
    );
    live.detail = live.detail.replace(", max", "; max");
    r.detail = format!(
        "rows deleted (log rows and events) while publishing; publish → receipt during it: {}; without pruning: {}",
        live.detail, unpruned
    );
    Ok(r)
}

/// Rows pruned so far, from `/metrics`.
async fn pruned(gateway: &Gateway) -> u64 {
    let Ok(answer) = gateway
        .client
        .get(format!("{}/metrics", gateway.base))
        .send()
        .await
    else {
        return 0;
    };
    let text = answer.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("kaanha_pruned_rows_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

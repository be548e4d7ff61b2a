//! The scenarios that need more than a publish and a wait: latency, failures, scale, backlog.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    gateway::{Gateway, concurrently, post_json, rss_kib},
    receiver::{Flaky, Receiver},
    report::{Row, row},
};

/// Publish → receipt at a steady `rate`, one `POST /api/events` each (open loop: the next
/// publish leaves on time whether or not the last was answered). The webhook at `path` is
/// made by the first run; later runs at other rates reuse it.
pub async fn steady(
    gateway: &Gateway,
    receiver: &Arc<Receiver>,
    rate: u64,
    seconds: u64,
    path: &str,
) -> anyhow::Result<Row> {
    if receiver.get(path) == 0 {
        gateway.subscribe(receiver, path, "message.sent").await?;
    }
    let received_before = receiver.get(path);
    receiver.latencies_us.lock().unwrap().clear();
    let total = rate * seconds;
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut sends = tokio::task::JoinSet::new();
    let mut refused = Refused::default();
    for _ in 0..total {
        ticks.tick().await;
        let (client, url, key) = (
            gateway.client.clone(),
            format!("{}/api/events", gateway.base),
            gateway.key.clone(),
        );
        let t = receiver.start.elapsed().as_micros() as u64;
        sends.spawn(async move {
            let event = json!({"event": "message.sent", "data": {"t": t}});
            client
                .post(url)
                .bearer_auth(key)
                .header("content-type", "application/json")
                .body(event.to_string())
                .send()
                .await
        });
        while let Some(sent) = sends.try_join_next() {
            refused.note(sent?);
        }
    }
    while let Some(sent) = sends.join_next().await {
        refused.note(sent?);
    }
    // A refused publish is a result of the run (a stall the client could not wait out), not
    // a reason to lose the run's other figures.
    let accepted = total - refused.count;
    receiver
        .wait(path, received_before + accepted, Duration::from_secs(120))
        .await
        .ok_or_else(|| anyhow::anyhow!("the steady-rate scenario did not finish"))?;
    let mut latencies = std::mem::take(&mut *receiver.latencies_us.lock().unwrap());
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    let mut row = row(
        &format!("steady {rate} events/s: publish → receipt"),
        latencies.len() as u64,
        started.elapsed(),
        None,
    );
    row.detail = format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        at(0.50),
        at(0.99),
        at(1.0)
    );
    if let Some(first) = refused.first {
        row.detail += &format!(
            " ({} of {total} publishes not accepted; the first: {first})",
            refused.count
        );
    }
    Ok(row)
}

/// Publishes of a steady run that were not accepted, and why the first was not.
#[derive(Default)]
struct Refused {
    count: u64,
    first: Option<String>,
}

impl Refused {
    fn note(&mut self, sent: reqwest::Result<reqwest::Response>) {
        let why = match sent {
            Ok(answer) if answer.status() == 202 => return,
            Ok(answer) => answer.status().to_string(),
            Err(err) => err.to_string(),
        };
        self.count += 1;
        self.first.get_or_insert(why);
    }
}

/// 30 % of answers are 500: how fast the healthy share gets through, and the retries it costs.
pub async fn failures(
    gateway: &Gateway,
    receiver: &Arc<Receiver>,
    events: usize,
    ceiling: f64,
) -> anyhow::Result<Row> {
    gateway
        .subscribe(receiver, "/flaky", "conversation.opened")
        .await?; // its test event may be a 500
    tokio::time::sleep(Duration::from_millis(1500)).await; // and its retry
    *receiver.flaky.lock().unwrap() = Flaky {
        expected: events,
        ..Flaky::default()
    };
    let started = Instant::now();
    gateway
        .publish_batches("conversation.opened", events)
        .await?;
    let deadline = started + Duration::from_secs(600);
    while receiver.flaky.lock().unwrap().delivered.len() < events {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the failure scenario did not finish"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    let flaky = receiver.flaky.lock().unwrap();
    let (first_pass_at, healthy) = flaky.first_pass.unwrap_or((Instant::now(), 0));
    let first_pass = first_pass_at - started;
    let healthy_rate = healthy as f64 / first_pass.as_secs_f64();
    let mut row = row(
        "failures, 30 % of answers 500: healthy share (deliveries/s)",
        healthy as u64,
        first_pass,
        Some(ceiling),
    );
    row.per_second = healthy_rate;
    row.ratio = Some(healthy_rate / ceiling);
    row.detail = format!(
        "{} requests for {events} events: {} answered 500, {} retries ({:.2} per event); all delivered in {:.1} s",
        flaky.requests,
        flaky.errors,
        flaky.requests - events as u64,
        (flaky.requests - events as u64) as f64 / events as f64,
        took.as_secs_f64()
    );
    Ok(row)
}

/// The same number of deliveries spread over 1, 100 and 10,000 webhooks of one organization:
/// the cost per delivery should not grow with the number of subscriptions.
pub async fn scale(
    gateway: &Gateway,
    receiver: &Arc<Receiver>,
    webhooks: usize,
    deliveries: usize,
    event: &'static str,
    ceiling: f64,
) -> anyhow::Result<Row> {
    let group = format!("/scale{webhooks}");
    let base = format!("{}{group}", receiver.base);
    let (client, api, key) = (
        gateway.client.clone(),
        gateway.base.clone(),
        gateway.key.clone(),
    );
    concurrently(webhooks, move |i| {
        let (client, api, key) = (client.clone(), api.clone(), key.clone());
        let body = json!({"name": "bench", "url": format!("{base}/{i}"), "events": [event]});
        async move {
            let url = format!("{api}/api/webhooks");
            post_json(&client, url, &key, &body, 201, "creating a webhook").await
        }
    })
    .await?;
    receiver
        .wait(&group, webhooks as u64, Duration::from_secs(300))
        .await
        .ok_or_else(|| anyhow::anyhow!("the test events of {webhooks} webhooks did not arrive"))?;
    let events = deliveries.div_ceil(webhooks);
    let started = Instant::now();
    gateway.publish_batches(event, events).await?;
    let done = receiver
        .wait(
            &group,
            (webhooks + events * webhooks) as u64,
            Duration::from_secs(600),
        )
        .await
        .ok_or_else(|| {
            anyhow::anyhow!("the scale scenario with {webhooks} webhooks did not finish")
        })?;
    let count = (events * webhooks) as u64;
    let took = done - started;
    let mut row = row(
        &format!("scale: {webhooks} webhooks in the org, {events} events each (deliveries/s)"),
        count,
        took,
        Some(ceiling),
    );
    row.detail = format!(
        "{:.0} µs of wall time per delivery",
        took.as_secs_f64() * 1e6 / count as f64
    );
    Ok(row)
}

/// Deliveries pile up while the receiver is down (accepting, never answering), then it comes
/// up: the drain rate, and the gateway's memory throughout.
pub async fn backlog(
    gateway: &Gateway,
    receiver: &Arc<Receiver>,
    deliveries: usize,
    ceiling: f64,
) -> anyhow::Result<Row> {
    gateway
        .subscribe(receiver, "/backlog", "message.read")
        .await?;
    let rss_before = rss_kib(gateway.pid, "VmRSS:");
    receiver.backlog_open.send_replace(false);
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling, pid) = (peak.clone(), sampling.clone(), gateway.pid);
        tokio::spawn(async move {
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid, "VmRSS:"), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    gateway.publish_batches("message.read", deliveries).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = Instant::now();
    receiver.backlog_open.send_replace(true);
    let done = receiver
        .wait("/backlog", deliveries as u64 + 1, Duration::from_secs(900))
        .await
        .ok_or_else(|| anyhow::anyhow!("the backlog did not drain"))?;
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let _ = sampler.await;
    let mut row = row(
        &format!(
            "backlog: {deliveries} queued while the receiver was down, drained (deliveries/s)"
        ),
        deliveries as u64,
        done - started,
        Some(ceiling),
    );
    row.detail = format!(
        "gateway RSS {:.0} MB before, peak {:.0} MB while queued and draining; peak over the whole run {:.0} MB",
        rss_before as f64 / 1024.0,
        peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0,
        rss_kib(gateway.pid, "VmHWM:") as f64 / 1024.0
    );
    Ok(row)
}

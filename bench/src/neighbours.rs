//! Noisy neighbours: one organization's latency alone and beside another with a slow backlog.

use std::{sync::Arc, time::Duration};

use serde_json::json;

use crate::{
    gateway::{Gateway, post_json},
    receiver::Receiver,
    report::{Row, row},
};

/// One organization publishes at a steady 50 events/s to a fast receiver, alone and then while
/// another organization has a backlog at 1,200 (quick: 100) webhooks whose receivers take 4.5 s
/// to answer: its publish → receipt latency both ways, and their ratio.
pub async fn neighbours(
    gateway: &Gateway,
    receiver: &Arc<Receiver>,
    (noisy_hooks, noisy_events, quiet_events): (usize, usize, usize),
) -> anyhow::Result<Vec<Row>> {
    let body = json!({"name": "quiet", "url": format!("{}/quiet", receiver.base), "events": ["message.delivered"]});
    let url = format!("{}/api/webhooks", gateway.base);
    post_json(
        &gateway.client,
        url,
        &gateway.quiet_key,
        &body,
        201,
        "creating a webhook",
    )
    .await?;
    receiver.wait("/quiet", 1, Duration::from_secs(10)).await;
    let alone = quiet_run(gateway, receiver, quiet_events).await?;
    for hook in 0..noisy_hooks {
        let url = format!("{}/slow/{hook}", receiver.base);
        gateway.webhook(&url, "conversation.resolved").await?;
    }
    // Each event goes to every one of the noisy organization's webhooks.
    gateway
        .publish_batches("conversation.resolved", noisy_events)
        .await?;
    let beside = quiet_run(gateway, receiver, quiet_events).await?;
    let p99 = |run: &[u64]| run[((run.len() - 1) as f64 * 0.99) as usize] as f64 / 1000.0;
    let p50 = |run: &[u64]| run[run.len() / 2] as f64 / 1000.0;
    let mut rows = Vec::new();
    for (name, run) in [("alone", &alone), ("beside a noisy organization", &beside)] {
        let mut row = row(
            &format!("neighbours: quiet organization {name}, publish → receipt at 50/s"),
            run.len() as u64,
            Duration::from_secs_f64(run.len() as f64 / 50.0),
            None,
        );
        row.detail = format!("p50 {:.1} ms, p99 {:.1} ms", p50(run), p99(run));
        rows.push(row);
    }
    let noisy = noisy_hooks * noisy_events;
    rows[1].detail += &format!(
        " (noisy: {noisy} deliveries to {noisy_hooks} webhooks answering in 4.5 s; p99 {:.2}× alone)",
        p99(&beside) / p99(&alone)
    );
    Ok(rows)
}

/// The quiet organization's events, one `POST /api/events` each at 50/s; their latencies,
/// sorted.
pub async fn quiet_run(
    gateway: &Gateway,
    receiver: &Arc<Receiver>,
    events: usize,
) -> anyhow::Result<Vec<u64>> {
    receiver.quiet_us.lock().unwrap().clear();
    let before = receiver.get("/quiet");
    publish_stamped(gateway, receiver, "message.delivered", events).await?;
    receiver
        .wait("/quiet", before + events as u64, Duration::from_secs(120))
        .await
        .ok_or_else(|| anyhow::anyhow!("the quiet organization's events did not all arrive"))?;
    let mut latencies = std::mem::take(&mut *receiver.quiet_us.lock().unwrap());
    latencies.sort_unstable();
    Ok(latencies)
}

/// Publishes `events` of the quiet organization at 50/s, one `POST /api/events` each, each
/// stamped with when it left (`data.t`, the receiver's clock) so the receiver can time it.
pub async fn publish_stamped(
    gateway: &Gateway,
    receiver: &Arc<Receiver>,
    event_type: &str,
    events: usize,
) -> anyhow::Result<()> {
    let mut ticks = tokio::time::interval(Duration::from_millis(20));
    for _ in 0..events {
        ticks.tick().await;
        let t = receiver.start.elapsed().as_micros() as u64;
        let event = json!({"event": event_type, "data": {"t": t}});
        let url = format!("{}/api/events", gateway.base);
        post_json(
            &gateway.client,
            url,
            &gateway.quiet_key,
            &event,
            202,
            "quiet publish",
        )
        .await?;
    }
    Ok(())
}

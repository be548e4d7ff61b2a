//! The throughput scenarios: publishing alone, then delivering to one webhook and fanning out.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    gateway::{Gateway, concurrently, post_json},
    receiver::Receiver,
    report::{Row, row},
};

/// `POST /api/events` at c=64, no subscriber: the write path alone.
pub async fn publish_single(gateway: &Gateway, events: usize) -> anyhow::Result<Row> {
    let (client, base, key) = (
        gateway.client.clone(),
        gateway.base.clone(),
        gateway.key.clone(),
    );
    let took = concurrently(events, move |i| {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        async move {
            let event = json!({"event": "contact.updated", "data": {"n": i}});
            post_json(
                &client,
                format!("{base}/api/events"),
                &key,
                &event,
                202,
                "publish",
            )
            .await
        }
    })
    .await?;
    Ok(row(
        "publish POST /api/events (c=64)",
        events as u64,
        took,
        None,
    ))
}

/// The same events in `POST /api/events/batch` of 1,000.
pub async fn publish_batch(gateway: &Gateway, events: usize) -> anyhow::Result<Row> {
    let started = Instant::now();
    gateway.publish_batches("contact.updated", events).await?;
    Ok(row(
        "publish POST /api/events/batch (1,000 each)",
        events as u64,
        started.elapsed(),
        None,
    ))
}

/// Events to one webhook (at `path`, new to this run), from the first publish to the last
/// receipt.
pub async fn end_to_end(
    gateway: &Gateway,
    receiver: &Arc<Receiver>,
    events: usize,
    ceiling: f64,
    path: &str,
) -> anyhow::Result<Row> {
    gateway
        .subscribe(receiver, path, "message.received")
        .await?;
    let started = Instant::now();
    gateway.publish_batches("message.received", events).await?;
    let done = receiver
        .wait(path, events as u64 + 1, Duration::from_secs(600))
        .await
        .ok_or_else(|| anyhow::anyhow!("end-to-end did not finish"))?;
    Ok(row(
        "end-to-end, 1 webhook (deliveries/s)",
        events as u64,
        done - started,
        Some(ceiling),
    ))
}

/// Each event to `hooks` webhooks.
pub async fn fan_out(
    gateway: &Gateway,
    receiver: &Arc<Receiver>,
    events: usize,
    hooks: usize,
    ceiling: f64,
) -> anyhow::Result<Row> {
    for hook in 0..hooks {
        gateway
            .subscribe(receiver, &format!("/fan/{hook}"), "payment.completed")
            .await?;
    }
    let started = Instant::now();
    gateway.publish_batches("payment.completed", events).await?;
    let mut done = started;
    for hook in 0..hooks {
        done = receiver
            .wait(
                &format!("/fan/{hook}"),
                events as u64 + 1,
                Duration::from_secs(600),
            )
            .await
            .ok_or_else(|| anyhow::anyhow!("fan-out did not finish"))?;
    }
    Ok(row(
        &format!("fan-out, {events} events × {hooks} webhooks (deliveries/s)"),
        (events * hooks) as u64,
        done - started,
        Some(ceiling),
    ))
}

//! The raw ceiling: the same signed body POSTed to the same receiver at the same concurrency,
//! with no gateway, by a lean hyper client on a current-thread runtime of its own thread. A
//! pooled client on the shared multi-thread runtime read anywhere from 18,000 to 50,000/s on
//! one machine in one day, its tasks hopping between threads; this one stays put.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::{client::legacy::Client, rt::TokioExecutor};

/// Sends `total` POSTs of `body` to `url`, `concurrency` at a time; the wall time they took.
pub fn ceiling(
    url: &str,
    body: Bytes,
    signature: &str,
    total: usize,
    concurrency: usize,
) -> anyhow::Result<Duration> {
    let uri: hyper::Uri = url.parse()?;
    let signature = signature.to_owned();
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
                    let next = Arc::new(AtomicUsize::new(0));
                    let started = Instant::now();
                    let mut senders = tokio::task::JoinSet::new();
                    for _ in 0..concurrency {
                        let (client, uri, body, signature, next) = (
                            client.clone(),
                            uri.clone(),
                            body.clone(),
                            signature.clone(),
                            next.clone(),
                        );
                        senders.spawn(async move {
                            while next.fetch_add(1, Relaxed) < total {
                                let request = hyper::Request::post(uri.clone())
                                    .header("content-type", "application/json")
                                    .header("x-kaanha-signature", &signature)
                                    .body(Full::new(body.clone()))?;
                                let answer = client.request(request).await?;
                                anyhow::ensure!(
                                    answer.status().is_success(),
                                    "the receiver answered {}",
                                    answer.status()
                                );
                                answer.into_body().collect().await?;
                            }
                            anyhow::Ok(())
                        });
                    }
                    while let Some(sent) = senders.join_next().await {
                        sent??;
                    }
                    Ok(started.elapsed())
                })
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the raw ceiling's thread panicked"))?
    })
}

/// The ceiling of this run: `total` requests of a signed event body to `receiver`'s `/raw`,
/// at the receiver's concurrency; its row, and requests per second.
pub fn measure(receiver: &str, total: usize) -> anyhow::Result<(crate::report::Row, f64)> {
    let body = serde_json::to_string(
        &serde_json::json!({"id": "evt_x", "event": "message.received",
        "organizationId": "bench", "timestamp": "2026-03-24T10:30:00.000Z",
        "data": {"text": "Hi, I need help with my order"}}),
    )?;
    let signature =
        kaanha_gateway::delivery::sign::kaanha_signature("bench-secret", body.as_bytes());
    let took = ceiling(
        &format!("{receiver}/raw"),
        body.into_bytes().into(),
        &signature,
        total,
        crate::receiver::CONCURRENCY,
    )?;
    let per_second = total as f64 / took.as_secs_f64();
    let row = crate::report::row(
        "raw ceiling (hyper → receiver, c=64)",
        total as u64,
        took,
        Some(per_second),
    );
    Ok((row, per_second))
}

//! kaanha-bench: the gateway (release build, its own temporary database) against a fast local
//! receiver on loopback, scenario by scenario, each throughput printed with its ratio to the
//! raw ceiling measured in the same run (a plain client posting the same signed body).
//!
//!     cargo build --release --workspace && target/release/kaanha-bench --db sqlite|postgres [--quick]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

mod gateway;
mod neighbours;
mod receiver;
mod report;
mod scenarios;

use clap::{Parser, ValueEnum};
use gateway::{concurrently, post_json, start_gateway};
use neighbours::neighbours;
use poem::{EndpointExt, Route, Server, listener::TcpAcceptor};
use receiver::{Receiver, receive};
use report::{report, row};
use scenarios::{backlog, failures, latency, scale};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Db {
    Sqlite,
    Postgres,
}

/// Benchmark the gateway on this machine.
#[derive(Debug, Parser)]
struct Args {
    /// Database the gateway runs on (its own temporary one).
    #[arg(long, value_enum, default_value = "sqlite")]
    db: Db,
    /// A PostgreSQL server the benchmark may create and drop a database on.
    #[arg(
        long,
        env = "KAANHA_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// Small sizes: a smoke run of about a minute.
    #[arg(long)]
    quick: bool,
    /// The gateway's log filter (`KAANHA_LOG`), e.g. `kaanha_gateway::delivery=debug` when
    /// profiling; its log goes to this program's standard error.
    #[arg(long, default_value = "warn")]
    gateway_log: String,
    /// Where the JSON and Markdown results go.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/results"))]
    out: String,
}

#[tokio::main]
pub async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sizes = if args.quick {
        Sizes::QUICK
    } else {
        Sizes::FULL
    };
    let Sizes {
        raw: raw_n,
        publish: publish_n,
        end_to_end: e2e_n,
        fan_events,
        fan_hooks,
        ..
    } = sizes;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver = format!("http://{}", listener.local_addr()?);
    let counts = Arc::new(Receiver::new(receiver.clone()));
    let app = Route::new()
        .at("/*path", poem::post(receive))
        .data(counts.clone());
    tokio::spawn(Server::new_with_acceptor(TcpAcceptor::from_tokio(listener)?).run(app));

    let mut gateway = start_gateway(&args).await?;
    let mut rows = Vec::new();

    // The raw ceiling: the same signed body, the same receiver, the same concurrency, no database.
    let body = Arc::new(serde_json::to_string(
        &json!({"id": "evt_x", "event": "message.received", "organizationId": "bench", "timestamp": "2026-03-24T10:30:00.000Z", "data": {"text": "Hi, I need help with my order"}}),
    )?);
    let signature =
        kaanha_gateway::delivery::sign::kaanha_signature("bench-secret", body.as_bytes());
    let raw_client = reqwest::Client::new();
    let raw_url = format!("{receiver}/raw");
    let took = concurrently(raw_n, move |_| {
        let (client, url, body, signature) = (
            raw_client.clone(),
            raw_url.clone(),
            body.clone(),
            signature.clone(),
        );
        async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .header("x-kaanha-signature", signature)
                .body((*body).clone())
                .send()
                .await?;
            Ok(())
        }
    })
    .await?;
    let ceiling = raw_n as f64 / took.as_secs_f64();
    rows.push(row(
        "raw ceiling (reqwest → receiver, c=64)",
        raw_n as u64,
        took,
        Some(ceiling),
    ));

    // Publish rate: POST /api/events at c=64, no subscriber (the write path alone).
    let (client, base, key) = (
        gateway.client.clone(),
        gateway.base.clone(),
        gateway.key.clone(),
    );
    let took = concurrently(publish_n, move |i| {
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
    rows.push(row(
        "publish POST /api/events (c=64)",
        publish_n as u64,
        took,
        None,
    ));
    let started = Instant::now();
    gateway
        .publish_batches("contact.updated", publish_n)
        .await?;
    rows.push(row(
        "publish POST /api/events/batch (1,000 each)",
        publish_n as u64,
        started.elapsed(),
        None,
    ));

    // End-to-end: events to one webhook, from the first publish to the last receipt.
    gateway
        .webhook(&format!("{receiver}/e2e"), "message.received")
        .await?;
    counts.wait("/e2e", 1, Duration::from_secs(10)).await; // the test event
    let started = Instant::now();
    gateway.publish_batches("message.received", e2e_n).await?;
    let done = counts
        .wait("/e2e", e2e_n as u64 + 1, Duration::from_secs(600))
        .await
        .ok_or_else(|| anyhow::anyhow!("end-to-end did not finish"))?;
    rows.push(row(
        "end-to-end, 1 webhook (deliveries/s)",
        e2e_n as u64,
        done - started,
        Some(ceiling),
    ));

    // Fan-out: each event to 20 webhooks.
    for hook in 0..fan_hooks {
        gateway
            .webhook(&format!("{receiver}/fan/{hook}"), "payment.completed")
            .await?;
    }
    let started = Instant::now();
    gateway
        .publish_batches("payment.completed", fan_events)
        .await?;
    let mut done = started;
    for hook in 0..fan_hooks {
        done = counts
            .wait(
                &format!("/fan/{hook}"),
                fan_events as u64 + 1,
                Duration::from_secs(600),
            )
            .await
            .ok_or_else(|| anyhow::anyhow!("fan-out did not finish"))?;
    }
    rows.push(row(
        &format!("fan-out, {fan_events} events × {fan_hooks} webhooks (deliveries/s)"),
        (fan_events * fan_hooks) as u64,
        done - started,
        Some(ceiling),
    ));

    rows.push(latency(&gateway, &counts, sizes.latency_seconds).await?);
    rows.push(failures(&gateway, &counts, sizes.failures, ceiling).await?);
    for (webhooks, event) in sizes.scale.iter().zip(SCALE_EVENTS) {
        rows.push(
            scale(
                &gateway,
                &counts,
                *webhooks,
                sizes.scale_deliveries,
                event,
                ceiling,
            )
            .await?,
        );
    }
    rows.push(backlog(&gateway, &counts, sizes.backlog, ceiling).await?);
    rows.extend(neighbours(&gateway, &counts, sizes.neighbours).await?);

    gateway.drop_database().await;
    report(&args, &rows)
}

/// How much each scenario does: `--quick` for a smoke run, the sizes otherwise.
#[derive(Clone, Copy)]
pub struct Sizes {
    pub raw: usize,
    pub publish: usize,
    pub end_to_end: usize,
    pub fan_events: usize,
    pub fan_hooks: usize,
    pub latency_seconds: u64,
    pub failures: usize,
    pub scale: [usize; 3],
    pub scale_deliveries: usize,
    pub backlog: usize,
    /// Noisy organization's webhooks and events each; quiet organization's events.
    pub neighbours: (usize, usize, usize),
}

impl Sizes {
    const QUICK: Sizes = Sizes {
        raw: 20_000,
        publish: 2_000,
        end_to_end: 10_000,
        fan_events: 500,
        fan_hooks: 20,
        latency_seconds: 5,
        failures: 2_000,
        scale: [1, 10, 100],
        scale_deliveries: 2_000,
        backlog: 20_000,
        neighbours: (100, 20, 100),
    };
    const FULL: Sizes = Sizes {
        raw: 50_000,
        publish: 20_000,
        end_to_end: 50_000,
        fan_events: 5_000,
        fan_hooks: 20,
        latency_seconds: 30,
        failures: 20_000,
        scale: [1, 100, 10_000],
        scale_deliveries: 20_000,
        backlog: 200_000,
        neighbours: (1_200, 5, 500),
    };
}

/// One event type per scale step, used by no other scenario, so each step's webhooks get only
/// its own events.
pub const SCALE_EVENTS: [&str; 3] = [
    "contact.created",
    "contact.opted_out",
    "broadcast.completed",
];

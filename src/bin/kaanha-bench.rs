//! kaanha-bench: the gateway (release build, its own temporary database) against a fast local
//! receiver on loopback, scenario by scenario, each throughput printed with its ratio to the
//! raw ceiling measured in the same run (a plain client posting the same signed body).
//!
//!     cargo run --release --bin kaanha-bench -- --db sqlite|postgres [--quick]

use std::{
    collections::{HashMap, HashSet},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use clap::{Parser, ValueEnum};
use poem::{
    EndpointExt, Request, Response, Route, Server, handler, http::StatusCode,
    listener::TcpAcceptor, web::Data,
};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};

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
    #[arg(long, default_value = "bench/results")]
    out: String,
}

const CONCURRENCY: usize = 64;
/// How long the noisy organization's receivers take to answer.
const SLOW_ANSWER: Duration = Duration::from_millis(4500);

/// The receiver's state: requests per path, plus what the latency, failure and backlog
/// scenarios need.
struct Receiver {
    /// Where it listens, `http://127.0.0.1:port`.
    base: String,
    counts: Mutex<HashMap<String, u64>>,
    /// Microseconds since `start` is the clock publishers stamp events with.
    start: Instant,
    latencies_us: Mutex<Vec<u64>>,
    /// The neighbours scenario's quiet organization: publish → receipt, microseconds.
    quiet_us: Mutex<Vec<u64>>,
    /// While `false`, `/backlog` requests wait: the receiver is "down" (accepting, not answering).
    backlog_open: watch::Sender<bool>,
    flaky: Mutex<Flaky>,
}

/// The failure scenario's receiver: every answer whose number ends in 0, 1 or 2 is a 500.
#[derive(Default)]
struct Flaky {
    requests: u64,
    errors: u64,
    seen: HashSet<String>,
    delivered: HashSet<String>,
    /// When every delivery had had its first attempt, and how many had succeeded by then.
    first_pass: Option<(Instant, usize)>,
    expected: usize,
}

#[handler]
async fn receive(req: &Request, body: poem::Body, receiver: Data<&Arc<Receiver>>) -> Response {
    let body = body.into_bytes().await.unwrap_or_default();
    let path = req.uri().path().to_owned();
    let receiver = *receiver;
    if path == "/latency" || path == "/quiet" {
        let now = receiver.start.elapsed().as_micros() as u64;
        if let Some(sent) = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["data"]["t"].as_u64())
        {
            let latencies = match path.as_str() {
                "/latency" => &receiver.latencies_us,
                _ => &receiver.quiet_us,
            };
            latencies.lock().unwrap().push(now.saturating_sub(sent));
        }
    } else if path.starts_with("/slow/") {
        // The neighbours scenario's noisy organization: a receiver as slow as the one that
        // once delayed another organization's test delivery by 17 s.
        tokio::time::sleep(SLOW_ANSWER).await;
    } else if path == "/backlog" {
        let mut open = receiver.backlog_open.subscribe();
        let _ = open.wait_for(|open| *open).await;
    } else if path == "/flaky" {
        let delivery = req
            .header("x-kaanha-delivery")
            .unwrap_or_default()
            .to_owned();
        let mut flaky = receiver.flaky.lock().unwrap();
        flaky.requests += 1;
        let fail = flaky.requests % 10 < 3;
        flaky.seen.insert(delivery.clone());
        if fail {
            flaky.errors += 1;
        } else {
            flaky.delivered.insert(delivery);
        }
        if flaky.first_pass.is_none() && flaky.seen.len() >= flaky.expected {
            flaky.first_pass = Some((Instant::now(), flaky.delivered.len()));
        }
        drop(flaky);
        receiver.count(&path);
        if fail {
            return Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .body("no");
        }
        return Response::builder().body("ok");
    }
    receiver.count(&path);
    Response::builder().body("ok")
}

impl Receiver {
    fn new(base: String) -> Self {
        Self {
            base,
            counts: Mutex::default(),
            start: Instant::now(),
            latencies_us: Mutex::default(),
            quiet_us: Mutex::default(),
            backlog_open: watch::Sender::new(true),
            flaky: Mutex::default(),
        }
    }

    /// Counts a request under its path and, for `/group/n` paths, under `/group` too.
    fn count(&self, path: &str) {
        let mut counts = self.counts.lock().unwrap();
        *counts.entry(path.to_owned()).or_default() += 1;
        if let Some((group, _)) = path.rsplit_once('/').filter(|(g, _)| !g.is_empty()) {
            *counts.entry(group.to_owned()).or_default() += 1;
        }
    }

    fn get(&self, path: &str) -> u64 {
        self.counts.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// Waits until `path` has `count` requests; the time when it did.
    async fn wait(&self, path: &str, count: u64, limit: Duration) -> Option<Instant> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.get(path) >= count {
                return Some(Instant::now());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        None
    }
}

struct Row {
    scenario: String,
    count: u64,
    seconds: f64,
    per_second: f64,
    ratio: Option<f64>,
    /// What else the scenario measured (latency percentiles, memory, retries, ...).
    detail: String,
}

struct Gateway {
    child: Child,
    pid: u32,
    base: String,
    key: String,
    /// A key of another organization, for the neighbours scenario.
    quiet_key: String,
    client: reqwest::Client,
    cleanup: Option<(String, String)>,
    dir: Option<std::path::PathBuf>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_gateway(args: &Args) -> anyhow::Result<Gateway> {
    let bin = std::env::current_exe()?.with_file_name("kaanha-gateway");
    let (database_url, cleanup, dir) = match args.db {
        Db::Sqlite => {
            let dir =
                std::env::temp_dir().join(format!("kgw-bench-{}", uuid::Uuid::now_v7().simple()));
            std::fs::create_dir_all(&dir)?;
            (
                format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
                None,
                Some(dir),
            )
        }
        Db::Postgres => {
            let name = format!("kgw_bench_{}", uuid::Uuid::now_v7().simple());
            let admin = sea_orm::Database::connect(&args.postgres_url).await?;
            sea_orm::ConnectionTrait::execute_unprepared(
                &admin,
                &format!("CREATE DATABASE {name}"),
            )
            .await?;
            let mut url = url::Url::parse(&args.postgres_url)?;
            url.set_path(&name);
            (
                url.to_string(),
                Some((args.postgres_url.clone(), name)),
                None,
            )
        }
    };
    let key_for = |org: &str| -> anyhow::Result<String> {
        let key = Command::new(&bin)
            .args(["api-key", "create", "--org", org, "--name", "bench"])
            .args(["--scopes", "webhooks,events:publish"])
            .env("KAANHA_DATABASE_URL", &database_url)
            .output()?;
        Ok(String::from_utf8(key.stdout)?.trim().to_owned())
    };
    let (key, quiet_key) = (key_for("bench")?, key_for("bench-quiet")?);
    let port = free_port();
    let child = Command::new(&bin)
        .env("KAANHA_DATABASE_URL", &database_url)
        .env("KAANHA_BIND", format!("127.0.0.1:{port}"))
        .env("KAANHA_ALLOW_PRIVATE_TARGETS", "true")
        .env("KAANHA_LOG", &args.gateway_log)
        .env("KAANHA_DB_MAX_CONNECTIONS", "16")
        .env("KAANHA_WEBHOOK_CONCURRENCY", CONCURRENCY.to_string())
        .env("KAANHA_MAX_BATCH_BYTES", (32 * 1024 * 1024).to_string())
        // The scale scenario makes 10,000 webhooks in one organization, each with its test event.
        .env("KAANHA_MAX_WEBHOOKS_PER_ORG", "100000")
        .env("KAANHA_MANUAL_SENDS_PER_MINUTE", "1000000")
        // Retries a second apart, so the failure scenario ends within the run.
        .env("KAANHA_RETRY_SCHEDULE", "1s,1s,1s,1s,1s,1s,1s,1s")
        // The backlog scenario's receiver holds its first requests until it comes "up".
        .env("KAANHA_DELIVERY_TIMEOUT", "300s")
        .stdout(Stdio::null())
        .spawn()?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(Gateway {
        pid: child.id(),
        child,
        base,
        key,
        quiet_key,
        client,
        cleanup,
        dir,
    })
}

impl Gateway {
    async fn webhook(&self, url: &str, event: &str) -> anyhow::Result<()> {
        let body = json!({"name": "bench", "url": url, "events": [event]});
        let url = format!("{}/api/webhooks", self.base);
        post_json(
            &self.client,
            url,
            &self.key,
            &body,
            201,
            "creating a webhook",
        )
        .await
    }

    /// Subscribes `path` on the receiver to `event`, and waits for the webhook's test event.
    async fn subscribe(&self, receiver: &Receiver, path: &str, event: &str) -> anyhow::Result<()> {
        self.webhook(&format!("{}{path}", receiver.base), event)
            .await?;
        receiver.wait(path, 1, Duration::from_secs(10)).await;
        Ok(())
    }

    async fn publish_batches(&self, event: &str, total: usize) -> anyhow::Result<()> {
        for start in (0..total).step_by(1000) {
            let events: Vec<Value> = (start..(start + 1000).min(total))
                .map(|i| json!({"event": event, "data": {"n": i, "text": "Hi, I need help with my order"}}))
                .collect();
            let url = format!("{}/api/events/batch", self.base);
            let body = json!({"events": events});
            post_json(&self.client, url, &self.key, &body, 202, "batch publish").await?;
        }
        Ok(())
    }

    async fn drop_database(&mut self) {
        if let Some((server, name)) = self.cleanup.take()
            && let Ok(admin) = sea_orm::Database::connect(&server).await
        {
            let _ = self.child.kill();
            let _ = self.child.wait();
            let _ = sea_orm::ConnectionTrait::execute_unprepared(
                &admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await;
        }
    }
}

/// POSTs JSON to the gateway's API with the bench's key; an answer other than `expect` is an
/// error naming `what`.
async fn post_json(
    client: &reqwest::Client,
    url: String,
    key: &str,
    body: &Value,
    expect: u16,
    what: &str,
) -> anyhow::Result<()> {
    let answer = client
        .post(url)
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    anyhow::ensure!(
        answer.status() == expect,
        "{what} answered {}",
        answer.status()
    );
    Ok(())
}

/// Runs `total` jobs at `CONCURRENCY`; their wall time.
async fn concurrently<F, Fut>(total: usize, job: F) -> anyhow::Result<Duration>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let job = Arc::new(job);
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let permit = slots.clone().acquire_owned().await?;
        let job = job.clone();
        tasks.spawn(async move {
            let result = job(i).await;
            drop(permit);
            result
        });
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    Ok(started.elapsed())
}

fn row(scenario: &str, count: u64, took: Duration, ceiling: Option<f64>) -> Row {
    let seconds = took.as_secs_f64();
    let per_second = count as f64 / seconds;
    Row {
        scenario: scenario.into(),
        count,
        seconds,
        per_second,
        ratio: ceiling.map(|c| per_second / c),
        detail: String::new(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
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
struct Sizes {
    raw: usize,
    publish: usize,
    end_to_end: usize,
    fan_events: usize,
    fan_hooks: usize,
    latency_seconds: u64,
    failures: usize,
    scale: [usize; 3],
    scale_deliveries: usize,
    backlog: usize,
    /// Noisy organization's webhooks and events each; quiet organization's events.
    neighbours: (usize, usize, usize),
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
const SCALE_EVENTS: [&str; 3] = [
    "contact.created",
    "contact.opted_out",
    "broadcast.completed",
];

/// Publish → receipt at a steady 1,000 events/s, one `POST /api/events` each.
async fn latency(gateway: &Gateway, receiver: &Arc<Receiver>, seconds: u64) -> anyhow::Result<Row> {
    const RATE: u64 = 1_000;
    gateway
        .subscribe(receiver, "/latency", "message.sent")
        .await?;
    receiver.latencies_us.lock().unwrap().clear();
    let total = RATE * seconds;
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut sends = tokio::task::JoinSet::new();
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
            anyhow::ensure!(
                sent?.is_ok_and(|r| r.status() == 202),
                "a latency publish failed"
            );
        }
    }
    while let Some(sent) = sends.join_next().await {
        anyhow::ensure!(
            sent?.is_ok_and(|r| r.status() == 202),
            "a latency publish failed"
        );
    }
    receiver
        .wait("/latency", total + 1, Duration::from_secs(120))
        .await
        .ok_or_else(|| anyhow::anyhow!("the latency scenario did not finish"))?;
    let mut latencies = std::mem::take(&mut *receiver.latencies_us.lock().unwrap());
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    let mut row = row(
        &format!("latency, publish → receipt at {RATE} events/s"),
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
    Ok(row)
}

/// 30 % of answers are 500: how fast the healthy share gets through, and the retries it costs.
async fn failures(
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
async fn scale(
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
async fn backlog(
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

/// One organization publishes at a steady 50 events/s to a fast receiver, alone and then while
/// another organization has a backlog at 1,200 (quick: 100) webhooks whose receivers take 4.5 s
/// to answer: its publish → receipt latency both ways, and their ratio.
async fn neighbours(
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
async fn quiet_run(
    gateway: &Gateway,
    receiver: &Arc<Receiver>,
    events: usize,
) -> anyhow::Result<Vec<u64>> {
    receiver.quiet_us.lock().unwrap().clear();
    let before = receiver.get("/quiet");
    let mut ticks = tokio::time::interval(Duration::from_millis(20));
    for _ in 0..events {
        ticks.tick().await;
        let t = receiver.start.elapsed().as_micros() as u64;
        let event = json!({"event": "message.delivered", "data": {"t": t}});
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
    receiver
        .wait("/quiet", before + events as u64, Duration::from_secs(120))
        .await
        .ok_or_else(|| anyhow::anyhow!("the quiet organization's events did not all arrive"))?;
    let mut latencies = std::mem::take(&mut *receiver.quiet_us.lock().unwrap());
    latencies.sort_unstable();
    Ok(latencies)
}

/// A line of `/proc/<pid>/status`, in KiB (0 where there is no such file).
fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn report(args: &Args, rows: &[Row]) -> anyhow::Result<()> {
    let db = match args.db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    let mode = if args.quick { "quick" } else { "full" };
    let mut md = format!(
        "| scenario ({db}, {mode}) | count | seconds | per second | × raw ceiling | detail |\n|---|---:|---:|---:|---:|---|\n"
    );
    for r in rows {
        let ratio = r.ratio.map_or("".to_owned(), |x| format!("{x:.2}"));
        md.push_str(&format!(
            "| {} | {} | {:.2} | {:.0} | {ratio} | {} |\n",
            r.scenario, r.count, r.seconds, r.per_second, r.detail
        ));
    }
    print!("{md}");
    let json: Vec<Value> = rows
        .iter()
        .map(|r| json!({"scenario": r.scenario, "count": r.count, "seconds": r.seconds, "perSecond": r.per_second, "ratioToRawCeiling": r.ratio, "detail": r.detail}))
        .collect();
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(format!("{}/{db}-{mode}.md", args.out), &md)?;
    std::fs::write(
        format!("{}/{db}-{mode}.json", args.out),
        serde_json::to_string_pretty(&json!({"db": db, "mode": mode, "rows": json}))?,
    )?;
    Ok(())
}

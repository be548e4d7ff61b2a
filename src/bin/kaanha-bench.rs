//! kaanha-bench: the gateway (release build, its own temporary database) against a fast local
//! receiver on loopback, scenario by scenario, each throughput printed with its ratio to the
//! raw ceiling measured in the same run (a plain client posting the same signed body).
//!
//!     cargo run --release --bin kaanha-bench -- --db sqlite|postgres [--quick]

use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use clap::{Parser, ValueEnum};
use poem::{
    EndpointExt, Request, Response, Route, Server, handler, listener::TcpAcceptor, web::Data,
};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

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
    /// Where the JSON and Markdown results go.
    #[arg(long, default_value = "bench/results")]
    out: String,
}

const CONCURRENCY: usize = 64;

/// Counts requests per path; answers 200 at once.
#[derive(Default)]
struct Counts(Mutex<HashMap<String, u64>>);

#[handler]
async fn receive(req: &Request, body: poem::Body, counts: Data<&Arc<Counts>>) -> Response {
    let _ = body.into_bytes().await;
    *counts
        .0
        .0
        .lock()
        .unwrap()
        .entry(req.uri().path().to_owned())
        .or_default() += 1;
    Response::builder().body("ok")
}

impl Counts {
    fn get(&self, path: &str) -> u64 {
        self.0.lock().unwrap().get(path).copied().unwrap_or(0)
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
}

struct Gateway {
    child: Child,
    base: String,
    key: String,
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
    let key = Command::new(&bin)
        .args([
            "api-key",
            "create",
            "--org",
            "bench",
            "--name",
            "bench",
            "--scopes",
            "webhooks,events:publish",
        ])
        .env("KAANHA_DATABASE_URL", &database_url)
        .output()?;
    let key = String::from_utf8(key.stdout)?.trim().to_owned();
    let port = free_port();
    let child = Command::new(&bin)
        .env("KAANHA_DATABASE_URL", &database_url)
        .env("KAANHA_BIND", format!("127.0.0.1:{port}"))
        .env("KAANHA_ALLOW_PRIVATE_TARGETS", "true")
        .env("KAANHA_LOG", "warn")
        .env("KAANHA_DB_MAX_CONNECTIONS", "16")
        .env("KAANHA_WEBHOOK_CONCURRENCY", CONCURRENCY.to_string())
        .env("KAANHA_MAX_BATCH_BYTES", (32 * 1024 * 1024).to_string())
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
        child,
        base,
        key,
        client,
        cleanup,
        dir,
    })
}

impl Gateway {
    async fn webhook(&self, url: &str, event: &str) -> anyhow::Result<()> {
        let body = json!({"name": "bench", "url": url, "events": [event]});
        let answer = self
            .client
            .post(format!("{}/api/webhooks", self.base))
            .bearer_auth(&self.key)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await?;
        anyhow::ensure!(
            answer.status() == 201,
            "creating a webhook answered {}",
            answer.status()
        );
        Ok(())
    }

    async fn publish_batches(&self, event: &str, total: usize) -> anyhow::Result<()> {
        for start in (0..total).step_by(1000) {
            let events: Vec<Value> = (start..(start + 1000).min(total))
                .map(|i| json!({"event": event, "data": {"n": i, "text": "Hi, I need help with my order"}}))
                .collect();
            let answer = self
                .client
                .post(format!("{}/api/events/batch", self.base))
                .bearer_auth(&self.key)
                .header("content-type", "application/json")
                .body(json!({"events": events}).to_string())
                .send()
                .await?;
            anyhow::ensure!(
                answer.status() == 202,
                "batch publish answered {}",
                answer.status()
            );
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
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (raw_n, publish_n, e2e_n, fan_events, fan_hooks) = if args.quick {
        (20_000, 2_000, 10_000, 500, 20)
    } else {
        (50_000, 20_000, 50_000, 5_000, 20)
    };

    let counts = Arc::new(Counts::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver = format!("http://{}", listener.local_addr()?);
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
            let answer = client
                .post(format!("{base}/api/events"))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(event.to_string())
                .send()
                .await?;
            anyhow::ensure!(
                answer.status() == 202,
                "publish answered {}",
                answer.status()
            );
            Ok(())
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

    gateway.drop_database().await;
    report(&args, &rows)
}

fn report(args: &Args, rows: &[Row]) -> anyhow::Result<()> {
    let db = match args.db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    let mode = if args.quick { "quick" } else { "full" };
    let mut md = format!(
        "| scenario ({db}, {mode}) | count | seconds | per second | × raw ceiling |\n|---|---:|---:|---:|---:|\n"
    );
    for r in rows {
        let ratio = r.ratio.map_or("".to_owned(), |x| format!("{x:.2}"));
        md.push_str(&format!(
            "| {} | {} | {:.2} | {:.0} | {ratio} |\n",
            r.scenario, r.count, r.seconds, r.per_second
        ));
    }
    print!("{md}");
    let json: Vec<Value> = rows
        .iter()
        .map(|r| json!({"scenario": r.scenario, "count": r.count, "seconds": r.seconds, "perSecond": r.per_second, "ratioToRawCeiling": r.ratio}))
        .collect();
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(format!("{}/{db}-{mode}.md", args.out), &md)?;
    std::fs::write(
        format!("{}/{db}-{mode}.json", args.out),
        serde_json::to_string_pretty(&json!({"db": db, "mode": mode, "rows": json}))?,
    )?;
    Ok(())
}

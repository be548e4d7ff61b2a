//! The gateway under test: the release binary on its own temporary database, and the calls the
//! scenarios make to it.

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::{
    Args, Db,
    receiver::{CONCURRENCY, Receiver},
};

pub struct Gateway {
    pub child: Child,
    /// Where its data is (the benchmark's own database).
    pub database_url: String,
    pub pid: u32,
    pub base: String,
    pub key: String,
    /// A key of another organization, for the neighbours scenario.
    pub quiet_key: String,
    pub client: reqwest::Client,
    pub cleanup: Option<(String, String)>,
    pub dir: Option<std::path::PathBuf>,
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

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The release gateway built beside the benchmark.
pub fn gateway_bin() -> anyhow::Result<std::path::PathBuf> {
    let bin = std::env::current_exe()?.with_file_name("kaanha-gateway");
    anyhow::ensure!(
        bin.exists(),
        "{} is missing: build the gateway beside the benchmark with `cargo build --release --workspace`",
        bin.display()
    );
    Ok(bin)
}

/// A new empty database of the kind `args` names: its URL, the server and name to drop it by
/// (PostgreSQL), and the directory to remove (SQLite).
pub type NewDatabase = (String, Option<(String, String)>, Option<std::path::PathBuf>);

pub async fn start_gateway(args: &Args) -> anyhow::Result<Gateway> {
    let database = new_database(args).await?;
    start_on(args, database).await
}

pub async fn new_database(args: &Args) -> anyhow::Result<NewDatabase> {
    Ok(match args.db {
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
    })
}

/// Removes a database no gateway was started on.
pub async fn drop_new_database(database: NewDatabase) -> anyhow::Result<()> {
    let (_, cleanup, dir) = database;
    if let Some(dir) = dir {
        std::fs::remove_dir_all(dir)?;
    }
    if let Some((server, name)) = cleanup {
        let admin = sea_orm::Database::connect(&server).await?;
        sea_orm::ConnectionTrait::execute_unprepared(
            &admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await?;
    }
    Ok(())
}

/// Starts the gateway on `database` (new, or prepared with a history), with two keys.
pub async fn start_on(args: &Args, database: NewDatabase) -> anyhow::Result<Gateway> {
    let bin = gateway_bin()?;
    let (database_url, cleanup, dir) = database;
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
    let child = spawn(args, &database_url, port, &[])?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;
    Ok(Gateway {
        pid: child.id(),
        child,
        database_url,
        base,
        key,
        quiet_key,
        client,
        cleanup,
        dir,
    })
}

/// The gateway on `database_url` at `port`, with the benchmark's settings and `extra` ones.
fn spawn(
    args: &Args,
    database_url: &str,
    port: u16,
    extra: &[(&str, &str)],
) -> anyhow::Result<Child> {
    Ok(Command::new(gateway_bin()?)
        .env("KAANHA_DATABASE_URL", database_url)
        .env("KAANHA_BIND", format!("127.0.0.1:{port}"))
        .env("KAANHA_ALLOW_PRIVATE_TARGETS", "true")
        .env("KAANHA_LOG", &args.gateway_log)
        .env("KAANHA_DB_MAX_CONNECTIONS", "16")
        .env("KAANHA_WEBHOOK_CONCURRENCY", CONCURRENCY.to_string())
        .env("KAANHA_MAX_BATCH_BYTES", (32 * 1024 * 1024).to_string())
        // The scale scenario makes 10,000 webhooks in one organization, each with its test event.
        .env("KAANHA_MAX_WEBHOOKS_PER_ORG", "100000")
        .env("KAANHA_MANUAL_SENDS_PER_MINUTE", "1000000")
        .env("KAANHA_WEBHOOK_CREATIONS_PER_MINUTE", "1000000")
        // Retries a second apart, so the failure scenario ends within the run.
        .env("KAANHA_RETRY_SCHEDULE", "1s,1s,1s,1s,1s,1s,1s,1s")
        // The backlog scenario's receiver holds its first requests until it comes "up".
        .env("KAANHA_DELIVERY_TIMEOUT", "300s")
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .spawn()?)
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
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
}

impl Gateway {
    /// Stops this gateway and starts it again on the same database, with `extra` settings.
    pub async fn restart_with(
        &mut self,
        args: &Args,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<()> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let port = free_port();
        self.child = spawn(args, &self.database_url, port, extra)?;
        self.pid = self.child.id();
        self.base = format!("http://127.0.0.1:{port}");
        wait_ready(&self.client, &self.base).await;
        Ok(())
    }

    pub async fn webhook(&self, url: &str, event: &str) -> anyhow::Result<()> {
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
    pub async fn subscribe(
        &self,
        receiver: &Receiver,
        path: &str,
        event: &str,
    ) -> anyhow::Result<()> {
        self.webhook(&format!("{}{path}", receiver.base), event)
            .await?;
        receiver.wait(path, 1, Duration::from_secs(10)).await;
        Ok(())
    }

    pub async fn publish_batches(&self, event: &str, total: usize) -> anyhow::Result<()> {
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

    /// The statements and commits the gateway counted (`kaanha_db_statements_total`,
    /// `kaanha_db_commits_total` in `/metrics`).
    pub async fn db_counters(&self) -> (u64, u64) {
        let text = match self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
        {
            Ok(answer) => answer.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let counter = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
                .unwrap_or(0)
        };
        (
            counter("kaanha_db_statements_total"),
            counter("kaanha_db_commits_total"),
        )
    }

    /// On PostgreSQL, writes out what a large load left dirty, so the checkpoint it would
    /// otherwise trigger is not counted in the next scenario's database CPU.
    pub async fn checkpoint(&self) -> anyhow::Result<()> {
        if let Some((server, _)) = &self.cleanup {
            let admin = sea_orm::Database::connect(server).await?;
            sea_orm::ConnectionTrait::execute_unprepared(&admin, "CHECKPOINT").await?;
        }
        Ok(())
    }

    pub async fn drop_database(&mut self) {
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
pub async fn post_json(
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
pub async fn concurrently<F, Fut>(total: usize, job: F) -> anyhow::Result<Duration>
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

/// A line of `/proc/<pid>/status`, in KiB (0 where there is no such file).
pub fn rss_kib(pid: u32, field: &str) -> u64 {
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

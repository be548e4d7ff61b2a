//! Crash safety: a gateway killed mid-run loses nothing it acknowledged.

use std::{
    collections::{HashMap, HashSet},
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::json;

use crate::{
    database::TestDatabase,
    receiver::{Answer, Receiver},
};

pub const BIN: &str = env!("CARGO_BIN_EXE_kaanha-gateway");

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn start_gateway(database_url: &str, port: u16) -> Child {
    Command::new(BIN)
        .env("KAANHA_DATABASE_URL", database_url)
        .env("KAANHA_BIND", format!("127.0.0.1:{port}"))
        .env("KAANHA_ALLOW_PRIVATE_TARGETS", "true")
        .env("KAANHA_RETRY_SCHEDULE", "100ms,200ms,300ms")
        .env("KAANHA_DELIVERY_TIMEOUT", "1s")
        .env("KAANHA_DELIVERY_LEASE", "4s")
        .env("KAANHA_WEBHOOK_CONCURRENCY", "8")
        // Bounds the requests sent but not yet recorded: what a kill may repeat.
        .env("KAANHA_WORKER_CONCURRENCY", "32")
        .env("KAANHA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(match std::env::var("KAANHA_TEST_GATEWAY_LOG") {
            // Where to append the gateways' logs when a test needs explaining.
            Ok(path) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap()
                .into(),
            Err(_) => Stdio::null(),
        })
        .spawn()
        .expect("the gateway starts")
}

pub async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the gateway did not become ready");
}

/// An API instance (`serve --role api`: no engine) in a process of its own, so the statements
/// its `/metrics` counts are its own; killed when dropped.
pub struct ApiInstance {
    child: Child,
    pub base: String,
    pub client: reqwest::Client,
}

impl ApiInstance {
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let child = Command::new(BIN)
            .args(["serve", "--role", "api"])
            .env("KAANHA_DATABASE_URL", database_url)
            .env("KAANHA_BIND", format!("127.0.0.1:{port}"))
            .env("KAANHA_LOG", "warn")
            .envs(env.iter().copied())
            .spawn()
            .expect("the gateway starts");
        let instance = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: crate::helpers::http_client(),
        };
        wait_ready(&instance.client, &instance.base).await;
        instance
    }

    /// `kaanha_db_statements_total`, read with `token` when `/metrics` needs one.
    pub async fn statements(&self, token: Option<&str>) -> u64 {
        let mut request = self.client.get(format!("{}/metrics", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let text = request.send().await.unwrap().text().await.unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix("kaanha_db_statements_total "))
            .unwrap_or_else(|| panic!("no statement count in {text}"))
            .parse()
            .unwrap()
    }
}

impl Drop for ApiInstance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A gateway database on disk with an API key, and the address a gateway process will serve.
struct Site {
    database: TestDatabase,
    key: String,
    port: u16,
    base: String,
    client: reqwest::Client,
}

impl Site {
    async fn new() -> Self {
        let database = TestDatabase::new().await;
        let database_url = database.url.clone();
        let created = Command::new(BIN)
            .args([
                "api-key",
                "create",
                "--org",
                "org_process",
                "--name",
                "process",
            ])
            .args(["--scopes", "webhooks,events:publish"])
            .env("KAANHA_DATABASE_URL", &database_url)
            .output()
            .unwrap();
        let key = String::from_utf8(created.stdout).unwrap().trim().to_owned();
        let port = free_port();
        Self {
            database,
            key,
            port,
            base: format!("http://127.0.0.1:{port}"),
            client: crate::helpers::http_client(),
        }
    }

    /// Starts a gateway process on this site and waits until it is ready.
    async fn start(&self) -> Child {
        let gateway = start_gateway(&self.database.url, self.port);
        wait_ready(&self.client, &self.base).await;
        gateway
    }
}

#[tokio::test]
async fn a_gateway_killed_again_and_again_delivers_every_acknowledged_event() {
    let site = Site::new().await;
    let (key, base, client) = (&site.key, &site.base, &site.client);
    let receiver = Receiver::start().await;
    receiver.answer_with(Answer {
        delay: Duration::from_millis(5),
        ..Answer::status(200)
    });
    let mut gateway = site.start().await;
    let hook =
        json!({"name": "crash", "url": receiver.hook("crash"), "events": ["message.received"]});
    let created = client
        .post(format!("{base}/api/webhooks"))
        .bearer_auth(key)
        .json(&hook)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // 10,000 events in 20 batches; SIGKILL before every fourth batch, while deliveries are in
    // flight and the backlog is large.
    let total_batches = 20;
    let per_batch = 500;
    let mut kills = 0;
    let mut acknowledged: HashSet<String> = HashSet::new();
    for batch in 0..total_batches {
        if batch > 0 && batch % 4 == 0 {
            receiver
                .wait_for_event(
                    "message.received",
                    batch * per_batch / 2,
                    Duration::from_secs(30),
                )
                .await;
            gateway.kill().unwrap();
            gateway.wait().unwrap();
            kills += 1;
            gateway = site.start().await;
        }
        let events: Vec<_> = (0..per_batch)
            .map(|i| json!({"event": "message.received", "id": format!("m{batch}-{i}"), "data": {"i": i}}))
            .collect();
        let answer = client
            .post(format!("{base}/api/events/batch"))
            .bearer_auth(key)
            .json(&json!({"events": events}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 202);
        let body: serde_json::Value = answer.json().await.unwrap();
        for result in body["data"].as_array().unwrap() {
            acknowledged.insert(result["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(acknowledged.len(), total_batches * per_batch);

    // However long a loaded machine takes, as long as deliveries keep arriving.
    let received = receiver
        .wait_for(acknowledged.len(), Duration::from_secs(60), |r| {
            r.event() == "message.received"
        })
        .await;
    // Wait for every acknowledged id (duplicates may make the count arrive earlier).
    let mut counts: HashMap<String, usize> = HashMap::new();
    for _ in 0..600 {
        counts.clear();
        for r in receiver
            .received()
            .iter()
            .filter(|r| r.event() == "message.received")
        {
            *counts
                .entry(r.json()["id"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        if acknowledged.iter().all(|id| counts.contains_key(id)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !counts.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events never arrived, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    eprintln!(
        "{} events, {kills} kills, {} deliveries received, {duplicates} duplicates",
        acknowledged.len(),
        received.len()
    );
    assert!(
        duplicates <= kills * 32,
        "{duplicates} duplicates: more than the requests in flight at {kills} kills"
    );

    // Nothing stays pending.
    let webhook_id = client
        .get(format!("{base}/api/webhooks"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut pending = usize::MAX;
    for _ in 0..100 {
        let page: serde_json::Value = client
            .get(format!(
                "{base}/api/webhooks/{webhook_id}/deliveries?status=pending"
            ))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pending = page["data"].as_array().unwrap().len();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(pending, 0, "deliveries stuck in pending");
    gateway.kill().unwrap();
    gateway.wait().unwrap();
}

#[tokio::test]
async fn sigterm_lets_a_delivery_in_flight_finish_and_be_recorded() {
    let site = Site::new().await;
    let (key, base, client) = (&site.key, &site.base, &site.client);
    let receiver = Receiver::start().await;
    let mut gateway = site.start().await;
    let hook =
        json!({"name": "slow", "url": receiver.hook("slow"), "events": ["payment.completed"]});
    let created: serde_json::Value = client
        .post(format!("{base}/api/webhooks"))
        .bearer_auth(key)
        .json(&hook)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    receiver
        .wait_for_event("webhook.test", 1, Duration::from_secs(5))
        .await;

    receiver.answer_with(Answer {
        delay: Duration::from_millis(800),
        ..Answer::status(200)
    });
    let event = json!({"event": "payment.completed", "id": "pay-1", "data": {}});
    client
        .post(format!("{base}/api/events"))
        .bearer_auth(key)
        .json(&event)
        .send()
        .await
        .unwrap();
    receiver
        .wait_for_event("payment.completed", 1, Duration::from_secs(5))
        .await;
    Command::new("kill")
        .args(["-TERM", &gateway.id().to_string()])
        .status()
        .unwrap();
    // Poll rather than block: the receiver answering the delivery runs on this test's runtime.
    let status = loop {
        if let Some(status) = gateway.try_wait().unwrap() {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "exit status {status}");

    // Restarted, the gateway has nothing left to send: the attempt finished and was recorded.
    let mut gateway = site.start().await;
    let logs: serde_json::Value = client
        .get(format!(
            "{base}/api/webhooks/{}/logs?event=payment.completed",
            created["id"].as_str().unwrap()
        ))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(logs["data"][0]["status"], "delivered", "{logs}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver
            .received()
            .iter()
            .filter(|r| r.event() == "payment.completed")
            .count(),
        1
    );
    gateway.kill().unwrap();
    gateway.wait().unwrap();
}

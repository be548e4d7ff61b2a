//! The receiver every scenario delivers to: counts requests per path, measures latency, and
//! plays the slow, failing or down receivers some scenarios need.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use poem::{Request, Response, handler, http::StatusCode, web::Data};
use serde_json::Value;
use tokio::sync::watch;

pub const CONCURRENCY: usize = 64;
/// How long the noisy organization's receivers take to answer.
pub const SLOW_ANSWER: Duration = Duration::from_millis(4500);

/// The receiver's state: requests per path, plus what the latency, failure and backlog
/// scenarios need.
pub struct Receiver {
    /// Where it listens, `http://127.0.0.1:port`.
    pub base: String,
    pub counts: Mutex<HashMap<String, u64>>,
    /// Microseconds since `start` is the clock publishers stamp events with.
    pub start: Instant,
    pub latencies_us: Mutex<Vec<u64>>,
    /// The neighbours scenario's quiet organization: publish → receipt, microseconds.
    pub quiet_us: Mutex<Vec<u64>>,
    /// While `false`, `/backlog` requests wait: the receiver is "down" (accepting, not answering).
    pub backlog_open: watch::Sender<bool>,
    pub flaky: Mutex<Flaky>,
}

/// The failure scenario's receiver: every answer whose number ends in 0, 1 or 2 is a 500.
#[derive(Default)]
pub struct Flaky {
    pub requests: u64,
    pub errors: u64,
    pub seen: HashSet<String>,
    pub delivered: HashSet<String>,
    /// When every delivery had had its first attempt, and how many had succeeded by then.
    pub first_pass: Option<(Instant, usize)>,
    pub expected: usize,
}

#[handler]
pub async fn receive(req: &Request, body: poem::Body, receiver: Data<&Arc<Receiver>>) -> Response {
    let body = body.into_bytes().await.unwrap_or_default();
    let path = req.uri().path().to_owned();
    let receiver = *receiver;
    // `/latency`, and the year profile's `/<side>/latency`: publish → receipt times.
    if path.ends_with("/latency") || path == "/quiet" {
        let now = receiver.start.elapsed().as_micros() as u64;
        if let Some(sent) = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["data"]["t"].as_u64())
        {
            let latencies = if path == "/quiet" {
                &receiver.quiet_us
            } else {
                &receiver.latencies_us
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
    pub fn new(base: String) -> Self {
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
    pub fn count(&self, path: &str) {
        let mut counts = self.counts.lock().unwrap();
        *counts.entry(path.to_owned()).or_default() += 1;
        if let Some((group, _)) = path.rsplit_once('/').filter(|(g, _)| !g.is_empty()) {
            *counts.entry(group.to_owned()).or_default() += 1;
        }
    }

    pub fn get(&self, path: &str) -> u64 {
        self.counts.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// Waits until `path` has `count` requests; the time when it did.
    pub async fn wait(&self, path: &str, count: u64, limit: Duration) -> Option<Instant> {
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

//! Counters for `GET /metrics`, in Prometheus' text format.

use std::{
    fmt::Write,
    sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed},
};

#[derive(Debug, Default)]
pub struct Metrics {
    pub events_published: AtomicU64,
    pub attempts_delivered: AtomicU64,
    pub attempts_retrying: AtomicU64,
    pub attempts_failed: AtomicU64,
    pub in_flight: AtomicI64,
    /// Deliveries the engine took from the publisher in memory, written already leased to it.
    pub taken_handed: AtomicU64,
    /// Deliveries the engine took by claiming them from the database.
    pub taken_claimed: AtomicU64,
}

impl Metrics {
    /// The exposition; `pending` is read from the database at scrape time.
    pub fn render(&self, pending: Option<u64>) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, String)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        metric(
            "kaanha_events_published_total",
            "counter",
            "Events accepted by this instance's publish API (duplicates excluded).",
            &[("", self.events_published.load(Relaxed).to_string())],
        );
        metric(
            "kaanha_delivery_attempts_total",
            "counter",
            "Delivery attempts recorded by this instance, by the delivery's state after them.",
            &[
                (
                    "{status=\"delivered\"}",
                    self.attempts_delivered.load(Relaxed).to_string(),
                ),
                (
                    "{status=\"pending\"}",
                    self.attempts_retrying.load(Relaxed).to_string(),
                ),
                (
                    "{status=\"failed\"}",
                    self.attempts_failed.load(Relaxed).to_string(),
                ),
            ],
        );
        metric(
            "kaanha_deliveries_taken_total",
            "counter",
            "Deliveries this instance's engine took: handed over by its own publish, or claimed from the database.",
            &[
                (
                    "{by=\"handoff\"}",
                    self.taken_handed.load(Relaxed).to_string(),
                ),
                (
                    "{by=\"claim\"}",
                    self.taken_claimed.load(Relaxed).to_string(),
                ),
            ],
        );
        metric(
            "kaanha_deliveries_in_flight",
            "gauge",
            "Deliveries this instance is sending right now.",
            &[("", self.in_flight.load(Relaxed).to_string())],
        );
        metric(
            "kaanha_db_statements_total",
            "counter",
            "Statements this process sent to its database, BEGIN and COMMIT aside.",
            &[("", super::db::STATEMENTS.load(Relaxed).to_string())],
        );
        metric(
            "kaanha_db_commits_total",
            "counter",
            "Transactions this process committed (statements outside a transaction commit alone and are not counted here).",
            &[("", super::db::COMMITS.load(Relaxed).to_string())],
        );
        if let Some(pending) = pending {
            metric(
                "kaanha_deliveries_pending",
                "gauge",
                "Deliveries waiting for an attempt, across all instances.",
                &[("", pending.to_string())],
            );
        }
        out
    }
}

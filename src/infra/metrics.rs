//! Counters and histograms for `GET /metrics`, in Prometheus' text format. No label names an
//! organization or a webhook: the series stay as few however many tenants there are.

use std::{
    fmt::Write,
    sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed},
    time::Duration,
};

use super::histogram::Histogram;

/// Attempt outcome classes, as `AttemptResult::class` names them.
pub const OUTCOME_CLASSES: [&str; 8] = [
    "2xx",
    "3xx",
    "4xx",
    "5xx",
    "timeout",
    "refused",
    "connection",
    "not_sent",
];

/// Seconds: from a few milliseconds (a receiver next door) to the longest attempt allowed.
const ATTEMPT_BOUNDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Seconds: the same, and up to the minutes a backlog may make a first attempt wait.
const LATENCY_BOUNDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

/// What the database says of the queue, counted in the background (`PendingGauge`).
#[derive(Debug, Clone, Copy)]
pub struct Backlog {
    /// Deliveries waiting for an attempt, across all instances.
    pub pending: u64,
    /// How long the longest-waiting due delivery has waited; zero when none is due.
    pub oldest_due: Duration,
}

#[derive(Debug)]
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
    /// Claims this instance's engine made, each one transaction, whether it found work or not.
    pub claims: AtomicU64,
    /// Webhooks this instance disabled because their deliveries kept failing.
    pub webhooks_disabled: AtomicU64,
    /// Log rows (attempts) and events this instance deleted past `KAANHA_LOG_RETENTION`.
    pub pruned_attempts: AtomicU64,
    pub pruned_events: AtomicU64,
    /// Background checkpoints of SQLite's write-ahead log (`infra::checkpoint`), and the pages
    /// the last one left in the log (written by a transaction still open to a reader).
    pub checkpoints: AtomicU64,
    pub wal_pages_behind: AtomicU64,
    /// Attempts by outcome class, in the order of [`OUTCOME_CLASSES`].
    outcomes: [AtomicU64; OUTCOME_CLASSES.len()],
    attempt_duration: Histogram,
    /// From an event's publish to its delivery's first answer (or failure).
    first_attempt_latency: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            events_published: AtomicU64::default(),
            attempts_delivered: AtomicU64::default(),
            attempts_retrying: AtomicU64::default(),
            attempts_failed: AtomicU64::default(),
            in_flight: AtomicI64::default(),
            taken_handed: AtomicU64::default(),
            taken_claimed: AtomicU64::default(),
            claims: AtomicU64::default(),
            webhooks_disabled: AtomicU64::default(),
            pruned_attempts: AtomicU64::default(),
            pruned_events: AtomicU64::default(),
            checkpoints: AtomicU64::default(),
            wal_pages_behind: AtomicU64::default(),
            outcomes: Default::default(),
            attempt_duration: Histogram::new(ATTEMPT_BOUNDS),
            first_attempt_latency: Histogram::new(LATENCY_BOUNDS),
        }
    }
}

impl Metrics {
    /// Counts one recorded attempt: its class, how long it took, and for a delivery's first
    /// attempt how long after the publish its answer came.
    pub fn observe_attempt(&self, class: &str, took: Duration, since_publish: Option<Duration>) {
        if let Some(i) = OUTCOME_CLASSES.iter().position(|c| *c == class) {
            self.outcomes[i].fetch_add(1, Relaxed);
        }
        self.attempt_duration.observe(took);
        if let Some(latency) = since_publish {
            self.first_attempt_latency.observe(latency);
        }
    }

    /// The exposition; `backlog` is what the database said at most a few seconds ago.
    pub fn render(&self, backlog: Option<Backlog>) -> String {
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
            "kaanha_claims_total",
            "counter",
            "Claims this instance's engine made (one transaction each), whether they found deliveries or not.",
            &[("", self.claims.load(Relaxed).to_string())],
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
        let outcomes: Vec<(String, String)> = OUTCOME_CLASSES
            .iter()
            .zip(&self.outcomes)
            .map(|(class, n)| {
                (
                    format!("{{class=\"{class}\"}}"),
                    n.load(Relaxed).to_string(),
                )
            })
            .collect();
        let outcomes: Vec<(&str, String)> = outcomes
            .iter()
            .map(|(l, v)| (l.as_str(), v.clone()))
            .collect();
        metric(
            "kaanha_attempt_outcomes_total",
            "counter",
            "Delivery attempts recorded by this instance, by outcome: the answer's status class, timeout, refused (address or URL not allowed), connection (no answer) or not_sent.",
            &outcomes,
        );
        metric(
            "kaanha_webhooks_disabled_total",
            "counter",
            "Webhooks this instance disabled because their deliveries kept failing (KAANHA_DISABLE_AFTER_FAILURES).",
            &[("", self.webhooks_disabled.load(Relaxed).to_string())],
        );
        metric(
            "kaanha_pruned_rows_total",
            "counter",
            "Rows this instance deleted past KAANHA_LOG_RETENTION: delivery log rows, and events with their deliveries.",
            &[
                (
                    "{table=\"attempts\"}",
                    self.pruned_attempts.load(Relaxed).to_string(),
                ),
                (
                    "{table=\"events\"}",
                    self.pruned_events.load(Relaxed).to_string(),
                ),
            ],
        );
        metric(
            "kaanha_sqlite_checkpoints_total",
            "counter",
            "Background checkpoints of SQLite's write-ahead log into the database file (0 on PostgreSQL).",
            &[("", self.checkpoints.load(Relaxed).to_string())],
        );
        metric(
            "kaanha_sqlite_wal_pages_behind",
            "gauge",
            "Pages of SQLite's write-ahead log the last background checkpoint could not copy yet (0 on PostgreSQL).",
            &[("", self.wal_pages_behind.load(Relaxed).to_string())],
        );
        if let Some(backlog) = backlog {
            metric(
                "kaanha_deliveries_pending",
                "gauge",
                "Deliveries waiting for an attempt, across all instances.",
                &[("", backlog.pending.to_string())],
            );
            metric(
                "kaanha_oldest_due_delivery_age_seconds",
                "gauge",
                "How long the longest-waiting due delivery, across all instances, has waited for its attempt (0 when none waits): the delivery lag.",
                &[("", format!("{:.3}", backlog.oldest_due.as_secs_f64()))],
            );
        }
        self.attempt_duration.render(
            &mut out,
            "kaanha_attempt_duration_seconds",
            "How long each attempt took, from connecting to the end of the answer read.",
        );
        self.first_attempt_latency.render(
            &mut out,
            "kaanha_delivery_latency_seconds",
            "From an event's publish to the end of its delivery's first attempt (delivery lag plus the receiver's time).",
        );
        out
    }
}

//! Configuration: every setting is a flag and a `KAANHA_*` variable. Every floor may read its
//! settings here; this module imports nothing from the rest of the crate.

use std::{net::SocketAddr, time::Duration};

use clap::{Args, Parser, ValueEnum, builder::BoolishValueParser};

mod console;
mod limits;
mod retry;
mod security;

pub use console::ConsoleLinks;
pub use limits::Limits;
pub use retry::{RETRY_AFTER_MAX, RETRY_AFTER_MIN, RetrySchedule};
pub use security::{SecurityConfig, UPSTREAM_AUDIENCE, decode_key};

/// Where the gateway keeps its data unless told otherwise: an SQLite file in the working
/// directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://kaanha-gateway.db?mode=rwc";

/// The database, as every command that opens it takes it.
#[derive(Debug, Clone, Args)]
pub struct Database {
    /// Database: a SQLite file (the default, created on first start) or `postgres://...`.
    #[arg(
        long = "database-url",
        env = "KAANHA_DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL,
        // It may hold a password: `--help` shows the default, never what is set.
        hide_env_values = true
    )]
    pub url: String,
}

impl Database {
    /// The settings a command other than `serve` runs with: this database, the rest from the
    /// environment.
    pub fn config(&self) -> Config {
        Config::for_database(&self.url)
    }
}

/// Every setting of a serving gateway.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// What this instance does: `all` (API and delivery workers), `api` (never sends), or
    /// `worker` (delivers; serves only health, readiness and metrics).
    #[arg(long, env = "KAANHA_ROLE", value_enum, default_value = "all")]
    pub role: Role,

    /// Address and port the HTTP API listens on.
    #[arg(long, env = "KAANHA_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    #[command(flatten)]
    pub database: Database,

    /// Database connections the gateway opens at start and keeps open (PostgreSQL; SQLite always
    /// uses one).
    #[arg(long, env = "KAANHA_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,

    /// Allow `http` and loopback/private webhook targets. For development and tests only.
    #[arg(
        long,
        env = "KAANHA_ALLOW_PRIVATE_TARGETS",
        value_parser = BoolishValueParser::new(),
        num_args = 0..=1,
        default_value = "false",
        default_missing_value = "true"
    )]
    pub allow_private_targets: bool,

    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "KAANHA_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,

    /// Largest `POST /api/events/batch` body, in bytes (each event within it is still held to
    /// `--max-body-bytes`).
    #[arg(long, env = "KAANHA_MAX_BATCH_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_batch_bytes: usize,

    /// Delays before each retry after a failed attempt, comma-separated (`none` for no
    /// retries). The Kaanha webhooks documentation's schedule: 5 s, 25 s, 2 min, then `failed`.
    #[arg(long, env = "KAANHA_RETRY_SCHEDULE", default_value = "5s,25s,2m", value_parser = parse_schedule)]
    pub retry_schedule: RetrySchedule,

    /// How long one delivery attempt may take, connection and 2 KiB of answer included.
    #[arg(long, env = "KAANHA_DELIVERY_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub delivery_timeout: Duration,

    /// How long a worker holds a claimed delivery before another may take it (a crashed
    /// worker's deliveries come back after this). Default: twice the delivery timeout plus 30 s.
    #[arg(long, env = "KAANHA_DELIVERY_LEASE", value_parser = humantime::parse_duration)]
    pub delivery_lease: Option<Duration>,

    /// Most deliveries in flight at once, over all webhooks.
    #[arg(long, env = "KAANHA_WORKER_CONCURRENCY", default_value_t = 256)]
    pub worker_concurrency: usize,

    /// Most deliveries in flight at once to any one webhook, so a slow receiver cannot take
    /// every slot.
    #[arg(long, env = "KAANHA_WEBHOOK_CONCURRENCY", default_value_t = 16)]
    pub webhook_concurrency: usize,

    /// A webhook is disabled once this many of its deliveries in a row have failed (every
    /// retry spent) ... (`0`: never disable).
    #[arg(long, env = "KAANHA_DISABLE_AFTER_FAILURES", default_value_t = 20)]
    pub disable_after_failures: u32,

    /// ... and the first of those failures is at least this old, so a receiver down for a
    /// short while keeps its webhook however many events it missed.
    #[arg(long, env = "KAANHA_DISABLE_AFTER", default_value = "24h", value_parser = humantime::parse_duration)]
    pub disable_after: Duration,

    /// How long a webhook's previous secret keeps signing deliveries after it is rotated, so
    /// receivers can switch without rejecting anything.
    #[arg(long, env = "KAANHA_SECRET_OVERLAP", default_value = "24h", value_parser = humantime::parse_duration)]
    pub secret_overlap: Duration,

    /// How often idle workers look for due deliveries on their own. A publish wakes them at
    /// once; this only bounds how late work written by someone else is noticed.
    #[arg(long, env = "KAANHA_POLL_INTERVAL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,

    /// A JSON file of event types and actions added to the built-in ones (format:
    /// `examples/catalog.json`); read and checked at start.
    #[arg(long, env = "KAANHA_CATALOG")]
    pub catalog: Option<std::path::PathBuf>,

    /// How long delivery logs and finished events are kept.
    #[arg(long, env = "KAANHA_LOG_RETENTION", default_value = "30days", value_parser = humantime::parse_duration)]
    pub log_retention: Duration,

    /// The address clients reach this gateway at, as discovery reports it (e.g.
    /// `https://hooks.example.com`). Default: taken from each request's `Host`.
    #[arg(long, env = "KAANHA_PUBLIC_URL")]
    pub public_url: Option<url::Url>,

    /// The platform's API, where actions are forwarded (e.g. `https://app.kaanha.ai`). Without
    /// it, discovery lists actions as unavailable and running one answers 503.
    #[arg(long, env = "KAANHA_UPSTREAM_URL")]
    pub upstream_url: Option<url::Url>,

    /// Where the generic API call ("Make an API call") may go: comma-separated path prefixes of
    /// the platform's API. Empty: no generic calls.
    #[arg(
        long,
        env = "KAANHA_UPSTREAM_CALL_PREFIXES",
        default_value = "/api/contacts,/api/conversations,/api/messages,/api/tags,/api/payment-links,/api/broadcasts"
    )]
    pub upstream_call_prefixes: String,

    /// How long a forwarded action may take.
    #[arg(long, env = "KAANHA_UPSTREAM_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub upstream_timeout: Duration,

    #[command(flatten)]
    pub security: SecurityConfig,

    #[command(flatten)]
    pub limits: Limits,

    #[command(flatten)]
    pub console: ConsoleLinks,

    /// Log filter in `tracing` syntax, e.g. `info` or `kaanha_gateway=debug`.
    #[arg(long, env = "KAANHA_LOG", default_value = "info,sqlx=warn")]
    pub log: String,

    /// Log line format.
    #[arg(long, env = "KAANHA_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// API and workers in one process (the default).
    All,
    /// The HTTP API only: accepts and stores, never sends.
    Api,
    /// Workers only: sends; serves health, readiness and metrics.
    Worker,
}

impl Role {
    pub fn serves_api(self) -> bool {
        self != Role::Worker
    }

    pub fn delivers(self) -> bool {
        self != Role::Api
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

fn parse_schedule(value: &str) -> Result<RetrySchedule, String> {
    value.parse()
}

impl Config {
    /// The lease, never shorter than a delivery can take: a claimed delivery may wait in its
    /// webhook's queue for one request to end (at most the timeout), then take its own.
    pub fn lease(&self) -> Duration {
        let longest = self.delivery_timeout * 2;
        self.delivery_lease
            .unwrap_or(longest + Duration::from_secs(30))
            .max(longest + Duration::from_secs(1))
    }

    /// Refuses settings that would leave tenants exposed, and warns of those meant only for
    /// development.
    pub fn check(&self) -> anyhow::Result<()> {
        self.security.check()?;
        if self.allow_private_targets {
            tracing::warn!(
                "KAANHA_ALLOW_PRIVATE_TARGETS is on: webhooks may point at this machine and its network; use it for development and tests only"
            );
        }
        if self.security.encryption_key.is_none() {
            tracing::warn!(
                "KAANHA_ENCRYPTION_KEY is not set: webhook secrets are stored in plain text"
            );
        }
        Ok(())
    }

    /// Settings for tests and embedding: defaults, with the given database.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            config: Config,
        }
        Self {
            database: Database {
                url: database_url.into(),
            },
            ..Defaults::parse_from(["kaanha-gateway"]).config
        }
    }
}

/// A database URL fit to print: its password, if any, replaced by `***`.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

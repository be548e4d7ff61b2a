//! kaanha-bench: the gateway (release build, its own temporary database) against a fast local
//! receiver on loopback, scenario by scenario, each throughput printed with its ratio to the
//! raw ceiling measured in the same run (a plain client posting the same signed body).
//!
//!     cargo build --release --workspace && target/release/kaanha-bench --db sqlite|postgres [--quick]

use std::sync::Arc;

mod claims;
mod gateway;
mod history;
mod neighbours;
mod raw;
mod receiver;
mod report;
mod scenarios;
mod throughput;
mod usage;
mod year;
mod year_traffic;

use clap::{Parser, ValueEnum};
use gateway::start_gateway;
use neighbours::neighbours;
use poem::{EndpointExt, Route, Server, listener::TcpAcceptor};
use receiver::{Receiver, receive};
use report::report;
use scenarios::{backlog, failures, scale, steady};
use usage::Usage;

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
    /// Only these scenarios (besides the raw ceiling), e.g. `--only steady` when profiling.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Scenario>,
    /// A profile instead of the scenarios: `year` loads a deployment's history (a month of a
    /// skewed tenant base; `--quick` for a small one) and measures the customer reads on it
    /// beside an empty gateway, and the bytes each delivery takes on disk.
    #[arg(long, value_enum)]
    profile: Option<Profile>,
    /// Where the JSON and Markdown results go: beside the build, so a run leaves the working
    /// tree clean; `--out bench/results` replaces the committed ones.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-results"))]
    out: String,
}

/// Profiles, for `--profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Profile {
    Year,
}

/// The scenarios, for `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Publish,
    EndToEnd,
    FanOut,
    Steady,
    Failures,
    Scale,
    Backlog,
    Neighbours,
    Claims,
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
    let runs = |scenario: Scenario| args.only.is_empty() || args.only.contains(&scenario);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver = format!("http://{}", listener.local_addr()?);
    let counts = Arc::new(Receiver::new(receiver.clone()));
    let app = Route::new()
        .at("/*path", poem::post(receive))
        .data(counts.clone());
    tokio::spawn(Server::new_with_acceptor(TcpAcceptor::from_tokio(listener)?).run(app));
    if args.profile == Some(Profile::Year) {
        let rows = year::year(&args, &receiver, &counts, sizes).await?;
        report(&args, &rows)?;
        let failed = rows.iter().any(|r| r.detail.starts_with("FAILED"));
        anyhow::ensure!(!failed, "a measurement failed (its row says why)");
        return Ok(());
    }

    let mut gateway = start_gateway(&args).await?;
    let mut rows = Vec::new();

    // The raw ceiling: the same signed body, the same receiver, the same concurrency, no database.
    let (ceiling_row, ceiling) = raw::measure(&receiver, sizes.raw)?;
    rows.push(ceiling_row);

    // Each scenario with what it cost the gateway and its database, per unit of its count.
    let db = args.db;
    macro_rules! measured {
        ($scenario:expr) => {{
            let before = Usage::read(&gateway, db).await;
            let mut row = $scenario.await?;
            row.cost = Some(Usage::read(&gateway, db).await.since(&before, row.count));
            rows.push(row);
        }};
    }
    if runs(Scenario::Publish) {
        measured!(throughput::publish_single(&gateway, sizes.publish));
        measured!(throughput::publish_batch(&gateway, sizes.publish));
    }
    if runs(Scenario::EndToEnd) {
        measured!(throughput::end_to_end(
            &gateway,
            &counts,
            sizes.end_to_end,
            ceiling,
            "/e2e"
        ));
    }
    if runs(Scenario::FanOut) {
        let (events, hooks) = (sizes.fan_events, sizes.fan_hooks);
        measured!(throughput::fan_out(
            &gateway, &counts, events, hooks, ceiling
        ));
    }
    // Steady rates, where the cost per event is per wake-up and per transaction.
    if runs(Scenario::Steady) {
        for rate in [500, 1_000] {
            measured!(steady(
                &gateway,
                &counts,
                rate,
                sizes.steady_seconds,
                "/latency"
            ));
        }
    }
    if runs(Scenario::Failures) {
        // Per event published, not per healthy delivery counted.
        let before = Usage::read(&gateway, db).await;
        let mut row = failures(&gateway, &counts, sizes.failures, ceiling).await?;
        row.cost = Some(
            Usage::read(&gateway, db)
                .await
                .since(&before, sizes.failures as u64),
        );
        rows.push(row);
    }
    if runs(Scenario::Scale) {
        for (webhooks, event) in sizes.scale.iter().zip(SCALE_EVENTS) {
            let deliveries = sizes.scale_deliveries;
            measured!(scale(
                &gateway, &counts, *webhooks, deliveries, event, ceiling
            ));
        }
    }
    if runs(Scenario::Backlog) {
        measured!(backlog(&gateway, &counts, sizes.backlog, ceiling));
    }
    if runs(Scenario::Neighbours) {
        rows.extend(neighbours(&gateway, &counts, sizes.neighbours).await?);
    }
    if runs(Scenario::Claims) {
        rows.extend(claims::claims(&gateway, &counts, db, sizes.claims_backlog).await?);
    }

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
    /// Each steady rate's duration.
    pub steady_seconds: u64,
    pub failures: usize,
    pub scale: [usize; 3],
    pub scale_deliveries: usize,
    pub backlog: usize,
    /// Noisy organization's webhooks and events each; quiet organization's events.
    pub neighbours: (usize, usize, usize),
    /// Due deliveries on the webhook limited to 1/s, beside which claims are measured.
    pub claims_backlog: usize,
}

impl Sizes {
    const QUICK: Sizes = Sizes {
        raw: 20_000,
        publish: 2_000,
        end_to_end: 10_000,
        fan_events: 500,
        fan_hooks: 20,
        steady_seconds: 5,
        failures: 2_000,
        scale: [1, 10, 100],
        scale_deliveries: 2_000,
        backlog: 20_000,
        neighbours: (100, 20, 100),
        claims_backlog: 5_000,
    };
    const FULL: Sizes = Sizes {
        raw: 50_000,
        publish: 20_000,
        end_to_end: 50_000,
        fan_events: 5_000,
        fan_hooks: 20,
        steady_seconds: 30,
        failures: 20_000,
        scale: [1, 100, 10_000],
        scale_deliveries: 20_000,
        backlog: 200_000,
        neighbours: (1_200, 5, 500),
        claims_backlog: 100_000,
    };
}

/// One event type per scale step, used by no other scenario, so each step's webhooks get only
/// its own events.
pub const SCALE_EVENTS: [&str; 3] = [
    "contact.created",
    "contact.opted_out",
    "broadcast.completed",
];

//! How much of the gateway one client connection or one organization may take, so that many
//! tenants can share it: no connection holds a socket forever, and no organization takes every
//! worker, every row or every outbound request.

use std::time::Duration;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct Limits {
    /// How long a client may take to send a request's headers (and how long an idle
    /// keep-alive connection waits for its next request) before it is closed.
    #[arg(long, env = "KAANHA_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_read_timeout: Duration,

    /// A connection that sends and receives nothing for this long is closed (a body trickled
    /// in, an HTTP/2 connection left open).
    #[arg(long, env = "KAANHA_IDLE_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,

    /// The longest a request's whole body may take to arrive, however steadily its bytes come
    /// (the idle timeout restarts at every byte).
    #[arg(long, env = "KAANHA_BODY_READ_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub body_read_timeout: Duration,

    /// Most client connections open at once; past it a new connection gets 503 and is closed.
    /// Keep it under the process's open-file limit (`ulimit -n`).
    #[arg(long, env = "KAANHA_MAX_CONNECTIONS", default_value_t = 8192)]
    pub max_connections: usize,

    /// Most connections, and most requests in flight, from one client address (behind
    /// `KAANHA_TRUSTED_PROXIES`, the address they forward); past it the client gets 429, so no
    /// one client can take the connections everyone else needs.
    #[arg(long, env = "KAANHA_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 256)]
    pub max_connections_per_client: usize,

    /// Most webhooks (subscriptions included) one organization may have.
    #[arg(long, env = "KAANHA_MAX_WEBHOOKS_PER_ORG", default_value_t = 1000)]
    pub max_webhooks_per_org: u64,

    /// Most API keys (not revoked) one organization may have.
    #[arg(long, env = "KAANHA_MAX_API_KEYS_PER_ORG", default_value_t = 100)]
    pub max_api_keys_per_org: u64,

    /// Most deliveries one organization may have in flight at once on one instance; the
    /// workers are also shared in turn between the organizations that are waiting.
    #[arg(long, env = "KAANHA_ORG_CONCURRENCY", default_value_t = 128)]
    pub org_concurrency: usize,

    /// Requests sent by hand that one organization may make per minute: test events (`POST
    /// .../test`), manual retries, recover and replay calls. Past it they answer 429.
    #[arg(long, env = "KAANHA_MANUAL_SENDS_PER_MINUTE", default_value_t = 60)]
    pub manual_sends_per_minute: u32,

    /// Webhooks one organization may create per minute (each gets a test event); past it 429.
    /// Generous: a migration creates its webhooks in a burst.
    #[arg(
        long,
        env = "KAANHA_WEBHOOK_CREATIONS_PER_MINUTE",
        default_value_t = 1000
    )]
    pub webhook_creations_per_minute: u32,

    /// Most stored events one replay call may send again (`POST /api/webhooks/{id}/replay`);
    /// a range holding more answers 422 and is split by the caller.
    #[arg(long, env = "KAANHA_REPLAY_MAX_EVENTS", default_value_t = 10_000)]
    pub replay_max_events: u64,

    /// Most failed deliveries one recover call may put back in the queue; a range holding more
    /// answers 422 and is split by the caller.
    #[arg(long, env = "KAANHA_RECOVER_MAX_DELIVERIES", default_value_t = 10_000)]
    pub recover_max_deliveries: u64,

    /// Most deliveries recover and replay may queue per organization per clock hour, counted
    /// across every instance on the database; a call that would pass it answers 429 and queues
    /// nothing.
    #[arg(long, env = "KAANHA_REDELIVERIES_PER_HOUR", default_value_t = 100_000)]
    pub redeliveries_per_hour: u64,

    /// Most MCP sessions (`/mcp`) one organization may hold open on one instance; past it, a
    /// new session answers 429. A session idle for 5 minutes ends on its own.
    #[arg(long, env = "KAANHA_MCP_SESSIONS_PER_ORG", default_value_t = 50)]
    pub mcp_sessions_per_org: usize,
}

//! What a scenario cost: CPU time of the gateway's process and of the database's (read from
//! `/proc`, in nanoseconds from each thread's `schedstat`), the gateway's context switches, and
//! the statements and commits it counted in `/metrics`. Divided by what the scenario delivered,
//! it is the cost per event, steadier on a shared machine than any rate.

use std::fs;

use crate::{Db, gateway::Gateway};

/// One reading, to subtract from a later one.
#[derive(Clone, Copy, Default)]
pub struct Usage {
    gateway_ns: u64,
    database_ns: u64,
    switches: u64,
    statements: u64,
    commits: u64,
}

/// A scenario's cost per unit of its count (an event, or a delivery where it says so).
#[derive(Clone, Copy, Debug)]
pub struct Cost {
    /// The whole gateway process, in microseconds (on SQLite, its database thread included).
    pub gateway_us: f64,
    /// PostgreSQL's processes; on SQLite the gateway's database thread, already in `gateway_us`.
    pub database_us: f64,
    pub switches: f64,
    pub statements: f64,
    pub commits: f64,
}

impl Usage {
    pub async fn read(gateway: &Gateway, db: Db) -> Usage {
        let (statements, commits) = gateway.db_counters().await;
        let threads = threads_of(gateway.pid);
        let database_ns = match db {
            // sqlx runs each SQLite connection on a thread of its own, named after it.
            Db::Sqlite => threads
                .iter()
                .filter(|t| comm(t).starts_with("sqlx-sqlite"))
                .map(|t| cpu_ns(t))
                .sum(),
            Db::Postgres => postgres_processes().iter().map(|p| cpu_ns(p)).sum(),
        };
        Usage {
            gateway_ns: threads.iter().map(|t| cpu_ns(t)).sum(),
            database_ns,
            switches: threads.iter().map(|t| switches(t)).sum(),
            statements,
            commits,
        }
    }

    /// The cost per unit from `before` to this reading, over `count` units.
    pub fn since(&self, before: &Usage, count: u64) -> Cost {
        let per =
            |after: u64, before: u64| after.saturating_sub(before) as f64 / count.max(1) as f64;
        Cost {
            gateway_us: per(self.gateway_ns, before.gateway_ns) / 1000.0,
            database_us: per(self.database_ns, before.database_ns) / 1000.0,
            switches: per(self.switches, before.switches),
            statements: per(self.statements, before.statements),
            commits: per(self.commits, before.commits),
        }
    }
}

/// `/proc/<pid>/task/<tid>` of every thread of a process.
fn threads_of(pid: u32) -> Vec<String> {
    fs::read_dir(format!("/proc/{pid}/task"))
        .map(|dir| {
            dir.filter_map(|t| Some(t.ok()?.path().to_str()?.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// `/proc/<pid>` of every process named `postgres` (the server, its background workers and a
/// backend per connection).
fn postgres_processes() -> Vec<String> {
    fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|p| Some(p.ok()?.path().to_str()?.to_owned()))
                .filter(|p| comm(p) == "postgres")
                .collect()
        })
        .unwrap_or_default()
}

fn comm(path: &str) -> String {
    fs::read_to_string(format!("{path}/comm"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Time on a CPU, in nanoseconds: the first field of `schedstat`.
fn cpu_ns(path: &str) -> u64 {
    fs::read_to_string(format!("{path}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Voluntary and involuntary context switches of one thread.
fn switches(path: &str) -> u64 {
    fs::read_to_string(format!("{path}/status"))
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            l.starts_with("voluntary_ctxt_switches") || l.starts_with("nonvoluntary_ctxt_switches")
        })
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

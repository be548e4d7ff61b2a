//! One row per scenario, printed as a table and written to `bench/results/`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{Args, Db, usage::Cost};

pub struct Row {
    pub scenario: String,
    pub count: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub ratio: Option<f64>,
    /// What else the scenario measured (latency percentiles, memory, retries, ...).
    pub detail: String,
    /// CPU, switches, statements and commits per unit of `count`.
    pub cost: Option<Cost>,
}

pub fn row(scenario: &str, count: u64, took: Duration, ceiling: Option<f64>) -> Row {
    let seconds = took.as_secs_f64();
    let per_second = count as f64 / seconds;
    Row {
        scenario: scenario.into(),
        count,
        seconds,
        per_second,
        ratio: ceiling.map(|c| per_second / c),
        detail: String::new(),
        cost: None,
    }
}

pub fn report(args: &Args, rows: &[Row]) -> anyhow::Result<()> {
    let db = match args.db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    let mode = if args.quick { "quick" } else { "full" };
    let database = match args.db {
        Db::Sqlite => "SQLite thread µs (in gateway)",
        Db::Postgres => "PostgreSQL µs",
    };
    let mut md = format!(
        "| scenario ({db}, {mode}) | count | seconds | per second | × raw ceiling | gateway µs | {database} | switches | statements | commits | detail |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
    );
    for r in rows {
        let ratio = r.ratio.map_or("".to_owned(), |x| format!("{x:.2}"));
        let cost = r.cost.map_or("| | | | |".to_owned(), |c| {
            format!(
                "{:.0} | {:.0} | {:.1} | {:.2} | {:.2} |",
                c.gateway_us, c.database_us, c.switches, c.statements, c.commits
            )
        });
        md.push_str(&format!(
            "| {} | {} | {:.2} | {:.0} | {ratio} | {cost} {} |\n",
            r.scenario, r.count, r.seconds, r.per_second, r.detail
        ));
    }
    print!("{md}");
    let json: Vec<Value> = rows
        .iter()
        .map(|r| {
            let cost = r.cost.map(|c| json!({"gatewayCpuUs": c.gateway_us, "databaseCpuUs": c.database_us, "contextSwitches": c.switches, "statements": c.statements, "commits": c.commits}));
            json!({"scenario": r.scenario, "count": r.count, "seconds": r.seconds, "perSecond": r.per_second, "ratioToRawCeiling": r.ratio, "detail": r.detail, "perUnit": cost})
        })
        .collect();
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(format!("{}/{db}-{mode}.md", args.out), &md)?;
    std::fs::write(
        format!("{}/{db}-{mode}.json", args.out),
        serde_json::to_string_pretty(&json!({"db": db, "mode": mode, "rows": json}))?,
    )?;
    Ok(())
}

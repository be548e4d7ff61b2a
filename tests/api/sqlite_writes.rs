//! How the gateway writes to SQLite: a lone publish as one script that commits whole or not at
//! all, and the write-ahead log checkpointed in the background rather than inside a commit.

use std::time::{Duration, Instant};

use kaanha_gateway::{config::Config, infra};
use sea_orm::{ConnectionTrait, DbBackend, Statement, sea_query::Query};
use serde_json::json;

use crate::{
    database::{TestDatabase, announce},
    helpers::spawn_app_on,
};

fn queue_row(org: &str) -> Statement {
    let mut insert = Query::insert();
    insert
        .into_table(entity::org_queue::Entity)
        .columns([
            entity::org_queue::Column::OrgId,
            entity::org_queue::Column::ReadyAt,
        ])
        .values_panic([org.into(), 1_i64.into()]);
    DbBackend::Sqlite.build(&insert)
}

async fn queue_rows(db: &sea_orm::DatabaseConnection) -> Vec<sea_orm::QueryResult> {
    let select = "SELECT org_id FROM org_queues";
    db.query_all_raw(Statement::from_string(DbBackend::Sqlite, select))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_script_that_fails_midway_writes_nothing_and_leaves_the_connection_usable() {
    let database = TestDatabase::new().await;
    if database.is_postgres() {
        announce("skipped the SQLite script test: the suite runs on PostgreSQL");
        return;
    }
    let db = infra::db::connect(&Config::for_database(&database.url))
        .await
        .unwrap();
    infra::db::migrate(&db).await.unwrap();

    // The second row repeats the first one's key: the script fails after writing one.
    let failing = [queue_row("org_first"), queue_row("org_first")];
    let err = infra::script::commit_script(&db, &failing).await;
    assert!(
        err.is_err(),
        "a unique key written twice must fail the script"
    );

    let rows = queue_rows(&db).await;
    assert!(
        rows.is_empty(),
        "the first row was rolled back with the rest"
    );

    // The one connection is not left inside the failed transaction: the next script (which
    // begins one of its own) commits, and its row is there.
    infra::script::commit_script(&db, &[queue_row("org_next")])
        .await
        .expect("the connection takes a new transaction");
    let rows = queue_rows(&db).await;
    assert_eq!(rows.len(), 1);
}

#[tokio::test]
async fn the_write_ahead_log_reaches_the_database_file_in_the_background() {
    let database = TestDatabase::new().await;
    if database.is_postgres() {
        announce("skipped the SQLite checkpoint test: the suite runs on PostgreSQL");
        return;
    }
    let path = database
        .url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let app = spawn_app_on(database.url.clone(), Default::default()).await;
    let key = app.api_key("org_wal", &["events:publish"]).await;
    let size = || std::fs::metadata(&path).unwrap().len();
    let checkpoints = || async {
        let metrics = app.metrics().await;
        let line = metrics
            .lines()
            .find(|l| l.starts_with("kaanha_sqlite_checkpoints_total "))
            .expect("the checkpoint counter is exported")
            .to_owned();
        line.rsplit(' ').next().unwrap().parse::<u64>().unwrap()
    };
    let before = size();

    // About a megabyte of events: hundreds of pages, far under the commit's own backstop.
    let text = "x".repeat(4_000);
    for _ in 0..5 {
        let events = (0..50)
            .map(|_| json!({"event": "message.received", "data": {"text": text}}))
            .collect();
        app.publish_batch(&key, events).await;
    }

    // Waits while the background makes progress: fails once several of its rounds passed
    // after the writes with the file not grown, or when no round has run for 10 s.
    let counted = checkpoints().await;
    let (mut last, mut last_seen) = (counted, Instant::now());
    while size() <= before + 500_000 {
        let now = checkpoints().await;
        if now != last {
            (last, last_seen) = (now, Instant::now());
        }
        assert!(
            now < counted + 8,
            "{} checkpoints ran and the database file grew only from {before} to {} bytes",
            now - counted,
            size()
        );
        assert!(
            last_seen.elapsed() < Duration::from_secs(10),
            "no background checkpoint for 10 s (counter at {now})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

//! The gateway's PostgreSQL sessions plan without JIT and without parallel workers: on a large
//! table without statistics, a lookup of one row was planned as tens of thousands and paid
//! both, 40–60 ms where the read itself took a fraction of one (`infra::pg_session`).

use kaanha_gateway::{config::Config, infra};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::database::{TestDatabase, announce};

#[tokio::test]
async fn every_connection_of_the_gateways_pool_plans_without_jit_or_parallel_workers() {
    let database = TestDatabase::new().await;
    if !database.is_postgres() {
        announce("skipped the PostgreSQL session test: the suite runs on SQLite");
        return;
    }
    let mut config = Config::for_database(&database.url);
    config.db_max_connections = 3;
    let db = infra::db::connect(&config).await.unwrap();
    let settings = "SELECT current_setting('jit') AS jit, \
                    current_setting('max_parallel_workers_per_gather') AS workers";
    // Three at once, so the pool hands out more than the connection it opened first.
    let reads =
        (0..3).map(|_| db.query_one_raw(Statement::from_string(DbBackend::Postgres, settings)));
    for row in futures_util::future::join_all(reads).await {
        let row = row.unwrap().unwrap();
        let jit: String = row.try_get("", "jit").unwrap();
        let workers: String = row.try_get("", "workers").unwrap();
        assert_eq!(jit, "off", "JIT compiles a statement the gateway sent");
        assert_eq!(workers, "0", "parallel workers planned for the gateway");
    }
    db.close().await.unwrap();
}

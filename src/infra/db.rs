//! Connecting to the database and bringing its schema up to date.

use std::{
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::Duration,
};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionSession, TransactionTrait,
};

use crate::config::Config;

/// Statements this process sent to its database (a transaction's `BEGIN` and `COMMIT` aside),
/// for `/metrics`: what an event costs in round trips is what sets the CPU per event.
pub static STATEMENTS: AtomicU64 = AtomicU64::new(0);
/// Transactions this process committed through [`commit`].
pub static COMMITS: AtomicU64 = AtomicU64::new(0);

/// Commits, counting it in [`COMMITS`].
pub async fn commit(txn: impl TransactionSession) -> Result<(), DbErr> {
    txn.commit().await?;
    COMMITS.fetch_add(1, Relaxed);
    Ok(())
}

/// Opens the pool. On SQLite: WAL, a busy timeout (for other processes, such as the CLI), and
/// one connection.
///
/// SQLite lets one connection write at a time, and a connection that finds the lock taken
/// sleeps (1 ms, 2 ms, 5 ms, ... up to 100 ms) before it tries again. With a pool of several,
/// publishes, claims and the recorder took turns that way: under a steady 1,000 publishes/s the
/// delivery engine lost the race for the lock for up to a second at a time. On one connection
/// they queue in the pool instead (fairly, without sleeping), and its page cache stays warm:
/// SQLite empties a connection's cache whenever another connection has written.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    connect_holding(config, 1).await
}

/// [`connect`], with at least `held` of the pool's connections opened before it returns and
/// kept open (replaced in the background when one closes).
async fn connect_holding(config: &Config, held: u32) -> Result<DatabaseConnection, DbErr> {
    let sqlite = config.database.url.starts_with("sqlite:");
    let connections = if sqlite {
        1
    } else {
        config.db_max_connections.max(1)
    };
    let mut options = ConnectOptions::new(creating_the_file(&config.database.url));
    options
        .max_connections(connections)
        .min_connections(held.clamp(1, connections))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Freed space on a page is zeroed, so a webhook secret sealed in place (or a
                // deleted row) leaves no readable copy behind in the file.
                .pragma("secure_delete", "FAST")
                // Checkpoints run in the background (`infra::checkpoint`); a commit runs one
                // only past this backstop.
                .pragma(
                    "wal_autocheckpoint",
                    crate::infra::checkpoint::BACKSTOP_PAGES.to_string(),
                )
        })
        .map_sqlx_postgres_pool_opts(|pool| {
            pool.after_connect(|conn, _| {
                Box::pin(async move {
                    crate::infra::pg_session::settle(conn).await?;
                    crate::infra::tcp_nodelay::set_on(conn).await
                })
            })
        });
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(|info| {
        STATEMENTS.fetch_add(1, Relaxed);
        // Every statement, when profiling: `KAANHA_LOG=warn,kaanha_gateway::sql=trace`.
        tracing::trace!(target: "kaanha_gateway::sql", took = ?info.elapsed, "{}", info.statement.sql);
    });
    Ok(db)
}

/// Opens the database `config` names, or says in one sentence what is wrong with it: a URL that
/// is neither SQLite nor PostgreSQL, a server that does not answer (named, with the reason, not
/// after a pool's time-out), a file that cannot be opened. One connection is opened: enough for
/// a command of the CLI.
pub async fn open(config: &Config) -> anyhow::Result<DatabaseConnection> {
    open_holding(config, 1).await
}

/// [`open`] for a serving gateway: every connection of the pool (`KAANHA_DB_MAX_CONNECTIONS`)
/// is opened before it serves, and kept open.
///
/// A pool that opened connections only when busy made the request that found it busy wait for
/// a new connection: on PostgreSQL a new backend and, by default, a TLS handshake. A fresh
/// instance paid that in its first busy moments as one stall of every publish, while the pool
/// grew (found in `kaanha-bench --profile year`, whose pruning phase runs on a restarted
/// gateway: `log_connections` showed each connection taking as long as the stall).
pub async fn open_to_serve(config: &Config) -> anyhow::Result<DatabaseConnection> {
    open_holding(config, config.db_max_connections).await
}

async fn open_holding(config: &Config, held: u32) -> anyhow::Result<DatabaseConnection> {
    let url = &config.database.url;
    let shown = crate::config::redacted(url);
    let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
    if !postgres && !url.starts_with("sqlite:") {
        anyhow::bail!(
            "KAANHA_DATABASE_URL must be a SQLite file (sqlite://kaanha-gateway.db) or a PostgreSQL database (postgres://user@host:5432/db); `{shown}` is neither"
        );
    }
    if postgres && let Ok(parsed) = url::Url::parse(url) {
        let host = parsed.host_str().unwrap_or("localhost").to_owned();
        let port = parsed.port().unwrap_or(5432);
        let reach = tokio::net::TcpStream::connect((host.as_str(), port));
        match tokio::time::timeout(Duration::from_secs(5), reach).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => anyhow::bail!(
                "cannot reach PostgreSQL at {host}:{port} (KAANHA_DATABASE_URL): {err}"
            ),
            Err(_) => anyhow::bail!(
                "cannot reach PostgreSQL at {host}:{port} (KAANHA_DATABASE_URL): no answer within 5 s"
            ),
        }
    }
    connect_holding(config, held).await.map_err(|err| {
        anyhow::anyhow!(
            "cannot open the database at {shown} (KAANHA_DATABASE_URL): {err}{}",
            if postgres {
                ""
            } else {
                "; does the file's directory exist, and may the gateway write there?"
            }
        )
    })
}

/// A SQLite file is created when missing, as the README promises of `sqlite://fresh.db`:
/// without `mode=rwc` SQLite only opens files that exist ("unable to open database file").
fn creating_the_file(url: &str) -> String {
    let sqlite_file = url.starts_with("sqlite:") && !url.contains(":memory:");
    if !sqlite_file || url.contains("mode=") {
        return url.to_owned();
    }
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}mode=rwc")
}

/// Any constant: the advisory lock that makes instances starting together migrate one by one.
const MIGRATION_LOCK: i64 = 0x6b61_616e_6861; // "kaanha"

/// Applies every pending migration. On PostgreSQL, instances that start at once take turns
/// under an advisory lock, held by a transaction for as long as the migrations run.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    let lock = db.begin().await?;
    lock.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        .await?;
    let migrated = Migrator::up(db, None).await;
    commit(lock).await?;
    migrated
}

/// On SQLite, moves the write-ahead log into the database file and empties it, so rows just
/// rewritten (secrets sealed at start) leave no older copy in the log. Elsewhere a no-op.
pub async fn checkpoint(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
    }
    Ok(())
}

/// Copies an SQLite database into the new file `to`, consistent even while gateways write to
/// it: `VACUUM INTO` reads in one transaction and writes a compact file with no log beside it,
/// ready to be started on. PostgreSQL has its own tools.
pub async fn backup(db: &DatabaseConnection, to: &std::path::Path) -> anyhow::Result<()> {
    if db.get_database_backend() != DbBackend::Sqlite {
        anyhow::bail!(
            "backup copies an SQLite database; back up PostgreSQL with its own tools (pg_dump, or a base backup)"
        );
    }
    if to.exists() {
        anyhow::bail!("{} exists already: back up into a new file", to.display());
    }
    let path = to
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the path {} is not UTF-8", to.display()))?;
    let vacuum = Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [path.into()]);
    db.execute_raw(vacuum)
        .await
        .map_err(|err| anyhow::anyhow!("writing {}: {err}", to.display()))?;
    Ok(())
}

/// Begins a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`IMMEDIATE`): a deferred transaction that reads first and writes later fails with
/// `SQLITE_BUSY_SNAPSHOT` when another writer committed in between, and no busy timeout helps.
/// Other databases ignore the mode.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

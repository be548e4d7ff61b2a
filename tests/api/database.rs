//! Where a test's gateway keeps its data: a fresh SQLite file, or — when
//! `KAANHA_TEST_DATABASE_URL` names a reachable PostgreSQL server — a fresh PostgreSQL database
//! created for the test and dropped after it, so runs never collide and leave nothing behind.

use std::{io::Write, sync::OnceLock};

use sea_orm::{ConnectionTrait, Database};

pub struct TestDatabase {
    pub url: String,
    /// For PostgreSQL: the server URL and the database to drop at the end.
    postgres: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

/// The PostgreSQL server to test against, if one is configured and answers (checked once).
async fn postgres_server() -> Option<String> {
    static SERVER: OnceLock<Option<String>> = OnceLock::new();
    if let Some(known) = SERVER.get() {
        return known.clone();
    }
    let found = match std::env::var("KAANHA_TEST_DATABASE_URL") {
        Err(_) => {
            say(
                "KAANHA_TEST_DATABASE_URL is not set: PostgreSQL skipped, the suite runs on SQLite",
            );
            None
        }
        Ok(url) => match Database::connect(&url).await {
            Ok(db) => {
                let _ = db.close().await;
                say("PostgreSQL: every test gets its own database on KAANHA_TEST_DATABASE_URL");
                Some(url)
            }
            Err(err) => {
                say(&format!(
                    "PostgreSQL at KAANHA_TEST_DATABASE_URL is not reachable ({err}): skipped, the suite runs on SQLite"
                ));
                None
            }
        },
    };
    SERVER.get_or_init(|| found).clone()
}

/// Once per run, on the terminal even though the test harness captures output.
fn say(line: &str) {
    static SAID: OnceLock<()> = OnceLock::new();
    SAID.get_or_init(|| {
        let _ = writeln!(std::io::stderr(), "\n[kaanha-gateway tests] {line}\n");
    });
}

impl TestDatabase {
    pub async fn new() -> Self {
        match postgres_server().await {
            Some(server) => {
                let name = format!("kgw_test_{}", uuid::Uuid::now_v7().simple());
                let admin = Database::connect(&server)
                    .await
                    .expect("the PostgreSQL server answers");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("a test database can be created");
                let _ = admin.close().await;
                let mut url = url::Url::parse(&server).expect("KAANHA_TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    postgres: Some((server, name)),
                    _dir: None,
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("temporary directory");
                Self {
                    url: format!(
                        "sqlite://{}?mode=rwc",
                        dir.path().join("gateway.db").display()
                    ),
                    postgres: None,
                    _dir: Some(dir),
                }
            }
        }
    }
}

impl TestDatabase {
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

/// PostgreSQL backends of the current database waiting for a lock, in a statement whose text
/// is `LIKE` `statement` (`"%"` for any).
pub async fn lock_waits(db: &impl sea_orm::ConnectionTrait, statement: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1",
            [statement.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// Writes past the test harness's capture, for a skip the reader must see.
pub fn announce(line: &str) {
    let _ = writeln!(std::io::stderr(), "\n[kaanha-gateway tests] {line}\n");
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let admin = Database::connect(&server).await.ok()?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
    }
}

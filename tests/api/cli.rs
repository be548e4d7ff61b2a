use std::process::Command;

use crate::helpers::expect_json;

const BIN: &str = env!("CARGO_BIN_EXE_kaanha-gateway");

fn run(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("KAANHA_DATABASE_URL", database_url)
        .output()
        .expect("the binary runs")
}

#[tokio::test]
async fn keys_made_with_the_command_line_work_until_revoked_there() {
    let app = crate::helpers::spawn_app().await;

    let created = run(
        &app.database_url,
        &["api-key", "create", "--org", "org_cli", "--name", "ops key"],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let key = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("kgw_"), "stdout holds only the key: {key}");
    expect_json(app.get("/api/webhooks", &key).send().await.unwrap(), 200).await;

    let listed = run(&app.database_url, &["api-key", "list", "--org", "org_cli"]);
    let listing = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listing.contains("ops key") && listing.contains(&key[..12]),
        "{listing}"
    );
    assert!(!listing.contains(&key), "the key itself is never listed");
    let id = listing
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();

    let revoked = run(&app.database_url, &["api-key", "revoke", &id]);
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let missing = run(&app.database_url, &["api-key", "revoke", "key_nope"]);
    assert!(!missing.status.success());
    let bad_scope = run(
        &app.database_url,
        &[
            "api-key", "create", "--org", "o", "--name", "n", "--scopes", "root",
        ],
    );
    assert!(!bad_scope.status.success());
    assert!(String::from_utf8_lossy(&bad_scope.stderr).contains("unknown scope"));
}

#[test]
fn the_openapi_command_prints_the_spec() {
    let output = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        kaanha_gateway::http::routes::spec_json()
    );
}

#[test]
fn the_server_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("gateway.db").display()
    );
    let mut server = Command::new(BIN)
        .env("KAANHA_DATABASE_URL", &database_url)
        .env("KAANHA_BIND", "127.0.0.1:0")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("listening") {
        line.clear();
        assert!(
            std::io::BufRead::read_line(&mut stderr, &mut line).unwrap() > 0,
            "the server exited before listening"
        );
    }

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not stop within 15 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
}

#[test]
fn a_bad_retry_schedule_stops_the_gateway_at_start_with_the_reason() {
    let output = Command::new(BIN)
        .arg("serve")
        .env("KAANHA_RETRY_SCHEDULE", "5s,soon,2m")
        .env("KAANHA_DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("KAANHA_RETRY_SCHEDULE") || stderr.contains("--retry-schedule"),
        "{stderr}"
    );
    assert!(stderr.contains("`soon` is not a duration"), "{stderr}");
}

/// `--help` printed the database URL and the upstream proxy as set, passwords and all.
#[test]
fn help_never_shows_a_value_that_may_hold_a_password() {
    let output = Command::new(BIN)
        .arg("--help")
        .env(
            "KAANHA_DATABASE_URL",
            "postgres://gw:db-password@db.internal/gw",
        )
        .env(
            "KAANHA_UPSTREAM_PROXY",
            "http://proxy:proxy-password@proxy.internal:3128",
        )
        .env("KAANHA_METRICS_TOKEN", "metrics-token-value")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("KAANHA_DATABASE_URL"), "{help}");
    for value in ["db-password", "proxy-password", "metrics-token-value"] {
        assert!(!help.contains(value), "--help shows {value}");
    }
}

/// `kaanha-gateway openapi | head` panicked on the closed pipe; a configuration error printed a
/// 14-20 frame backtrace whenever `RUST_BACKTRACE=1` was set.
#[test]
fn a_closed_pipe_is_no_panic_and_an_error_is_one_line_without_a_backtrace() {
    use std::io::Read;

    let mut openapi = Command::new(BIN)
        .arg("openapi")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    openapi
        .stdout
        .take()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    // The reader goes away, as `head` does.
    let status = openapi.wait().unwrap();
    let mut stderr = String::new();
    openapi
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(status.success(), "{status}: {stderr}");

    let output = Command::new(BIN)
        .arg("serve")
        .env("KAANHA_BIND", "127.0.0.1:0")
        .env("RUST_BACKTRACE", "1")
        .env("KAANHA_JWT_SECRET", "short")
        .env("KAANHA_DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("kaanha-gateway: KAANHA_JWT_SECRET is 5 bytes long"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("Stack backtrace") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

/// The natural `sqlite://fresh.db` failed with "(code: 14) unable to open database file", printed
/// twice; other mistakes never said "sqlite:// or postgres://", an unreachable server said "pool
/// timed out" after 10 s, and a port in use was found only after the migrations ran.
#[tokio::test]
async fn database_and_address_mistakes_are_named_in_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let migrated = Command::new(BIN)
        .arg("migrate")
        .env("KAANHA_DATABASE_URL", &fresh)
        .output()
        .unwrap();
    assert!(migrated.status.success(), "{migrated:?}");
    assert!(dir.path().join("fresh.db").exists());

    let refused = |url: &str| {
        let output = Command::new(BIN)
            .arg("migrate")
            .env("KAANHA_DATABASE_URL", url)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{url}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    for url in ["mysql://user:hunter2@db/gw", "./gateway.db", "not a url"] {
        let said = refused(url);
        assert!(
            said.contains("sqlite://") && said.contains("postgres://"),
            "{said}"
        );
        assert!(!said.contains("hunter2"), "{said}");
    }
    let port = crate::crash::free_port();
    let said = refused(&format!("postgres://gw:hunter2@127.0.0.1:{port}/gw"));
    assert!(said.contains(&format!("127.0.0.1:{port}")), "{said}");
    assert!(
        !said.contains("pool timed out") && !said.contains("hunter2"),
        "{said}"
    );
    let missing_dir = format!("sqlite://{}", dir.path().join("no/such/dir/x.db").display());
    let said = refused(&missing_dir);
    assert_eq!(
        said.matches("unable to open database file").count(),
        1,
        "{said}"
    );
    assert!(said.contains("directory"), "{said}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let elsewhere = format!("sqlite://{}", dir.path().join("other.db").display());
    let output = Command::new(BIN)
        .arg("serve")
        .env("KAANHA_BIND", &address)
        .env("KAANHA_DATABASE_URL", &elsewhere)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains(&address) && said.contains("KAANHA_BIND"),
        "{said}"
    );
    assert!(
        !dir.path().join("other.db").exists(),
        "nothing migrated before the bind"
    );
}

#[test]
fn a_bad_value_set_in_the_environment_is_named_as_the_variable_with_the_default() {
    let output = Command::new(BIN)
        .env("KAANHA_BIND", "localhost")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        said.trim(),
        "kaanha-gateway: KAANHA_BIND=localhost is not valid: invalid socket address syntax; \
         unset it for the default, 127.0.0.1:8080"
    );
    // Typed as a flag, the flag is what is named.
    let output = Command::new(BIN)
        .args(["--bind", "localhost"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("'--bind <BIND>'"));
}

#[test]
fn each_command_lists_its_own_options_not_every_server_setting() {
    let help = |args: &[&str]| {
        let output = Command::new(BIN).args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let create = help(&["api-key", "create", "--help"]);
    for own in ["--org", "--name", "--scopes", "--database-url"] {
        assert!(create.contains(own), "{own} missing:\n{create}");
    }
    for other in [
        "--retry-schedule",
        "--bind",
        "--jwt-secret",
        "--worker-concurrency",
    ] {
        assert!(!create.contains(other), "{other} shown:\n{create}");
    }
    assert!(!help(&["migrate", "--help"]).contains("--bind"));
    assert!(!help(&["backup", "--help"]).contains("--retry-schedule"));
    // Serving is where the settings are: with `serve`, and without a command.
    assert!(help(&["serve", "--help"]).contains("--retry-schedule"));
    assert!(help(&["--help"]).contains("--retry-schedule"));
}

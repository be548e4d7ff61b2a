use anyhow::Context;
use kaanha_gateway::{
    apps,
    cli::{ApiKeyCommand, Command, IntegrationsCommand},
    config::Config,
    domain::{keys, org::OrgId, platform::Platform},
    http::routes,
    infra::db,
    startup::Application,
    telemetry,
};

/// A failure is one line on standard error, with its causes, and exit code 1: never a
/// backtrace (`RUST_BACKTRACE=1` is common in development shells), which says nothing to the
/// operator who set a wrong variable.
fn main() -> std::process::ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("the runtime starts");
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kaanha-gateway: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = kaanha_gateway::cli::parse();
    match cli.command {
        None => serve(cli.config).await,
        Some(Command::Serve(config)) => serve(config).await,
        Some(Command::Migrate(database)) => {
            let config = database.config();
            telemetry::init(&config);
            let conn = db::open(&config).await?;
            db::migrate(&conn).await?;
            println!("migrations applied to {}", redact(&config.database.url));
            Ok(())
        }
        Some(Command::Openapi) => print_to_stdout(&routes::spec_json()),
        Some(Command::Backup { database, to }) => {
            let conn = db::open(&database.config()).await?;
            db::backup(&conn, &to).await?;
            let size = std::fs::metadata(&to).map(|m| m.len()).unwrap_or_default();
            println!(
                "backed up {} to {} ({size} bytes)",
                redact(&database.url),
                to.display()
            );
            Ok(())
        }
        Some(Command::ApiKey(command)) => api_key(command).await,
        Some(Command::Integrations(IntegrationsCommand::Export {
            platform,
            out,
            base_url,
        })) => {
            let config = Config::for_database(kaanha_gateway::config::DEFAULT_DATABASE_URL);
            kaanha_gateway::catalog::install(&config)?;
            export_app(&config, platform, &out, base_url)
        }
    }
}

/// Prints `text`; a reader that stops early (`kaanha-gateway openapi | head`) is not an error.
fn print_to_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(err.into()),
        _ => Ok(()),
    }
}

/// Writes a platform's app and lists its files.
fn export_app(
    config: &Config,
    platform: Platform,
    out: &std::path::Path,
    base_url: Option<url::Url>,
) -> anyhow::Result<()> {
    let base_url = base_url
        .or_else(|| config.public_url.clone())
        .map_or(apps::DEFAULT_BASE_URL.to_owned(), |url| {
            url.as_str().trim_end_matches('/').to_owned()
        });
    let describe = apps::describe(
        &base_url,
        &config.retry_schedule,
        routes::describe::routes(),
    );
    let files = apps::generate(platform, &describe);
    apps::write(out, &files).with_context(|| format!("writing {}", out.display()))?;
    for file in &files {
        println!("{}", out.join(&file.path).display());
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    telemetry::init(&config);
    // What this instance runs with, secrets aside: the first line to read when it misbehaves.
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        role = ?config.role,
        bind = %config.bind,
        database = %redact(&config.database.url),
        public_url = config.public_url.as_ref().map_or("(from each request)", |u| u.as_str()),
        upstream = config.upstream_url.as_ref().map_or("(none)", |u| u.as_str()),
        retry_schedule = %config.retry_schedule,
        delivery_timeout = %humantime::format_duration(config.delivery_timeout),
        worker_concurrency = config.worker_concurrency,
        webhook_concurrency = config.webhook_concurrency,
        private_targets = config.allow_private_targets,
        encryption = config.security.encryption_key.is_some(),
        "starting"
    );
    let shutdown = shutdown_signal();
    let app = Application::build(config).await?;
    app.run_until(shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, so orchestrators get a graceful stop. The handlers are
/// installed now, not when first polled: a signal that arrives during start-up still counts.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let mut handlers = {
        use tokio::signal::unix::{SignalKind, signal};
        [SignalKind::interrupt(), SignalKind::terminate()].map(|kind| signal(kind).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let [interrupt, terminate] = &mut handlers;
            tokio::select! {
                Some(()) = async { interrupt.as_mut()?.recv().await } => {}
                Some(()) = async { terminate.as_mut()?.recv().await } => {}
                else => std::future::pending::<()>().await,
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received; finishing requests in flight");
    }
}

async fn api_key(command: ApiKeyCommand) -> anyhow::Result<()> {
    let (ApiKeyCommand::Create { database, .. }
    | ApiKeyCommand::List { database, .. }
    | ApiKeyCommand::Revoke { database, .. }) = &command;
    let config = database.config();
    let conn = db::open(&config).await?;
    db::migrate(&conn).await?;
    match command {
        ApiKeyCommand::Create {
            org, name, scopes, ..
        } => {
            let org = OrgId::parse(&org)
                .map_err(anyhow::Error::msg)
                .context("--org")?;
            let request = keys::NewKeyRequest::parse(&name, &scopes).map_err(|errors| {
                let why: Vec<_> = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                anyhow::anyhow!(why.join("; "))
            })?;
            let quota = config.limits.max_api_keys_per_org;
            let created = keys::create(&conn, &org, request, quota).await?;
            eprintln!(
                "created API key {} ({}) for organization {} with scopes: {}",
                created.row.id, created.row.name, created.row.org_id, created.row.scopes
            );
            eprintln!("this is the only time the key is shown; store it now:");
            println!("{}", created.key);
        }
        ApiKeyCommand::List { org, .. } => {
            let org = OrgId::parse(&org)
                .map_err(anyhow::Error::msg)
                .context("--org")?;
            let mut cursor: Option<String> = None;
            println!(
                "{:<36}  {:<14}  {:<24}  {:<30}  status",
                "id", "prefix", "name", "scopes"
            );
            loop {
                let page = keys::list(&conn, &org, cursor.as_deref(), 100).await?;
                for key in &page {
                    let status = match key.revoked_at {
                        Some(at) => format!("revoked {}", at.to_rfc3339()),
                        None => "active".to_owned(),
                    };
                    println!(
                        "{:<36}  {:<14}  {:<24}  {:<30}  {status}",
                        key.id, key.prefix, key.name, key.scopes
                    );
                }
                match page.last() {
                    Some(last) if page.len() == 100 => cursor = Some(last.id.clone()),
                    _ => break,
                }
            }
        }
        ApiKeyCommand::Revoke { id, .. } => match keys::revoke(&conn, None, &id).await? {
            Some(key) => println!(
                "revoked {} ({}) of organization {}",
                key.id, key.name, key.org_id
            ),
            None => anyhow::bail!("no API key with id `{id}`"),
        },
    }
    Ok(())
}

/// The database URL without its password, for logs.
fn redact(url: &str) -> String {
    kaanha_gateway::config::redacted(url)
}

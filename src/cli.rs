//! The command line: subcommands, with every setting of [`Config`] as a flag.

use clap::{
    CommandFactory, Parser, Subcommand,
    error::{ContextKind, ErrorKind},
};

use crate::{
    config::{Config, Database},
    domain::{named::Named, platform::Platform},
};

/// kaanha-gateway: delivers Kaanha AI events to webhooks and to Zapier, Make and n8n — signed,
/// retried and logged — and tells no-code platforms which triggers and actions exist.
///
/// Without a command it serves, with the settings below (each also a `KAANHA_*` variable).
/// Each command's `--help` lists its own options.
#[derive(Debug, Parser)]
#[command(
    name = "kaanha-gateway",
    version,
    about,
    long_about = None,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    /// What to do; without one the gateway serves.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once, at start
pub enum Command {
    /// Run the migrations, then serve the API (the default).
    Serve(Config),
    /// Run the database migrations and exit.
    Migrate(Database),
    /// Print the OpenAPI 3 document of the HTTP API.
    Openapi,
    /// Copy the SQLite database into a new file, consistent while the gateway runs (restore:
    /// stop the gateway, put the copy in the database file's place, start it).
    Backup {
        #[command(flatten)]
        database: Database,
        /// The new file to write, e.g. `backups/kaanha-2026-12-02.db`.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Create, list and revoke organization API keys.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Ready-made Zapier, Make and n8n apps, generated from the discovery document.
    #[command(subcommand)]
    Integrations(IntegrationsCommand),
}

#[derive(Debug, Subcommand)]
pub enum IntegrationsCommand {
    /// Write one platform's app into a directory, from the same catalog that
    /// `GET /api/integrations/describe` serves.
    Export {
        #[arg(long, value_parser = parse_platform)]
        platform: Platform,
        /// Where to write the app (created if missing; files the generator owns are replaced).
        #[arg(long)]
        out: std::path::PathBuf,
        /// The gateway's public URL, built into the app as the default `Gateway URL` (default:
        /// `KAANHA_PUBLIC_URL`, else `https://gateway.example.com`).
        #[arg(long)]
        base_url: Option<url::Url>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it once; only its SHA-256 hash is stored.
    Create {
        #[command(flatten)]
        database: Database,
        /// The organization the key acts for (the platform's id, e.g. `clx...`).
        #[arg(long)]
        org: String,
        /// A name to recognise the key by, e.g. "Zapier connection".
        #[arg(long)]
        name: String,
        /// Scopes to grant, space- or comma-separated (default: `webhooks integrations`).
        #[arg(long, num_args = 1.., value_delimiter = ',')]
        scopes: Vec<String>,
    },
    /// List an organization's keys (never the keys themselves).
    List {
        #[command(flatten)]
        database: Database,
        #[arg(long)]
        org: String,
    },
    /// Revoke a key by its id; it stops working at once.
    Revoke {
        #[command(flatten)]
        database: Database,
        id: String,
    },
}

fn parse_platform(name: &str) -> Result<Platform, String> {
    Platform::parse(name).ok_or_else(|| {
        let known: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
        format!("one of {}", known.join(", "))
    })
}

/// The command line, parsed. A bad value that came from a `KAANHA_*` variable is named as the
/// variable the user set (`KAANHA_BIND=localhost`), not as the flag they never typed, with the
/// default to compare; every other mistake is clap's own message.
pub fn parse() -> Cli {
    Cli::try_parse().unwrap_or_else(|err| {
        if let Some(said) = from_environment(&err) {
            eprintln!("kaanha-gateway: {said}");
            std::process::exit(2);
        }
        err.exit()
    })
}

/// The argument `--long` of this command or of any command below it.
fn with_long(command: &clap::Command, long: &str) -> Option<clap::Arg> {
    command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(long))
        .cloned()
        .or_else(|| {
            command
                .get_subcommands()
                .find_map(|sub| with_long(sub, long))
        })
}

fn from_environment(err: &clap::Error) -> Option<String> {
    if !matches!(
        err.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }
    let flag = err.get(ContextKind::InvalidArg)?.to_string();
    let value = err.get(ContextKind::InvalidValue)?.to_string();
    let long = flag.trim_start_matches('-').split([' ', '=']).next()?;
    let command = Cli::command();
    let arg = with_long(&command, long)?;
    let variable = arg.get_env()?.to_str()?;
    if std::env::var(variable).ok()? != value {
        return None; // given as a flag, which clap names well
    }
    let first_line = err.to_string();
    let first_line = first_line.lines().next().unwrap_or_default();
    let reason = match (
        first_line.rsplit_once("': "),
        err.get(ContextKind::ValidValue),
    ) {
        (Some((_, why)), _) => why.to_owned(),
        (None, Some(valid)) => format!("it must be one of {valid}"),
        (None, None) => "not a valid value".to_owned(),
    };
    let default = arg
        .get_default_values()
        .first()
        .and_then(|d| d.to_str())
        .map(|d| format!("; unset it for the default, {d}"))
        .unwrap_or_default();
    Some(format!(
        "{variable}={value} is not valid: {reason}{default}"
    ))
}

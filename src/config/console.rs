//! What the console's "Connect a platform" pages point people to.

/// Where people find the platform apps built from `integrations/`. A platform publishing its
/// apps privately shares invite links; without them the pages name the app to search for.
#[derive(Debug, Clone, clap::Args)]
pub struct ConsoleLinks {
    /// The Zapier app's invite link (from Zapier's developer console, "Sharing").
    #[arg(long, env = "KAANHA_ZAPIER_APP_URL")]
    pub zapier_app_url: Option<url::Url>,

    /// The Make app's invite link (from the app's page in Make, "Invite").
    #[arg(long, env = "KAANHA_MAKE_APP_URL")]
    pub make_app_url: Option<url::Url>,
}

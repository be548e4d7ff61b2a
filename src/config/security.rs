//! Settings that decide what a credential, a client address or an outbound request may do.
//! `check` refuses weak ones at start, with the reason, instead of serving with them.

use std::time::Duration;

use base64::Engine;
use clap::Args;
use ipnet::IpNet;

/// The shortest HS256 secret accepted: RFC 7518 asks for a key at least as long as the hash.
pub const MIN_SECRET_BYTES: usize = 32;

/// The audience of the tokens the gateway signs for the platform's API. The gateway refuses
/// any incoming token carrying it, so a forwarded action's token cannot be replayed against it.
pub const UPSTREAM_AUDIENCE: &str = "kaanha-platform-api";

#[derive(Debug, Clone, Args)]
pub struct SecurityConfig {
    /// HS256 secret that service JWTs (claims `org`, `scope`, `exp`) are signed with, at least
    /// 32 bytes; without it only API keys are accepted.
    #[arg(long, env = "KAANHA_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Longest a service JWT may still be valid for (`exp` minus now); a token minted for
    /// longer is refused.
    #[arg(long, env = "KAANHA_JWT_MAX_LIFETIME", default_value = "24h", value_parser = humantime::parse_duration)]
    pub jwt_max_lifetime: Duration,

    /// When set, a service JWT's `iss` must equal it.
    #[arg(long, env = "KAANHA_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// When set, a service JWT's `aud` must name it.
    #[arg(long, env = "KAANHA_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// HS256 secret (at least 32 bytes, not the JWT secret) that the tokens sent with
    /// forwarded actions are signed with. Needed with `KAANHA_UPSTREAM_URL`.
    #[arg(long, env = "KAANHA_UPSTREAM_JWT_SECRET", hide_env_values = true)]
    pub upstream_jwt_secret: Option<String>,

    /// A proxy for forwarded actions. Without it they go straight to the platform, whatever
    /// `HTTP(S)_PROXY` says.
    #[arg(long, env = "KAANHA_UPSTREAM_PROXY", hide_env_values = true)]
    pub upstream_proxy: Option<url::Url>,

    /// When set, `/metrics` answers only requests with `Authorization: Bearer <this token>`.
    #[arg(long, env = "KAANHA_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Largest answer read from the platform's API for an action, in bytes; a larger one is a
    /// 502.
    #[arg(long, env = "KAANHA_UPSTREAM_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub upstream_max_body_bytes: usize,

    /// Key that webhook secrets are encrypted with at rest (AES-256-GCM): base64 of 32 random
    /// bytes, e.g. `openssl rand -base64 32`.
    #[arg(long, env = "KAANHA_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,

    /// The key before the last rotation: only decrypts; rows under it are re-encrypted under
    /// `KAANHA_ENCRYPTION_KEY` at start.
    #[arg(long, env = "KAANHA_ENCRYPTION_KEY_PREVIOUS", hide_env_values = true)]
    pub encryption_key_previous: Option<String>,

    /// Failed authentications one client address may make per minute; past that its failures
    /// answer 429 with `Retry-After` (valid credentials still pass; `0`: no limit).
    #[arg(long, env = "KAANHA_AUTH_FAILURES_PER_MINUTE", default_value_t = 30)]
    pub auth_failures_per_minute: u32,

    /// How long a failed authentication waits before it is answered, to slow guessing.
    #[arg(long, env = "KAANHA_AUTH_FAILURE_DELAY", default_value = "200ms", value_parser = humantime::parse_duration)]
    pub auth_failure_delay: Duration,

    /// Proxies (CIDRs, comma-separated) whose `X-Forwarded-For` is believed: behind them the
    /// client address is the last one they did not add. Default: none, the peer is the client.
    #[arg(long, env = "KAANHA_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpNet>,

    /// Ports webhook URLs may name (comma-separated); empty: any.
    #[arg(long, env = "KAANHA_ALLOWED_PORTS", value_delimiter = ',')]
    pub allowed_ports: Vec<u16>,

    /// Who may embed the console in a frame (CSP `frame-ancestors`), e.g.
    /// `'self' https://app.kaanha.ai`.
    #[arg(long, env = "KAANHA_FRAME_ANCESTORS", default_value = "'self'")]
    pub frame_ancestors: String,

    /// Browser origins allowed to call `/mcp` (comma-separated, e.g.
    /// `https://agents.example.com`), besides `KAANHA_PUBLIC_URL`'s. A request whose `Origin`
    /// is another gets 403; clients that send no `Origin` (desktop and server agents) pass.
    #[arg(long, env = "KAANHA_MCP_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub mcp_allowed_origins: Vec<String>,
}

impl SecurityConfig {
    /// Refuses settings that would leave tenants exposed, saying which and why.
    pub fn check(&self) -> anyhow::Result<()> {
        if let Some(secret) = &self.jwt_secret {
            check_secret("KAANHA_JWT_SECRET", secret)?;
        }
        if let Some(secret) = &self.upstream_jwt_secret {
            check_secret("KAANHA_UPSTREAM_JWT_SECRET", secret)?;
            if self.jwt_secret.as_ref() == Some(secret) {
                anyhow::bail!(
                    "KAANHA_UPSTREAM_JWT_SECRET equals KAANHA_JWT_SECRET: the platform's API would then hold a key that signs tokens this gateway accepts"
                );
            }
        }
        if self.jwt_audience.as_deref() == Some(UPSTREAM_AUDIENCE) {
            anyhow::bail!(
                "KAANHA_JWT_AUDIENCE may not be `{UPSTREAM_AUDIENCE}`: that audience is the one forwarded actions carry"
            );
        }
        if let Some(key) = &self.encryption_key {
            decode_key("KAANHA_ENCRYPTION_KEY", key)?;
        }
        if let Some(key) = &self.encryption_key_previous {
            decode_key("KAANHA_ENCRYPTION_KEY_PREVIOUS", key)?;
            if self.encryption_key.is_none() {
                anyhow::bail!(
                    "KAANHA_ENCRYPTION_KEY_PREVIOUS is set but KAANHA_ENCRYPTION_KEY is not: a rotation needs the new key in KAANHA_ENCRYPTION_KEY and the old one in KAANHA_ENCRYPTION_KEY_PREVIOUS. Without a current key the secrets would be written back in plain text, so the gateway does not start"
                );
            }
        }
        if self.frame_ancestors.contains([';', ',', '\r', '\n']) {
            anyhow::bail!(
                "KAANHA_FRAME_ANCESTORS must be a list of CSP sources separated by spaces"
            );
        }
        Ok(())
    }
}

fn check_secret(name: &str, secret: &str) -> anyhow::Result<()> {
    if secret.len() < MIN_SECRET_BYTES {
        anyhow::bail!(
            "{name} is {} bytes long; it must be at least {MIN_SECRET_BYTES}: a shorter HS256 secret can be guessed, and then anyone can sign a token for any organization (unset it to accept API keys only)",
            secret.len()
        );
    }
    Ok(())
}

/// An AES-256 key from its base64 form.
pub fn decode_key(name: &str, key: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .map_err(|_| anyhow::anyhow!("{name} is not base64"))?;
    bytes.try_into().map_err(|bytes: Vec<u8>| {
        anyhow::anyhow!(
            "{name} decodes to {} bytes; AES-256 needs exactly 32 (e.g. `openssl rand -base64 32`)",
            bytes.len()
        )
    })
}

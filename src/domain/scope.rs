//! Permission scopes carried by API keys and service JWTs.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Webhooks, their logs and retries.
    Webhooks,
    /// Discovery, `me`, REST hooks, samples and actions.
    Integrations,
    /// Publishing events.
    EventsPublish,
    /// Creating, listing and revoking API keys.
    ApiKeys,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::Webhooks,
        Scope::Integrations,
        Scope::EventsPublish,
        Scope::ApiKeys,
    ];

    /// What a new API key gets when nobody asks for more.
    pub const API_KEY_DEFAULT: [Scope; 2] = [Scope::Webhooks, Scope::Integrations];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Webhooks => "webhooks",
            Scope::Integrations => "integrations",
            Scope::EventsPublish => "events:publish",
            Scope::ApiKeys => "api-keys",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Parses a space-separated list (an OAuth-style `scope` claim), skipping unknown names:
    /// a token minted for a newer gateway still works for what this one knows.
    pub fn parse_list_lenient(value: &str) -> Vec<Scope> {
        let mut scopes: Vec<Scope> = value.split_whitespace().filter_map(Self::parse).collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }

    /// Joins scopes the way they are stored and shown: space-separated.
    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn known_list() -> String {
        Self::ALL.map(|s| format!("`{}`", s.as_str())).join(", ")
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

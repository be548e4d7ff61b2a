//! The no-code platforms that subscribe through REST hooks and get a generated app.

use super::named::Named;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// Zapier: a CLI app with REST-hook triggers and create actions.
    Zapier,
    /// Make: a custom app with instant triggers and action modules.
    Make,
    /// n8n: a community node package with a trigger node and an action node.
    N8n,
}

impl Named for Platform {
    const ALL: &'static [Self] = &[Self::Zapier, Self::Make, Self::N8n];

    fn as_str(self) -> &'static str {
        match self {
            Self::Zapier => "zapier",
            Self::Make => "make",
            Self::N8n => "n8n",
        }
    }
}

impl Platform {
    /// As a person writes it, in names and messages.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Zapier => "Zapier",
            Self::Make => "Make",
            Self::N8n => "n8n",
        }
    }
}
